#pragma once
// Random streams that follow keras::set_random_seed (dropout masks, shuffling): each user
// draws one seed from the global generator and runs its own local generator from it, so
// the global lock is taken once per call, not once per number.
#include <cstdint>
#include <string>

namespace keras::engine {

// The next 64 bits of the global generator; thread-safe.
uint64_t next_random_seed();

// The seed given to keras::set_random_seed (or one drawn once per process when it was never
// called). Training derives its randomness from it, the epoch and the optimizer's iteration
// count, not from a running stream, so a model reloaded from a checkpoint and trained on with
// the same seed draws the same shuffles and dropout masks as the run that wrote it.
uint64_t training_seed();
// A well-mixed combination of two values (splitmix64's finalizer); inline because dropout
// masks call it once per two elements.
inline uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9e3779b97f4a7c15ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
// A stable hash of a name (FNV-1a), e.g. to give each layer its own stream.
uint64_t hash_name(const std::string& name);
// The seed of a random draw in a layer: mixed from the step's seed and the layer's name when
// the call came from a training step (step_seed != 0), else the next global seed.
uint64_t layer_seed(uint64_t step_seed, const std::string& layer_name);

}  // namespace keras::engine
