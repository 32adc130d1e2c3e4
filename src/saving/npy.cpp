// The .npy format (numpy/lib/format.py): magic, version, a Python-dict header, raw data.
// No Debian package reads it from C++, so this small reader is ours; it bounds-checks everything.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <regex>

#include "keras/errors.h"
#include "keras/io.h"
#include "saving/atomic_file.h"

namespace keras::io {

namespace {

struct Header {
  char byte_order = '<';
  char kind = 'f';
  size_t item_size = 4;
  bool fortran_order = false;
  std::vector<Dim> shape;
};

[[noreturn]] void fail(const std::filesystem::path& p, const std::string& what) {
  throw FileError(p.string() + ": not a readable .npy file: " + what);
}

Header parse_header(const std::filesystem::path& path, const std::string& h) {
  static const std::regex descr_re(R"('descr'\s*:\s*'([<>|=])([fiub])(\d+)')");
  static const std::regex order_re(R"('fortran_order'\s*:\s*(True|False))");
  static const std::regex shape_re(R"('shape'\s*:\s*\(([^)]*)\))");
  std::smatch m;
  Header hd;
  if (!std::regex_search(h, m, descr_re)) fail(path, "unsupported dtype in header " + h);
  hd.byte_order = m[1].str()[0];
  hd.kind = m[2].str()[0];
  hd.item_size = std::stoul(m[3].str());
  bool ok = (hd.kind == 'f' && (hd.item_size == 4 || hd.item_size == 8 || hd.item_size == 2)) ||
            ((hd.kind == 'i' || hd.kind == 'u') &&
             (hd.item_size == 1 || hd.item_size == 2 || hd.item_size == 4 || hd.item_size == 8)) ||
            (hd.kind == 'b' && hd.item_size == 1);
  if (!ok) fail(path, "unsupported dtype " + m[2].str() + m[3].str());
  if (!std::regex_search(h, m, order_re)) fail(path, "no fortran_order in header");
  hd.fortran_order = m[1] == "True";
  if (!std::regex_search(h, m, shape_re)) fail(path, "no shape in header");
  std::string dims = m[1];
  static const std::regex num_re(R"(\s*(\d+)\s*(,|$))");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num_re); it != std::sregex_iterator(); ++it) {
    if ((*it)[1].length() > 12) fail(path, "dimension too large");
    hd.shape.push_back(std::stoll((*it)[1].str()));
  }
  return hd;
}

template <class T>
T read_as(const unsigned char* p, bool swap) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, p, sizeof(T));
  if (swap) std::reverse(b, b + sizeof(T));
  T v;
  std::memcpy(&v, b, sizeof(T));
  return v;
}

float half_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ffu;
  if (exp == 0) return (sign ? -1.0f : 1.0f) * std::ldexp(static_cast<float>(mant), -24);
  if (exp == 31) return mant ? std::numeric_limits<float>::quiet_NaN() : (sign ? -INFINITY : INFINITY);
  uint32_t bits = sign | ((exp + 112) << 23) | (mant << 13);
  return std::bit_cast<float>(bits);
}

float convert(const unsigned char* p, const Header& h) {
  bool swap = (h.byte_order == '>') == (std::endian::native == std::endian::little) && h.item_size > 1 &&
              h.byte_order != '|' && h.byte_order != '=';
  switch (h.kind) {
    case 'f':
      if (h.item_size == 2) return half_to_float(read_as<uint16_t>(p, swap));
      return h.item_size == 4 ? read_as<float>(p, swap) : static_cast<float>(read_as<double>(p, swap));
    case 'b': return *p ? 1.0f : 0.0f;
    case 'i':
      switch (h.item_size) {
        case 1: return static_cast<float>(read_as<int8_t>(p, swap));
        case 2: return static_cast<float>(read_as<int16_t>(p, swap));
        case 4: return static_cast<float>(read_as<int32_t>(p, swap));
        default: return static_cast<float>(read_as<int64_t>(p, swap));
      }
    default:
      switch (h.item_size) {
        case 1: return static_cast<float>(read_as<uint8_t>(p, swap));
        case 2: return static_cast<float>(read_as<uint16_t>(p, swap));
        case 4: return static_cast<float>(read_as<uint32_t>(p, swap));
        default: return static_cast<float>(read_as<uint64_t>(p, swap));
      }
  }
}

}  // namespace

Tensor load_npy(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path.string() + ": cannot open file");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) fail(path, "bad magic (not an .npy file)");
  auto u8 = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
  int major = u8(6);
  size_t header_len, offset;
  if (major == 1) {
    header_len = u8(8) | (u8(9) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(path, "truncated header");
    header_len = u8(8) | (u8(9) << 8) | (size_t(u8(10)) << 16) | (size_t(u8(11)) << 24);
    offset = 12;
  } else {
    fail(path, "unsupported version " + std::to_string(major));
  }
  if (header_len > bytes.size() - offset) fail(path, "truncated header");
  Header h = parse_header(path, bytes.substr(offset, header_len));
  offset += header_len;
  Dim count = 1;
  for (Dim d : h.shape) {
    if (d != 0 && count > std::numeric_limits<Dim>::max() / d / static_cast<Dim>(h.item_size))
      fail(path, "shape too large");
    count *= d;
  }
  if (static_cast<size_t>(count) * h.item_size != bytes.size() - offset)
    fail(path, "data size " + std::to_string(bytes.size() - offset) + " bytes does not match shape " +
                   Shape(h.shape).str() + " of " + std::to_string(h.item_size) + "-byte items");
  std::vector<float> values(static_cast<size_t>(count));
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
  for (Dim i = 0; i < count; ++i) values[static_cast<size_t>(i)] = convert(data + i * h.item_size, h);
  if (h.fortran_order && h.shape.size() > 1) {
    // Fortran order: first axis fastest. Reorder into C order.
    std::vector<float> c(values.size());
    size_t rank = h.shape.size();
    std::vector<Dim> idx(rank, 0);
    for (Dim i = 0; i < count; ++i) {
      Dim f = 0, stride = 1;
      for (size_t a = 0; a < rank; ++a) {
        f += idx[a] * stride;
        stride *= h.shape[a];
      }
      c[static_cast<size_t>(i)] = values[static_cast<size_t>(f)];
      for (size_t a = rank; a-- > 0;) {
        if (++idx[a] < h.shape[a]) break;
        idx[a] = 0;
      }
    }
    values = std::move(c);
  }
  return Tensor(Shape(h.shape), std::move(values));
}

void save_npy(const std::filesystem::path& path, const Tensor& tensor) {
  std::string shape = "(";
  for (int i = 0; i < tensor.rank(); ++i) shape += std::to_string(tensor.dim(i)) + (tensor.rank() == 1 ? ",)" : i + 1 < tensor.rank() ? ", " : ")");
  if (tensor.rank() == 0) shape += ")";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so the data starts on a 64-byte boundary, header ending in a newline.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  saving::AtomicFile file(path);
  {
    std::ofstream out(file.temp_path(), std::ios::binary);
    if (!out) throw FileError(path.string() + ": cannot create file");
    out.write("\x93NUMPY\x01\x00", 8);
    char len[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
    out.write(len, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    static_assert(std::endian::native == std::endian::little, "save_npy writes '<f4' from native floats");
    out.write(reinterpret_cast<const char*>(tensor.data()), static_cast<std::streamsize>(tensor.size() * 4));
    out.flush();
    if (!out) throw FileError(path.string() + ": write failed");
  }
  file.commit();
}

}  // namespace keras::io
