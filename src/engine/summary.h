#pragma once
// model.summary(): Keras 3's box table (KERAS_SPEC §7.2) and tf.keras 2's plain table (§7.1).
#include <string>

#include "engine/functional.h"

namespace keras::engine {

std::string format_summary(const FunctionalImpl& model, const SummaryOptions& options);

}  // namespace keras::engine
