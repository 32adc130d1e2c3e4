#include "datasets/idx.h"

#include <zlib.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "keras/errors.h"

namespace keras::datasets {

namespace {

[[noreturn]] void fail(const std::filesystem::path& p, const std::string& what) {
  throw FileError(p.string() + ": not a readable IDX file: " + what);
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// Reads exactly n bytes or throws (a short read means a truncated or corrupt file).
void read_exact(gzFile f, const std::filesystem::path& p, unsigned char* out, size_t n) {
  while (n > 0) {
    unsigned chunk = n > (1u << 30) ? (1u << 30) : static_cast<unsigned>(n);
    int got = gzread(f, out, chunk);
    if (got <= 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      fail(p, code != Z_OK && code != Z_BUF_ERROR ? std::string("corrupt gzip data (") + msg + ")"
                                                  : "file ends before its data does");
    }
    out += got;
    n -= static_cast<size_t>(got);
  }
}

}  // namespace

Tensor read_idx_gz(const std::filesystem::path& path) {
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f) throw FileError(path.string() + ": cannot open the file");
  std::array<unsigned char, 4> magic{};
  read_exact(f.get(), path, magic.data(), magic.size());
  // Magic: two zero bytes, the element type (0x08 = unsigned byte), the number of dimensions.
  if (magic[0] != 0 || magic[1] != 0) fail(path, "bad magic number");
  if (magic[2] != 0x08) fail(path, "element type " + std::to_string(magic[2]) + " is not unsigned byte (8)");
  int rank = magic[3];
  if (rank < 1 || rank > 4) fail(path, "unsupported number of dimensions " + std::to_string(rank));
  std::vector<Dim> dims;
  size_t count = 1;
  for (int i = 0; i < rank; ++i) {
    std::array<unsigned char, 4> b{};
    read_exact(f.get(), path, b.data(), b.size());
    uint32_t d = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
    // Bounded so that a hostile header cannot ask for absurd allocations.
    if (d == 0 || d > (1u << 24) || count * d > (size_t{1} << 31))
      fail(path, "implausible dimension " + std::to_string(d));
    count *= d;
    dims.push_back(static_cast<Dim>(d));
  }
  std::vector<unsigned char> bytes(count);
  read_exact(f.get(), path, bytes.data(), count);
  unsigned char extra = 0;
  if (gzread(f.get(), &extra, 1) > 0) fail(path, "trailing data after " + std::to_string(count) + " values");
  std::vector<float> values(bytes.begin(), bytes.end());
  return Tensor(Shape(dims), std::move(values));
}

}  // namespace keras::datasets
