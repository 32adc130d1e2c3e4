#pragma once
// Shared pieces of the optimizer implementations: reading the arguments every optimizer takes
// from a config, and each family's from_config.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "keras/optimizers.h"

namespace keras::optimizers::detail {

std::optional<double> optional_double(const nlohmann::json& c, const char* key);
double double_or(const nlohmann::json& c, const char* key, double fallback);
bool bool_or(const nlohmann::json& c, const char* key, bool fallback);
std::string name_or(const nlohmann::json& c, const std::string& fallback);
// "learning_rate" (Keras 2.x/3), "lr" (Keras 1/2), a number or a serialized schedule.
LearningRate learning_rate_or(const nlohmann::json& c, double fallback);
CommonOptions common_from_config(const nlohmann::json& c);

// Each family: the optimizer for a lower-case class name, or an empty handle.
Optimizer sgd_from_config(const std::string& lower_class, const nlohmann::json& c);
Optimizer adam_from_config(const std::string& lower_class, const nlohmann::json& c);
Optimizer rmsprop_from_config(const std::string& lower_class, const nlohmann::json& c);
Optimizer adagrad_from_config(const std::string& lower_class, const nlohmann::json& c);

}  // namespace keras::optimizers::detail
