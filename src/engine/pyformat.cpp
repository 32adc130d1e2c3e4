#include "engine/pyformat.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "keras/errors.h"

namespace keras::engine {

std::string python_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // "-d.ddde+XX"
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  if (digits.size() > 1) digits.erase(1, 1);  // drop the point
  int exp10 = std::atoi(sci.c_str() + e + 1);
  int decpt = exp10 + 1;
  if (v == 0) return sign + "0.0";
  if (decpt > -4 && decpt <= 16) {
    int n = static_cast<int>(digits.size());
    if (decpt <= 0) return sign + "0." + std::string(size_t(-decpt), '0') + digits;
    if (decpt >= n) return sign + digits + std::string(size_t(decpt - n), '0') + ".0";
    return sign + digits.substr(0, size_t(decpt)) + "." + digits.substr(size_t(decpt));
  }
  std::string mantissa = digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "");
  std::string exp_digits = std::to_string(std::abs(exp10));
  if (exp_digits.size() < 2) exp_digits = "0" + exp_digits;
  return sign + mantissa + "e" + (exp10 < 0 ? "-" : "+") + exp_digits;
}

std::string python_format(double v, const std::string& spec, bool is_int) {
  if (spec.empty()) return is_int ? std::to_string(static_cast<long long>(v)) : python_float_repr(v);
  // [0][width][.precision][type]
  size_t i = 0;
  std::string flags;
  if (i < spec.size() && spec[i] == '0') flags = "0", ++i;
  std::string width;
  while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i]))) width += spec[i++];
  std::string precision;
  if (i < spec.size() && spec[i] == '.') {
    ++i;
    while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i]))) precision += spec[i++];
  }
  char type = i < spec.size() ? spec[i++] : (is_int ? 'd' : 'g');
  if (i != spec.size() || std::string("dfFeEgG%").find(type) == std::string::npos)
    throw ValueError("Unsupported format specification: \"" + spec + "\"");
  if (type == 'd') {
    if (!is_int && v != std::floor(v)) throw ValueError("Unknown format code 'd' for object of type 'float'");
    std::string f = "%" + flags + width + "lld";
    char buf[64];
    std::snprintf(buf, sizeof buf, f.c_str(), static_cast<long long>(v));
    return buf;
  }
  double value = type == '%' ? v * 100 : v;
  if (precision.empty()) precision = "6";
  std::string f = "%" + flags + width + "." + precision + (type == '%' ? 'f' : type);
  char buf[128];
  std::snprintf(buf, sizeof buf, f.c_str(), value);
  return std::string(buf) + (type == '%' ? "%" : "");
}

}  // namespace keras::engine
