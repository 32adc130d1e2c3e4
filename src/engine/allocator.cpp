#include "engine/allocator.h"

#include <mutex>
#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace keras::engine {

void keep_training_buffers_in_heap() {
#ifdef __GLIBC__
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  });
#endif
}

}  // namespace keras::engine
