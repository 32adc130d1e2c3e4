// Keras 3 .keras archives (KERAS_SPEC §8.2): a zip of metadata.json, config.json and
// model.weights.h5, read and written through libzip. HDF5 opens the weights file from memory;
// the weights' own bytes are then read from the archive straight into the model.
#include <zip.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/weight_init.h"
#include "keras/errors.h"
#include "keras/saving.h"
#include "saving/keras_files.h"

namespace keras::saving {

namespace {

struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
using ZipFilePtr = std::unique_ptr<zip_file_t, ZipFileCloser>;

// The entry's uncompressed size, refused when no compression could explain it (a damaged header).
zip_uint64_t entry_size(zip_t* z, zip_uint64_t index, const std::string& where) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(z, index, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
    throw FileError(where + ": cannot read the entry's size (" + zip_strerror(z) + ")");
  if ((st.valid & ZIP_STAT_COMP_SIZE) && st.size / 1100 > st.comp_size + 1024)
    throw FileError(where + ": the entry claims " + std::to_string(st.size) + " bytes, more than it can hold");
  return st.size;
}

void read_entry_into(zip_t* z, zip_uint64_t index, const std::string& where, char* dst, zip_uint64_t size) {
  ZipFilePtr f(zip_fopen_index(z, index, 0));
  if (!f) throw FileError(where + ": cannot open the entry (" + zip_strerror(z) + ")");
  for (zip_uint64_t done = 0; done < size;) {
    zip_int64_t n = zip_fread(f.get(), dst + done, size - done);
    if (n <= 0) throw FileError(where + ": cannot read the entry (" + std::string(zip_file_strerror(f.get())) + ")");
    done += static_cast<zip_uint64_t>(n);
  }
}

nlohmann::json parse_json_entry(const std::vector<char>& bytes, const std::string& where) {
  try {
    return nlohmann::json::parse(bytes.begin(), bytes.end());
  } catch (const nlohmann::json::exception& e) {
    throw FileError(where + ": invalid JSON: " + e.what());
  }
}

int major_of(const std::string& version, int fallback) {
  return !version.empty() && version[0] >= '1' && version[0] <= '9' ? version[0] - '0' : fallback;
}

// Random access into a STORED entry: HDF5 datasets are read from the archive straight into
// the model's weights, never held twice.
class StoredEntry {
 public:
  StoredEntry(const std::filesystem::path& path, const std::string& entry)
      : where_(path.string() + " (" + entry + ")") {
    int code = 0;
    zip_ = zip_open(path.c_str(), ZIP_RDONLY, &code);
    zip_int64_t index = zip_ ? zip_name_locate(zip_, entry.c_str(), 0) : -1;
    file_ = index >= 0 ? zip_fopen_index(zip_, static_cast<zip_uint64_t>(index), 0) : nullptr;
  }
  ~StoredEntry() {
    if (file_) zip_fclose(file_);
    if (zip_) zip_discard(zip_);
  }
  StoredEntry(const StoredEntry&) = delete;
  StoredEntry& operator=(const StoredEntry&) = delete;

  // libzip seeks only in uncompressed entries, which is how Keras stores them.
  bool seekable() { return file_ && zip_fseek(file_, 0, SEEK_SET) == 0; }

  void read(std::uint64_t offset, std::uint64_t size, char* dst) {
    if (zip_fseek(file_, static_cast<zip_int64_t>(offset), SEEK_SET) != 0) fail();
    for (std::uint64_t done = 0; done < size;) {
      zip_int64_t n = zip_fread(file_, dst + done, size - done);
      if (n <= 0) fail();
      done += static_cast<std::uint64_t>(n);
    }
  }

 private:
  [[noreturn]] void fail() {
    throw FileError(where_ + ": cannot read the weights (" + std::string(zip_file_strerror(file_)) + ")");
  }
  std::string where_;
  zip_t* zip_ = nullptr;
  zip_file_t* file_ = nullptr;
};

struct ZipWriter {
  zip_t* z = nullptr;
  std::string name;
  ~ZipWriter() {
    if (z) zip_discard(z);
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw FileError(name + ": cannot " + what + " (" + (z ? zip_strerror(z) : "") + ")");
  }
  void add(const std::string& entry, zip_source_t* source) {
    if (!source) fail("add " + entry);
    zip_int64_t index = zip_file_add(z, entry.c_str(), source, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(source);
      fail("add " + entry);
    }
    // Keras writes every entry uncompressed (ZIP_STORED).
    if (zip_set_file_compression(z, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0) != 0) fail("store " + entry);
  }
};

ConfigContext archive_context(const ZipReader& zip, const std::filesystem::path& path) {
  ConfigContext ctx{.keras_major = 3, .source = path.string()};
  if (zip.has("metadata.json")) {
    nlohmann::json m = parse_json_entry(zip.read("metadata.json"), path.string() + " (metadata.json)");
    if (m.is_object() && m.contains("keras_version") && m["keras_version"].is_string())
      ctx.keras_version = m["keras_version"];
  }
  ctx.keras_major = major_of(ctx.keras_version, 3);
  return ctx;
}

}  // namespace

ZipReader::ZipReader(const std::filesystem::path& path) : path_(path) {
  int code = 0;
  zip_ = zip_open(path.c_str(), ZIP_RDONLY, &code);
  if (!zip_) {
    zip_error_t err;
    zip_error_init_with_code(&err, code);
    std::string why = zip_error_strerror(&err);
    zip_error_fini(&err);
    throw FileError(path.string() + ": cannot open as a zip archive (" + why + ")");
  }
}

ZipReader::~ZipReader() { zip_discard(static_cast<zip_t*>(zip_)); }

bool ZipReader::has(const std::string& entry) const {
  return zip_name_locate(static_cast<zip_t*>(zip_), entry.c_str(), 0) >= 0;
}

zip_uint64_t ZipReader::locate(const std::string& entry) const {
  zip_int64_t index = zip_name_locate(static_cast<zip_t*>(zip_), entry.c_str(), 0);
  if (index < 0) throw FileError(path_.string() + ": the archive has no " + entry);
  return static_cast<zip_uint64_t>(index);
}

std::vector<char> ZipReader::read(const std::string& entry) const {
  auto* z = static_cast<zip_t*>(zip_);
  std::string where = path_.string() + " (" + entry + ")";
  zip_uint64_t index = locate(entry), size = entry_size(z, index, where);
  std::vector<char> bytes(size);
  read_entry_into(z, index, where, bytes.data(), size);
  return bytes;
}

hdf5::ImageBuffer ZipReader::read_image(const std::string& entry) const {
  auto* z = static_cast<zip_t*>(zip_);
  std::string where = path_.string() + " (" + entry + ")";
  zip_uint64_t index = locate(entry), size = entry_size(z, index, where);
  hdf5::ImageBuffer image(size);
  read_entry_into(z, index, where, image.data(), size);
  return image;
}

hdf5::File open_archive_weights(const ZipReader& zip, const std::filesystem::path& path) {
  if (!zip.has("model.weights.h5"))
    throw FileError(path.string() + (zip.has("model.weights.npz")
                                         ? ": weights saved as model.weights.npz are not supported; save with the "
                                           "default weights_format=\"h5\""
                                         : ": the archive has no model.weights.h5"));
  std::string name = path.string() + " (model.weights.h5)";
  auto entry = std::make_shared<StoredEntry>(path, "model.weights.h5");
  if (!entry->seekable()) return hdf5::File::open_image(zip.read_image("model.weights.h5"), name);
  hdf5::RawReader read_raw = [entry](std::uint64_t offset, std::uint64_t size, char* dst) {
    entry->read(offset, size, dst);
  };
  return hdf5::File::open_image(zip.read_image("model.weights.h5"), name, std::move(read_raw));
}

void write_keras_archive(const std::filesystem::path& out, const std::string& metadata, const std::string& config,
                         const std::filesystem::path& weights_h5, const std::string& display_name) {
  ZipWriter w{nullptr, display_name};
  int code = 0;
  w.z = zip_open(out.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (!w.z) throw FileError(display_name + ": cannot create the zip archive (error " + std::to_string(code) + ")");
  w.add("metadata.json", zip_source_buffer(w.z, metadata.data(), metadata.size(), 0));
  w.add("config.json", zip_source_buffer(w.z, config.data(), config.size(), 0));
  w.add("model.weights.h5", zip_source_file(w.z, weights_h5.c_str(), 0, -1));
  if (zip_close(w.z) != 0) w.fail("write the archive");
  w.z = nullptr;
}

Model load_keras_archive(const std::filesystem::path& path) {
  ZipReader zip(path);
  ConfigContext ctx = archive_context(zip, path);
  nlohmann::json config = parse_json_entry(zip.read("config.json"), path.string() + " (config.json)");
  hdf5::File weights = open_archive_weights(zip, path);
  engine::SkipInitializers every_weight_comes_from_the_file;
  Model model = model_from_config(config, ctx);
  load_keras3_weights(model, weights.root());
  load_optimizer_keras3(model, weights.root());
  return model;
}

}  // namespace keras::saving
