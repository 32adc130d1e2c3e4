#pragma once
// Writing a file so that it appears complete or not at all: write beside the target, then rename.
#include <filesystem>

namespace keras::saving {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();  // removes the temporary file unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Where to write: a unique name in the target's directory.
  const std::filesystem::path& temp_path() const { return temp_; }
  // Renames the temporary file onto the target (atomic on POSIX).
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  bool committed_ = false;
};

}  // namespace keras::saving
