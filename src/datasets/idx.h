#pragma once
// The IDX format of the MNIST family (big-endian header, uint8 payload), read from .gz files.
#include <filesystem>

#include "keras/tensor.h"

namespace keras::datasets {

// Reads a gzip-compressed (or plain) IDX file of unsigned bytes as float32 values 0..255,
// with the file's shape. Throws FileError naming the file for anything malformed.
Tensor read_idx_gz(const std::filesystem::path& path);

}  // namespace keras::datasets
