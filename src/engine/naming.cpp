#include "engine/naming.h"

#include <cctype>
#include <map>
#include <mutex>
#include <regex>

namespace keras::naming {

namespace {
std::mutex mutex;
std::map<std::string, int>& counters() {
  static std::map<std::string, int> c;
  return c;
}
}  // namespace

std::string to_snake_case(const std::string& class_name) {
  // Keras 3: strip non-word characters, then the two regex passes of keras/src/utils/naming.py.
  static const std::regex non_word("\\W+");
  static const std::regex first("(.)([A-Z][a-z]+)");
  static const std::regex second("([a-z])([A-Z])");
  std::string s = std::regex_replace(class_name, non_word, "");
  s = std::regex_replace(s, first, "$1_$2");
  s = std::regex_replace(s, second, "$1_$2");
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string uniquify(const std::string& prefix) {
  std::lock_guard lock(mutex);
  int& n = counters()[prefix];
  std::string name = n == 0 ? prefix : prefix + "_" + std::to_string(n);
  ++n;
  return name;
}

void reset() {
  std::lock_guard lock(mutex);
  counters().clear();
}

}  // namespace keras::naming
