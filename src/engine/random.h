#pragma once
// Random streams that follow keras::set_random_seed (dropout masks, shuffling): each user
// draws one seed from the global generator and runs its own local generator from it, so
// the global lock is taken once per call, not once per number.
#include <cstdint>

namespace keras::engine {

// The next 64 bits of the global generator; thread-safe.
uint64_t next_random_seed();

}  // namespace keras::engine
