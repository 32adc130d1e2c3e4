#pragma once
// The CPU backend for one instruction-set level (tests run every level this CPU has).
#include "backends/backend.h"
#include "backends/cpu/kernels/igemm.h"

namespace keras::backends::cpu {
const Backend& backend_for(Isa isa);
}
