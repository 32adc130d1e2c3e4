#pragma once
// keras.layers reshaping: Flatten, Reshape, Permute, RepeatVector, ZeroPadding1D/2D,
// Cropping1D/2D, UpSampling1D/2D. Arguments, defaults and errors are Keras's
// (KERAS_SPEC §1, §5.4). No weights.
#include <cstddef>
#include <string>
#include <vector>

#include "keras/layer.h"
#include "keras/layers/args.h"

namespace keras::layers {

// The rows and columns a 2-D padding or cropping argument names, in any form Keras accepts:
// an int for all four sides, (rows, cols) for symmetric amounts, or ((top, bottom), (left, right)).
struct Sides2D {
  IntPair rows;  // (top, bottom)
  IntPair cols;  // (left, right)

  Sides2D(Dim all) : rows(all), cols(all) {}  // NOLINT: implicit, as Keras broadcasts ints
  Sides2D(Dim symmetric_rows, Dim symmetric_cols) : rows(symmetric_rows), cols(symmetric_cols) {}
  Sides2D(IntPair top_bottom, IntPair left_right) : rows(top_bottom), cols(left_right) {}
  friend bool operator==(const Sides2D&, const Sides2D&) = default;
};

struct FlattenOptions {
  // channels_first: channels are moved last before the C-order flatten, so the flattened
  // order equals that of the channels-last version of the same data.
  std::string data_format = "channels_last";
  std::string name;
};
// (batch, d1, ..., dk) -> (batch, d1*...*dk), or (batch, None) if any di is unknown;
// (batch,) -> (batch, 1).
//
// The pair and pair-of-pairs arguments below also take braced lists, read as Keras reads
// tuples: ZeroPadding2D({1, 2}) is ((1, 1), (2, 2)), Cropping2D({{2, 2}, {4, 4}}) is
// ((2, 2), (4, 4)), Cropping1D({0, 2}) is (0, 2); a list of another length does not compile.
Layer Flatten(const FlattenOptions& options = {});

struct ReshapeOptions {
  std::vector<Dim> target_shape;  // batch excluded; at most one -1, inferred
  std::string name;
};
// C-order reshape of each sample; no data moves.
Layer Reshape(const ReshapeOptions& options);
Layer Reshape(std::vector<Dim> target_shape);

struct PermuteOptions {
  std::vector<int> dims;  // 1-based, batch excluded: (2, 1) swaps the two non-batch axes
  std::string name;
};
Layer Permute(const PermuteOptions& options);
Layer Permute(std::vector<int> dims);

struct RepeatVectorOptions {
  Dim n = 0;
  std::string name;
};
// (batch, features) -> (batch, n, features).
Layer RepeatVector(const RepeatVectorOptions& options);
Layer RepeatVector(Dim n);

struct ZeroPadding1DOptions {
  IntPair padding = 1;  // (left, right) zeros on the steps axis
  std::string data_format = "channels_last";
  std::string name;
};
Layer ZeroPadding1D(const ZeroPadding1DOptions& options = {});
Layer ZeroPadding1D(IntPair padding);
template <std::size_t N>
Layer ZeroPadding1D(const Dim (&padding)[N]) {
  static_assert(N == 2, "padding takes 2 integers");
  return ZeroPadding1D(IntPair(padding[0], padding[1]));
}

struct ZeroPadding2DOptions {
  Sides2D padding = 1;
  std::string data_format = "channels_last";
  std::string name;
};
Layer ZeroPadding2D(const ZeroPadding2DOptions& options = {});
Layer ZeroPadding2D(Sides2D padding);
template <std::size_t N>
Layer ZeroPadding2D(const Dim (&padding)[N]) {
  static_assert(N == 2, "padding takes 2 integers");
  return ZeroPadding2D(Sides2D(padding[0], padding[1]));
}
template <std::size_t N, std::size_t M>
Layer ZeroPadding2D(const Dim (&padding)[N][M]) {
  static_assert(N == 2 && M == 2, "padding takes ((top, bottom), (left, right))");
  return ZeroPadding2D(Sides2D(IntPair(padding[0][0], padding[0][1]), IntPair(padding[1][0], padding[1][1])));
}

struct Cropping1DOptions {
  IntPair cropping = 1;  // (start, end) steps removed
  std::string name;
};
Layer Cropping1D(const Cropping1DOptions& options = {});
Layer Cropping1D(IntPair cropping);
template <std::size_t N>
Layer Cropping1D(const Dim (&cropping)[N]) {
  static_assert(N == 2, "cropping takes 2 integers");
  return Cropping1D(IntPair(cropping[0], cropping[1]));
}

struct Cropping2DOptions {
  Sides2D cropping = 0;
  std::string data_format = "channels_last";
  std::string name;
};
Layer Cropping2D(const Cropping2DOptions& options = {});
Layer Cropping2D(Sides2D cropping);
template <std::size_t N>
Layer Cropping2D(const Dim (&cropping)[N]) {
  static_assert(N == 2, "cropping takes 2 integers");
  return Cropping2D(Sides2D(cropping[0], cropping[1]));
}
template <std::size_t N, std::size_t M>
Layer Cropping2D(const Dim (&cropping)[N][M]) {
  static_assert(N == 2 && M == 2, "cropping takes ((top, bottom), (left, right))");
  return Cropping2D(Sides2D(IntPair(cropping[0][0], cropping[0][1]), IntPair(cropping[1][0], cropping[1][1])));
}

struct UpSampling1DOptions {
  Dim size = 2;  // each step repeated size times
  std::string name;
};
Layer UpSampling1D(const UpSampling1DOptions& options = {});
Layer UpSampling1D(Dim size);

struct UpSampling2DOptions {
  IntPair size = 2;  // (rows, cols) factors
  std::string data_format = "channels_last";
  // "nearest": rows then columns repeated. "bilinear": half-pixel centres, edges clamped, no
  // antialiasing (Keras 3 ops.image.resize; PyTorch interpolate(align_corners=False)).
  std::string interpolation = "nearest";
  std::string name;
};
Layer UpSampling2D(const UpSampling2DOptions& options = {});
Layer UpSampling2D(IntPair size);
template <std::size_t N>
Layer UpSampling2D(const Dim (&size)[N]) {
  static_assert(N == 2, "size takes 2 integers");
  return UpSampling2D(IntPair(size[0], size[1]));
}

}  // namespace keras::layers
