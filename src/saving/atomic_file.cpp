#include "saving/atomic_file.h"

#include <unistd.h>

#include <atomic>
#include <system_error>

#include "keras/errors.h"

namespace keras::saving {

AtomicFile::AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
  static std::atomic<unsigned> counter{0};
  temp_ = target_;
  temp_ += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
  }
}

void AtomicFile::commit() {
  std::error_code ec;
  std::filesystem::rename(temp_, target_, ec);
  if (ec) throw FileError(target_.string() + ": cannot write: " + ec.message());
  committed_ = true;
}

}  // namespace keras::saving
