#pragma once
// Python's float and str.format renderings, where Keras writes numbers through Python: CSV
// logs (repr), callback messages, checkpoint file names ("{epoch:02d}-{val_loss:.2f}").
#include <string>

namespace keras::engine {

// repr(float): the shortest round-tripping digits, "0.25", "3.0", "1e-05", "inf", "nan".
std::string python_float_repr(double value);
// format(value, spec) for specs like "02d", ".2f", ".4e", "g", "" (repr); integers when
// `is_int` (epoch numbers).
std::string python_format(double value, const std::string& spec, bool is_int = false);

}  // namespace keras::engine
