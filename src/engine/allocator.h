#pragma once

namespace keras::engine {

// Training allocates and frees activation-sized buffers (megabytes) every step. With glibc's
// defaults each one over 128 KiB is mapped fresh and freed heap goes back to the OS, so about
// a third of a step went to page faults (one Fashion-MNIST epoch of the keras.io convnet: 26 s
// before, 18 s after, examples/fashion_mnist --epochs 1). This keeps such buffers in the heap:
// mmap threshold 32 MiB (glibc's maximum), trim threshold 1 GiB. Process-wide, set once, on
// the first fit()/train_on_batch(); a no-op on other C libraries. Replaced when activation
// memory is planned per input shape.
void keep_training_buffers_in_heap();

}  // namespace keras::engine
