#pragma once
// Shared pieces of the loss implementations: Keras's epsilon, shape checks, the registry of
// loss classes, and the config each loss family reads back.
#include <nlohmann/json.hpp>
#include <string>

#include "keras/errors.h"
#include "keras/losses.h"

namespace keras::losses::detail {

// Rows of the last axis: (number of rows, row length) of a tensor of rank >= 1.
std::pair<Dim, Dim> rows_of(const Tensor& t);

// Keras's squeeze_or_expand_to_same_rank for losses comparing y_true and y_pred element by
// element: y_true of shape (N,) against y_pred (N, 1) (or the reverse) is reshaped to y_pred's
// shape. Throws ValueError when the shapes still differ.
Tensor match_true_to_pred(const Tensor& y_true, const Tensor& y_pred);

// Keras's apply_mask: the weights of losses (or metric values) of `mask`'s shape: the mask
// (scaled by size / count of unmasked values when `scale`, for a mean over the unmasked ones;
// 0 when none is), times sample_weight (per sample, or of the mask's shape) when given. `who`
// names the loss or metric in errors.
Tensor apply_mask(const Tensor& sample_weight, const Tensor& mask, bool scale, const std::string& who);

// The per-sample shape of losses reducing y_pred's last axis.
Shape reduced_shape(const Shape& y_pred);

// Config of a loss with no arguments besides name and reduction; reads them back too.
LossOptions loss_options_from_config(const nlohmann::json& config, const std::string& default_name);

// Loss families, from their Keras 3 class name and config (null when not theirs).
Loss crossentropy_from_config(const std::string& class_name, const nlohmann::json& config);
Loss elementwise_from_config(const std::string& class_name, const nlohmann::json& config);
Loss rowwise_from_config(const std::string& class_name, const nlohmann::json& config);

}  // namespace keras::losses::detail
