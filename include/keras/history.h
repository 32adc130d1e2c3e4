#pragma once
// What training reports: Logs (named values in insertion order, Keras's logs dict) and History
// (what fit() returns: one value per epoch for each log entry).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace keras {

class Logs {
 public:
  using Item = std::pair<std::string, double>;

  // The value for `key`, inserted at the end (as 0) when missing.
  double& operator[](const std::string& key);
  std::optional<double> get(const std::string& key) const;
  bool contains(const std::string& key) const { return get(key).has_value(); }
  // Throws ValueError when missing.
  double at(const std::string& key) const;

  std::vector<Item>::const_iterator begin() const { return items_.begin(); }
  std::vector<Item>::const_iterator end() const { return items_.end(); }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

  friend bool operator==(const Logs&, const Logs&) = default;

 private:
  std::vector<Item> items_;
};

// Keras's History: history["loss"][epoch], the epochs run, and fit()'s parameters.
struct History {
  std::map<std::string, std::vector<double>> history;
  std::vector<int> epoch;
  struct Params {
    int verbose = 1;
    int epochs = 1;
    int64_t steps = 0;
  } params;
};

}  // namespace keras
