#pragma once
// NumPy .npy arrays in and out.
#include <filesystem>

#include "keras/tensor.h"

namespace keras::io {

// Reads a .npy array (float32/float64, signed/unsigned integers, bool; either byte order;
// C or Fortran order) as a float32 tensor in C order. Throws FileError naming the file.
Tensor load_npy(const std::filesystem::path& path);
// Writes a float32 C-order .npy file; the file appears complete or not at all.
void save_npy(const std::filesystem::path& path, const Tensor& tensor);

}  // namespace keras::io
