#pragma once
// keras.ops' numpy-style math on raw memory (UnaryOp, ReduceOp, StridedSliceOp and their
// gradients), shared by every backend. Float32 throughout, as Keras's default dtype.
#include <vector>

#include "ops/op.h"

namespace keras::ops {

void unary(const UnaryOp& a, const float* x, float* y);
void unary_grad(const UnaryOp& a, const float* x, const float* y, const float* dy, float* dx);

void reduce(const ReduceOp& a, const float* x, float* y);
void reduce_grad(const ReduceOp& a, const float* x, const float* y, const float* dy, float* dx);

// x of shape `in`, y of shape `out` (the same rank).
void strided_slice(const StridedSliceOp& a, const Shape& in, const Shape& out, const float* x, float* y);
void strided_slice_grad(const StridedSliceOp& a, const Shape& in, const Shape& out, const float* dy, float* dx);

// numpy's mean and (biased) var of x over every axis not kept, one result per position of the
// kept axes (C order): what Keras's Normalization.adapt() takes from an array.
void moments(const float* x, const Shape& shape, const std::vector<bool>& keep, std::vector<double>& mean,
             std::vector<double>& var);

}  // namespace keras::ops
