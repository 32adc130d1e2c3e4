// Streaming with a stateful LSTM: audio-rate features arrive one frame at a time, and each
// frame's output is needed before the next frame exists. A stateful LSTM with a batch of one
// and one timestep per call keeps its states between calls (Keras's stateful=True), so feeding
// the frames one by one gives exactly what predict() gives over the whole sequence at once;
// predict_on_batch() reusing its output allocates nothing per frame.
//
//   build/examples/stateful_streaming [--seconds S]   (default 2; prints frames/s on one thread)
#include <keras/keras.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>

using namespace keras;

int main(int argc, char** argv) {
  double seconds = 2.0;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
  const Dim features = 40, units = 64, frames = 200;

  // The model a Keras user trains on whole sequences...
  KerasTensor sequence = Input(Shape{frames, features});
  Model whole(sequence, layers::LSTM({.units = units, .return_sequences = true})(sequence));
  // ...and the same weights as a stateful streaming model: batch 1, one frame per call.
  KerasTensor frame = Input({.shape = Shape{1, features}, .batch_size = 1});
  Model stream(frame, layers::LSTM({.units = units, .stateful = true})(frame));
  stream.set_weights(whole.get_weights());
  stream.set_runtime(std::make_shared<Runtime>(RuntimeOptions{.threads = 1}));

  Tensor x = Tensor::zeros(Shape{1, frames, features});
  for (Dim i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(0.37 * double(i)));
  Tensor want = whole.predict(x);  // (1, frames, units)

  std::vector<Tensor> in{Tensor::zeros(Shape{1, 1, features})}, out;
  double max_diff = 0;
  for (Dim t = 0; t < frames; ++t) {
    std::copy(x.data() + t * features, x.data() + (t + 1) * features, in[0].data());
    stream.predict_on_batch(in, out);  // out[0]: (1, units), this frame's output
    for (Dim u = 0; u < units; ++u) max_diff = std::max(max_diff, double(std::abs(out[0][u] - want[t * units + u])));
  }
  std::cout << "frame by frame vs the whole sequence: max |difference| = " << max_diff << " over " << frames
            << " frames of " << features << " features, LSTM(" << units << ")\n";

  // Throughput: frames per second on one thread, states carried all along.
  stream.reset_states();
  long n = 0;
  auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (int k = 0; k < 1000; ++k, ++n) {
      in[0][0] = static_cast<float>(n % 7) * 0.1f;
      stream.predict_on_batch(in, out);
    }
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  std::cout << "streaming: " << static_cast<long>(double(n) / elapsed) << " frames/s (one thread)\n";
  return max_diff <= 1e-5 ? 0 : 1;
}
