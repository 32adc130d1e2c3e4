#include <cstring>
#include <fstream>

#include "keras/io.h"
#include "test_helpers.h"

namespace keras {
namespace {

namespace fs = std::filesystem;

fs::path temp(const std::string& name) { return fs::temp_directory_path() / ("npy_test_" + std::to_string(::getpid()) + name); }

void write_bytes(const fs::path& p, const std::string& header_dict, const std::string& data) {
  std::string h = header_dict;
  while ((10 + h.size() + 1) % 64) h.push_back(' ');
  h.push_back('\n');
  std::ofstream f(p, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  char len[2] = {static_cast<char>(h.size() & 0xff), static_cast<char>(h.size() >> 8)};
  f.write(len, 2);
  f << h << data;
}

TEST(Npy, RoundTripsFloat32) {
  Tensor t({2, 3}, {1.5f, -2, 3, 4, 5, 6.25f});
  io::save_npy(temp("a.npy"), t);
  EXPECT_EQ(io::load_npy(temp("a.npy")), t);
  fs::remove(temp("a.npy"));
}

TEST(Npy, ReadsOtherDtypesAndOrders) {
  // int64 little-endian (numpy's default int), values 0..5 in shape (2, 3).
  std::string data;
  for (int64_t v = 0; v < 6; ++v) data.append(reinterpret_cast<const char*>(&v), 8);
  write_bytes(temp("i8.npy"), "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }", data);
  EXPECT_EQ(io::load_npy(temp("i8.npy")), Tensor({2, 3}, {0, 1, 2, 3, 4, 5}));
  // The same values stored in Fortran order: column-major 0,3,1,4,2,5.
  std::string f;
  for (int64_t v : {0, 3, 1, 4, 2, 5}) f.append(reinterpret_cast<const char*>(&v), 8);
  write_bytes(temp("f.npy"), "{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3), }", f);
  EXPECT_EQ(io::load_npy(temp("f.npy")), Tensor({2, 3}, {0, 1, 2, 3, 4, 5}));
  // Big-endian float64 and uint8 and bool.
  std::string be(8, '\0');
  double d = -2.5;
  std::memcpy(be.data(), &d, 8);
  std::reverse(be.begin(), be.end());
  write_bytes(temp("be.npy"), "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", be);
  EXPECT_EQ(io::load_npy(temp("be.npy")), Tensor({1}, {-2.5f}));
  write_bytes(temp("u1.npy"), "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", std::string("\x00\x7f\xff", 3));
  EXPECT_EQ(io::load_npy(temp("u1.npy")), Tensor({3}, {0, 127, 255}));
  write_bytes(temp("b1.npy"), "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", std::string("\x01\x00", 2));
  EXPECT_EQ(io::load_npy(temp("b1.npy")), Tensor({2}, {1, 0}));
  for (auto n : {"i8.npy", "f.npy", "be.npy", "u1.npy", "b1.npy"}) fs::remove(temp(n));
}

TEST(Npy, RejectsBrokenFilesWithTheirName) {
  auto expect_error = [](const fs::path& p) {
    try {
      io::load_npy(p);
      ADD_FAILURE() << "no error for " << p;
    } catch (const FileError& e) {
      EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
  };
  expect_error(temp("missing.npy"));
  std::ofstream(temp("text.npy")) << "hello";
  expect_error(temp("text.npy"));
  write_bytes(temp("short.npy"), "{'descr': '<f4', 'fortran_order': False, 'shape': (100,), }", "abcd");
  expect_error(temp("short.npy"));
  write_bytes(temp("huge.npy"), "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", "");
  expect_error(temp("huge.npy"));
  write_bytes(temp("obj.npy"), "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "12345678");
  expect_error(temp("obj.npy"));
  for (auto n : {"text.npy", "short.npy", "huge.npy", "obj.npy"}) fs::remove(temp(n));
}

}  // namespace
}  // namespace keras
