#pragma once
// A small RAII layer over the HDF5 C library: files (on disk or in memory), groups, datasets
// read as float32 tensors, string and number attributes. Every failure becomes a
// keras::FileError naming the file and the HDF5 path; HDF5's own error printing is off.
// Debian's serial HDF5 is not thread-safe, so every call here holds one process-wide lock.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "keras/tensor.h"

namespace keras::hdf5 {

using Id = std::int64_t;  // hid_t

// Page-aligned memory holding a whole file image. Pages whose contents were consumed can be
// handed back to the system, so reading big weights from an image does not need twice their size.
class ImageBuffer {
 public:
  ImageBuffer() = default;
  explicit ImageBuffer(size_t size);  // throws FileError when the memory cannot be had
  ~ImageBuffer();
  ImageBuffer(ImageBuffer&& other) noexcept;
  ImageBuffer& operator=(ImageBuffer&& other) noexcept;
  ImageBuffer(const ImageBuffer&) = delete;
  ImageBuffer& operator=(const ImageBuffer&) = delete;

  char* data() { return data_; }
  size_t size() const { return size_; }
  // Returns the whole pages inside [offset, offset + length); they then read as zeros.
  void release(size_t offset, size_t length);

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
};

// Reads `size` bytes at `offset` of an image's file from where the image came from.
using RawReader = std::function<void(std::uint64_t offset, std::uint64_t size, char* dst)>;

// What every object of one open file shares: its name for messages and, for a file opened
// from memory, the bytes HDF5 reads without copying (they must outlive every object).
struct Source {
  std::string name;
  ImageBuffer image;
  // Datasets whose bytes were released from the image at open (offset -> size): their
  // values are read through read_raw instead, straight into the caller's tensor.
  RawReader read_raw;
  std::map<std::uint64_t, std::uint64_t> detached;
};

// An owned HDF5 identifier, released on destruction.
class Handle {
 public:
  explicit Handle(Id id) : id_(id) {}
  ~Handle();
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Id get() const { return id_; }

 private:
  Id id_;
};

class Group {
 public:
  Group(std::shared_ptr<const Source> source, std::shared_ptr<Handle> id, std::string path);

  const std::string& path() const { return path_; }
  const std::string& file_name() const { return source_->name; }

  // Links relative to this group ("a/b/kernel:0"); false for a missing link anywhere on the way.
  bool has(const std::string& rel) const;
  bool has_group(const std::string& rel) const;
  bool has_dataset(const std::string& rel) const;
  Group group(const std::string& rel) const;
  // Names of the links in this group, sorted by name.
  std::vector<std::string> children() const;

  bool has_attr(const std::string& name) const;
  // A string attribute: scalar or one-element array, fixed- or variable-length.
  std::string attr_string(const std::string& name) const;
  // A list of strings; an attribute split by Keras into name0, name1... is joined back.
  // A missing attribute or an empty numeric array reads as an empty list.
  std::vector<std::string> attr_strings(const std::string& name) const;
  double attr_number(const std::string& name) const;

  Shape dataset_shape(const std::string& rel) const;
  // A dataset of any float or integer type, converted to float32.
  Tensor read(const std::string& rel) const;
  // Reads into `out`, whose shape must be the dataset's (avoids a second copy of big weights).
  void read_into(const std::string& rel, Tensor& out) const;

  // Writing. Groups are created with their missing parents.
  Group create_group(const std::string& rel) const;
  void write(const std::string& rel, const Tensor& value) const;
  // A scalar int64 dataset (an optimizer's iteration count, an int64 variable in Keras's TF files).
  void write_int64(const std::string& rel, std::int64_t value) const;
  // A variable-length UTF-8 string (h5py's str) or fixed-length bytes (h5py's bytes).
  void set_attr(const std::string& name, const std::string& value, bool variable_length = true) const;
  // An array of fixed-length byte strings, as h5py stores a list of bytes; an empty list is
  // stored as an empty float64 array, as numpy would make it.
  void set_attr(const std::string& name, const std::vector<std::string>& values) const;

  // Throws FileError naming this file and `rel` under this group.
  [[noreturn]] void fail(const std::string& rel, const std::string& what) const;
  std::string full_path(const std::string& rel) const;

 private:
  Id open_object(const std::string& rel) const;
  bool read_detached(Id dataset, Tensor& out) const;

  std::shared_ptr<const Source> source_;
  std::shared_ptr<Handle> id_;
  std::string path_;
};

class File {
 public:
  static File open(const std::filesystem::path& path);
  // Opens an HDF5 file image held in memory; `name` names it in messages. Given `read_raw`,
  // the pages of every plain float32 dataset are handed back at once and its values are later
  // read through read_raw: the image then costs little more memory than its metadata.
  static File open_image(ImageBuffer bytes, const std::string& name, RawReader read_raw = nullptr);
  // Creates (truncates) a file for writing; call close() to flush it.
  // `name` names it in messages (a file written beside its target is named after the target).
  static File create(const std::filesystem::path& path, const std::string& name = "");

  Group root() const;
  const std::string& name() const { return source_->name; }
  // Flushes and closes; throws FileError on failure. Objects still open keep it alive.
  void close();

 private:
  File(std::shared_ptr<Source> source, Id id);
  std::shared_ptr<Source> source_;
  std::shared_ptr<Handle> id_;
};

// True when the file starts with the HDF5 signature.
bool is_hdf5(const std::filesystem::path& path);

}  // namespace keras::hdf5
