#pragma once
// model.summary(): Keras 3's box table (KERAS_SPEC §7.2, style "keras3") and tf.keras 2.13+'s
// plain table (§7.1, style "keras2"), byte for byte; see summary.cpp for how widths are chosen.
#include <string>

#include "engine/functional.h"

namespace keras::engine {

// The whole summary, one "\n" after each line. Throws ValueError for an unknown style, a
// line_length too small for the columns, or (keras2, as tf.keras) an unbuilt Sequential.
std::string format_summary(const FunctionalImpl& model, const SummaryOptions& options);

}  // namespace keras::engine
