#include "saving/hdf5.h"

#include <hdf5.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>

#include "keras/errors.h"

namespace keras::hdf5 {

static_assert(std::is_same_v<Id, hid_t>, "hdf5::Id must be hid_t");

namespace {

// HDF5 keeps global state: serialize all calls, and silence its printing once.
std::unique_lock<std::recursive_mutex> guard() {
  static std::recursive_mutex m;
  std::unique_lock lock(m);
  static bool silenced = false;
  if (!silenced) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    silenced = true;
  }
  return lock;
}

herr_t first_error(unsigned, const H5E_error2_t* err, void* out) {
  auto* s = static_cast<std::string*>(out);
  if (s->empty() && err && err->desc) *s = err->desc;
  return 0;
}

// The most specific message on HDF5's error stack (then cleared), e.g. "file signature not found".
std::string hdf5_reason() {
  std::string s;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, &s);
  H5Eclear2(H5E_DEFAULT);
  return s;
}

[[noreturn]] void fail_file(const std::string& file, const std::string& what) {
  std::string why = hdf5_reason();
  throw FileError(file + ": " + what + (why.empty() ? "" : " (" + why + ")"));
}

std::shared_ptr<Handle> own(Id id) { return std::make_shared<Handle>(id); }

Id check(Id id, const Group& g, const std::string& rel, const std::string& what) {
  if (id < 0) g.fail(rel, what);
  return id;
}

void check(herr_t status, const Group& g, const std::string& rel, const std::string& what) {
  if (status < 0) g.fail(rel, what);
}

std::vector<std::string> split_path(const std::string& rel) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    if (end > start) parts.push_back(rel.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// Element count of a dataspace's extent; fails on more than fits in memory.
Dim extent(Id space, const Group& g, const std::string& rel, std::vector<Dim>* dims_out) {
  int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) g.fail(rel, "cannot read the dataspace");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0) g.fail(rel, "cannot read the dimensions");
  Dim n = H5Sget_simple_extent_type(space) == H5S_NULL ? 0 : 1;
  for (hsize_t d : dims) {
    if (d > static_cast<hsize_t>(std::numeric_limits<Dim>::max() / 8) ||
        (d != 0 && n > std::numeric_limits<Dim>::max() / 8 / static_cast<Dim>(d)))
      g.fail(rel, "has impossibly large dimensions");
    n *= static_cast<Dim>(d);
    if (dims_out) dims_out->push_back(static_cast<Dim>(d));
  }
  return n;
}

std::string trim_fixed(const char* p, size_t size, H5T_str_t pad) {
  size_t len = strnlen(p, size);
  std::string s(p, len);
  if (pad == H5T_STR_SPACEPAD)
    while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::vector<std::string> read_string_attr(Id attr, Id type, Id space, Dim n, const Group& g, const std::string& what) {
  std::vector<std::string> out;
  if (H5Tis_variable_str(type) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type));
    std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
    check(H5Aread(attr, mem.get(), ptrs.data()), g, "", "cannot read " + what);
    for (char* p : ptrs) out.emplace_back(p ? p : "");
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(mem.get(), space, H5P_DEFAULT, ptrs.data());
#else
    H5Dvlen_reclaim(mem.get(), space, H5P_DEFAULT, ptrs.data());
#endif
    return out;
  }
  size_t size = H5Tget_size(type);
  if (size == 0 || size > (1u << 30) / static_cast<size_t>(std::max<Dim>(n, 1)))
    g.fail("", what + " has an invalid string size");
  std::vector<char> buf(size * static_cast<size_t>(n) + 1, '\0');
  Handle mem(H5Tcopy(type));
  check(H5Aread(attr, mem.get(), buf.data()), g, "", "cannot read " + what);
  H5T_str_t pad = H5Tget_strpad(type);
  for (Dim i = 0; i < n; ++i) out.push_back(trim_fixed(buf.data() + static_cast<size_t>(i) * size, size, pad));
  return out;
}

Handle open_attr(const Group& g, Id obj, const std::string& name) {
  Id a = H5Aopen(obj, name.c_str(), H5P_DEFAULT);
  if (a < 0) g.fail("", "cannot open attribute \"" + name + "\"");
  return Handle(a);
}

}  // namespace

// ---------------------------------------------------------------- ImageBuffer

ImageBuffer::ImageBuffer(size_t size) : size_(size) {
  if (size == 0) return;
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw FileError("cannot allocate " + std::to_string(size) + " bytes for a file image");
  data_ = static_cast<char*>(p);
#ifdef MADV_HUGEPAGE
  madvise(data_, size_, MADV_HUGEPAGE);  // fewer page faults while the image is filled
#endif
}

ImageBuffer::~ImageBuffer() {
  if (data_) munmap(data_, size_);
}

ImageBuffer::ImageBuffer(ImageBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

ImageBuffer& ImageBuffer::operator=(ImageBuffer&& other) noexcept {
  if (this != &other) {
    if (data_) munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void ImageBuffer::release(size_t offset, size_t length) {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t begin = (offset + page - 1) / page * page, end = (offset + length) / page * page;
  if (data_ && end > begin && end <= size_) madvise(data_ + begin, end - begin, MADV_DONTNEED);
}

// ---------------------------------------------------------------- Handle

Handle::~Handle() {
  if (id_ < 0) return;
  auto lock = guard();
  H5Idec_ref(id_);
  H5Eclear2(H5E_DEFAULT);
}

// ---------------------------------------------------------------- Group: navigation

Group::Group(std::shared_ptr<const Source> source, std::shared_ptr<Handle> id, std::string path)
    : source_(std::move(source)), id_(std::move(id)), path_(std::move(path)) {}

std::string Group::full_path(const std::string& rel) const {
  if (rel.empty()) return path_;
  return path_ == "/" ? "/" + rel : path_ + "/" + rel;
}

void Group::fail(const std::string& rel, const std::string& what) const {
  std::string why = hdf5_reason();
  throw FileError(source_->name + ": HDF5 object \"" + full_path(rel) + "\": " + what +
                  (why.empty() ? "" : " (" + why + ")"));
}

bool Group::has(const std::string& rel) const {
  auto lock = guard();
  std::string prefix;
  for (const std::string& part : split_path(rel)) {
    prefix += (prefix.empty() ? "" : "/") + part;
    if (H5Lexists(id_->get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
  }
  return !prefix.empty();
}

Id Group::open_object(const std::string& rel) const {
  if (!has(rel)) fail(rel, "does not exist");
  return check(H5Oopen(id_->get(), rel.c_str(), H5P_DEFAULT), *this, rel, "cannot be opened");
}

bool Group::has_group(const std::string& rel) const {
  auto lock = guard();
  if (!has(rel)) return false;
  Handle o(open_object(rel));
  return H5Iget_type(o.get()) == H5I_GROUP;
}

bool Group::has_dataset(const std::string& rel) const {
  auto lock = guard();
  if (!has(rel)) return false;
  Handle o(open_object(rel));
  return H5Iget_type(o.get()) == H5I_DATASET;
}

Group Group::group(const std::string& rel) const {
  auto lock = guard();
  auto o = own(open_object(rel));
  if (H5Iget_type(o->get()) != H5I_GROUP) fail(rel, "is not a group");
  return Group(source_, std::move(o), full_path(rel));
}

std::vector<std::string> Group::children() const {
  auto lock = guard();
  H5G_info_t info;
  check(H5Gget_info(id_->get(), &info), *this, "", "cannot list the group");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t len = H5Lget_name_by_idx(id_->get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) fail("", "cannot list the group");
    std::string name(static_cast<size_t>(len) + 1, '\0');
    H5Lget_name_by_idx(id_->get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<size_t>(len));
    names.push_back(std::move(name));
  }
  return names;
}

// ---------------------------------------------------------------- Group: attributes

bool Group::has_attr(const std::string& name) const {
  auto lock = guard();
  htri_t r = H5Aexists(id_->get(), name.c_str());
  H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

std::vector<std::string> Group::attr_strings(const std::string& name) const {
  auto lock = guard();
  if (!has_attr(name)) {
    std::vector<std::string> all;
    for (int chunk = 0; has_attr(name + std::to_string(chunk)); ++chunk) {
      auto part = attr_strings(name + std::to_string(chunk));
      all.insert(all.end(), part.begin(), part.end());
    }
    return all;
  }
  std::string what = "attribute \"" + name + "\"";
  Handle attr = open_attr(*this, id_->get(), name);
  Handle type(check(H5Aget_type(attr.get()), *this, "", "cannot read the type of " + what));
  Handle space(check(H5Aget_space(attr.get()), *this, "", "cannot read the shape of " + what));
  Dim n = extent(space.get(), *this, "", nullptr);
  if (H5Tget_class(type.get()) != H5T_STRING) {
    if (n == 0) return {};
    fail("", what + " is not a string");
  }
  if (n > (1 << 24)) fail("", what + " has too many elements");
  return read_string_attr(attr.get(), type.get(), space.get(), n, *this, what);
}

std::string Group::attr_string(const std::string& name) const {
  auto lock = guard();
  if (!has_attr(name)) fail("", "has no attribute \"" + name + "\"");
  auto all = attr_strings(name);
  if (all.size() != 1)
    fail("", "attribute \"" + name + "\" holds " + std::to_string(all.size()) + " strings, expected one");
  return all[0];
}

double Group::attr_number(const std::string& name) const {
  auto lock = guard();
  std::string what = "attribute \"" + name + "\"";
  Handle attr = open_attr(*this, id_->get(), name);
  Handle type(check(H5Aget_type(attr.get()), *this, "", "cannot read the type of " + what));
  Handle space(check(H5Aget_space(attr.get()), *this, "", "cannot read the shape of " + what));
  H5T_class_t cls = H5Tget_class(type.get());
  if ((cls != H5T_INTEGER && cls != H5T_FLOAT) || extent(space.get(), *this, "", nullptr) != 1)
    fail("", what + " is not a single number");
  double v = 0;
  check(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v), *this, "", "cannot read " + what);
  return v;
}

// ---------------------------------------------------------------- Group: datasets

namespace {

struct DatasetInfo {
  std::vector<Dim> dims;
  Dim count = 0;
};

DatasetInfo inspect_dataset(const Group& g, Id ds, const std::string& rel) {
  Handle type(check(H5Dget_type(ds), g, rel, "cannot read the data type"));
  H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) g.fail(rel, "holds neither floats nor integers");
  Handle space(check(H5Dget_space(ds), g, rel, "cannot read the dataspace"));
  DatasetInfo info;
  info.count = extent(space.get(), g, rel, &info.dims);
  // A damaged header may claim far more values than the file holds: refuse before allocating.
  Handle dcpl(check(H5Dget_create_plist(ds), g, rel, "cannot read the creation properties"));
  bool filtered = H5Pget_nfilters(dcpl.get()) > 0;
  double stored = static_cast<double>(H5Dget_storage_size(ds));
  double claimed = static_cast<double>(info.count) * static_cast<double>(H5Tget_size(type.get()));
  if (claimed > std::max(stored, 1e6) * (filtered ? 4096.0 : 1.0))
    g.fail(rel, "claims " + std::to_string(info.count) + " values, more than the file holds");
  return info;
}

}  // namespace

Shape Group::dataset_shape(const std::string& rel) const {
  auto lock = guard();
  Handle ds(open_object(rel));
  if (H5Iget_type(ds.get()) != H5I_DATASET) fail(rel, "is not a dataset");
  return Shape(inspect_dataset(*this, ds.get(), rel).dims);
}

void Group::read_into(const std::string& rel, Tensor& out) const {
  auto lock = guard();
  Handle ds(open_object(rel));
  if (H5Iget_type(ds.get()) != H5I_DATASET) fail(rel, "is not a dataset");
  DatasetInfo info = inspect_dataset(*this, ds.get(), rel);
  if (Shape(info.dims) != out.shape())
    fail(rel, "has shape " + Shape(info.dims).str() + ", expected " + out.shape().str());
  if (info.count == 0 || read_detached(ds.get(), out)) return;
  check(H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), *this, rel,
        "cannot read the values");
}

// Detached datasets hold float32 little-endian values in one contiguous run (checked at open).
bool Group::read_detached(Id ds, Tensor& out) const {
  if (source_->detached.empty()) return false;
  haddr_t offset = H5Dget_offset(ds);
  auto it = source_->detached.find(offset);
  if (offset == HADDR_UNDEF || it == source_->detached.end()) return false;
  if (it->second != static_cast<std::uint64_t>(out.size()) * sizeof(float)) return false;
  source_->read_raw(offset, it->second, reinterpret_cast<char*>(out.data()));
  return true;
}

Tensor Group::read(const std::string& rel) const {
  auto lock = guard();
  try {
    Tensor t(dataset_shape(rel));
    read_into(rel, t);
    return t;
  } catch (const std::bad_alloc&) {
    fail(rel, "is too large to read into memory");
  }
}

// ---------------------------------------------------------------- Group: writing

Group Group::create_group(const std::string& rel) const {
  auto lock = guard();
  if (has(rel)) return group(rel);
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Id g = check(H5Gcreate2(id_->get(), rel.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), *this, rel,
               "cannot create the group");
  return Group(source_, own(g), full_path(rel));
}

void Group::write(const std::string& rel, const Tensor& value) const {
  auto lock = guard();
  std::vector<hsize_t> dims;
  for (Dim d : value.shape()) dims.push_back(static_cast<hsize_t>(d));
  Handle space(value.rank() == 0 ? H5Screate(H5S_SCALAR)
                                 : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Handle ds(
      check(H5Dcreate2(id_->get(), rel.c_str(), H5T_IEEE_F32LE, space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
            *this, rel, "cannot create the dataset"));
  if (value.size() > 0)
    check(H5Dwrite(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, value.data()), *this, rel,
          "cannot write the values");
}

void Group::write_int64(const std::string& rel, std::int64_t value) const {
  auto lock = guard();
  Handle space(H5Screate(H5S_SCALAR));
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Handle ds(check(H5Dcreate2(id_->get(), rel.c_str(), H5T_STD_I64LE, space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
                  *this, rel, "cannot create the dataset"));
  check(H5Dwrite(ds.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value), *this, rel,
        "cannot write the value");
}

void Group::set_attr(const std::string& name, const std::string& value, bool variable_length) const {
  auto lock = guard();
  Handle type(H5Tcopy(H5T_C_S1));
  if (variable_length) {
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
  } else {
    H5Tset_size(type.get(), std::max<size_t>(value.size(), 1));
    H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  }
  Handle space(H5Screate(H5S_SCALAR));
  if (has_attr(name)) H5Adelete(id_->get(), name.c_str());
  Handle attr(check(H5Acreate2(id_->get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), *this, "",
                    "cannot create attribute \"" + name + "\""));
  const char* p = value.c_str();
  check(variable_length ? H5Awrite(attr.get(), type.get(), &p) : H5Awrite(attr.get(), type.get(), p), *this, "",
        "cannot write attribute \"" + name + "\"");
}

void Group::set_attr(const std::string& name, const std::vector<std::string>& values) const {
  auto lock = guard();
  if (has_attr(name)) H5Adelete(id_->get(), name.c_str());
  hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr));
  std::string what = "attribute \"" + name + "\"";
  if (values.empty()) {
    Handle attr(check(H5Acreate2(id_->get(), name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                      *this, "", "cannot create " + what));
    return;
  }
  size_t width = 1;
  for (const std::string& v : values) width = std::max(width, v.size());
  std::vector<char> buf(width * values.size(), '\0');
  for (size_t i = 0; i < values.size(); ++i) std::memcpy(buf.data() + i * width, values[i].data(), values[i].size());
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), width);
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  Handle attr(check(H5Acreate2(id_->get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), *this, "",
                    "cannot create " + what));
  check(H5Awrite(attr.get(), type.get(), buf.data()), *this, "", "cannot write " + what);
}

// ---------------------------------------------------------------- File

File::File(std::shared_ptr<Source> source, Id id) : source_(std::move(source)), id_(own(id)) {}

File File::open(const std::filesystem::path& path) {
  auto lock = guard();
  auto source = std::make_shared<Source>(Source{path.string(), {}});
  if (!std::filesystem::is_regular_file(path)) throw FileError(path.string() + ": no such file");
  Id id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) fail_file(source->name, "cannot open as an HDF5 file");
  return File(std::move(source), id);
}

namespace {

// A dataset whose values can be read without HDF5: contiguous, unfiltered float32 little-endian.
void detach_if_plain(Id ds, Source& source) {
  Handle type(H5Dget_type(ds)), dcpl(H5Dget_create_plist(ds));
  if (type.get() < 0 || dcpl.get() < 0 || H5Tequal(type.get(), H5T_IEEE_F32LE) <= 0 ||
      H5Tequal(H5T_NATIVE_FLOAT, H5T_IEEE_F32LE) <= 0)
    return;
  if (H5Pget_layout(dcpl.get()) != H5D_CONTIGUOUS || H5Pget_nfilters(dcpl.get()) != 0) return;
  haddr_t offset = H5Dget_offset(ds);
  hsize_t size = H5Dget_storage_size(ds);
  if (offset == HADDR_UNDEF || size == 0 || offset >= source.image.size() || size > source.image.size() - offset)
    return;
  source.detached[offset] = size;
  source.image.release(static_cast<size_t>(offset), static_cast<size_t>(size));
}

// Every dataset below `group`, within a budget: a damaged file may link a group into itself.
void detach_all(Id group, Source& source, int depth, long& budget) {
  H5G_info_t info;
  if (depth > 32 || H5Gget_info(group, &info) < 0) return;
  for (hsize_t i = 0; i < info.nlinks && --budget > 0; ++i) {
    Handle obj(H5Oopen_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT));
    if (obj.get() < 0) continue;
    if (H5Iget_type(obj.get()) == H5I_DATASET) detach_if_plain(obj.get(), source);
    if (H5Iget_type(obj.get()) == H5I_GROUP) detach_all(obj.get(), source, depth + 1, budget);
  }
}

// The core (in-memory) driver copies a file image at every step unless its callbacks say
// otherwise: these hand out our own buffer instead, so HDF5 reads it in place. The Source keeps
// the buffer alive until every object of the file is closed.
void* image_malloc(size_t, H5FD_file_image_op_t, void* image) { return static_cast<ImageBuffer*>(image)->data(); }
void* image_memcpy(void* dst, const void* src, size_t, H5FD_file_image_op_t, void*) {
  return dst == src ? dst : nullptr;  // only ever our buffer onto itself
}
void* image_realloc(void*, size_t, H5FD_file_image_op_t, void*) { return nullptr; }  // read-only
herr_t image_free(void*, H5FD_file_image_op_t, void*) { return 0; }
void* udata_copy(void* image) { return image; }
herr_t udata_free(void*) { return 0; }

Id open_in_place(ImageBuffer& image) {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5FD_file_image_callbacks_t callbacks = {image_malloc, image_memcpy, image_realloc, image_free,
                                           udata_copy,   udata_free,   &image};
  if (fapl.get() < 0 || H5Pset_fapl_core(fapl.get(), 1 << 16, 0) < 0 ||
      H5Pset_file_image_callbacks(fapl.get(), &callbacks) < 0 ||
      H5Pset_file_image(fapl.get(), image.data(), image.size()) < 0)
    return -1;
  return H5Fopen("image.h5", H5F_ACC_RDONLY, fapl.get());
}

}  // namespace

File File::open_image(ImageBuffer bytes, const std::string& name, RawReader read_raw) {
  auto lock = guard();
  auto source = std::make_shared<Source>(Source{name, std::move(bytes), std::move(read_raw), {}});
  if (source->image.size() == 0) throw FileError(name + ": empty HDF5 file");
  Id id = open_in_place(source->image);
  if (id < 0) fail_file(name, "cannot open as an HDF5 file");
  if (source->read_raw) {
    Handle root(H5Gopen2(id, "/", H5P_DEFAULT));
    long budget = 1 << 20;
    if (root.get() >= 0) detach_all(root.get(), *source, 0, budget);
    H5Eclear2(H5E_DEFAULT);
  }
  return File(std::move(source), id);
}

File File::create(const std::filesystem::path& path, const std::string& name) {
  auto lock = guard();
  auto source = std::make_shared<Source>(Source{name.empty() ? path.string() : name, {}});
  Id id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) fail_file(source->name, "cannot create an HDF5 file");
  return File(std::move(source), id);
}

Group File::root() const {
  auto lock = guard();
  Id g = H5Gopen2(id_->get(), "/", H5P_DEFAULT);
  if (g < 0) fail_file(source_->name, "cannot open the root group");
  return Group(source_, own(g), "/");
}

void File::close() {
  auto lock = guard();
  if (H5Fflush(id_->get(), H5F_SCOPE_GLOBAL) < 0) fail_file(source_->name, "cannot write the file");
  id_.reset();
}

bool is_hdf5(const std::filesystem::path& path) {
  static const char kMagic[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  std::ifstream in(path, std::ios::binary);
  char buf[8] = {};
  return in.read(buf, 8) && std::memcmp(buf, kMagic, 8) == 0;
}

}  // namespace keras::hdf5
