#pragma once
// What training reports: Logs (named values in insertion order, Keras's logs dict) and History
// (what fit() returns: one value per epoch for each log entry).
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
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

// What evaluate(), train_on_batch() and test_on_batch() return: Keras's list [loss, metrics...]
// in compile order, with the names return_dict=True keys them by. Index it (score[0] is the
// loss), look a value up by name (score["accuracy"]; as_dict() for Keras's dict), or unpack it:
// `auto [loss, acc] = model.evaluate(x, y);` binds the loss and the one metric, as Python's
// `loss, acc = model.evaluate(x, y)`, and throws ValueError when there are more or fewer values
// (Python's "too many values to unpack"); another count unpacks with as<N>():
// `auto [loss, acc, auc] = model.evaluate(x, y).as<3>();`.
class Scores {
 public:
  Scores() = default;
  Scores(std::vector<std::string> names, std::vector<double> values);

  size_t size() const { return values_.size(); }
  double operator[](size_t i) const;                 // throws ValueError past the end
  double operator[](const std::string& name) const;  // throws ValueError naming the known ones
  double loss() const { return (*this)[0]; }
  const std::vector<std::string>& names() const { return names_; }
  const std::vector<double>& values() const { return values_; }
  Logs as_dict() const;
  std::vector<double>::const_iterator begin() const { return values_.begin(); }
  std::vector<double>::const_iterator end() const { return values_.end(); }

  template <size_t N>
  std::array<double, N> as() const {
    check_count(N);
    std::array<double, N> out{};
    for (size_t i = 0; i < N; ++i) out[i] = values_[i];
    return out;
  }
  // Structured bindings: [loss, metric].
  template <size_t I>
  double get() const {
    static_assert(I < 2);
    check_count(2);
    return values_[I];
  }

 private:
  void check_count(size_t n) const;
  std::vector<std::string> names_;
  std::vector<double> values_;
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

template <>
struct std::tuple_size<keras::Scores> : std::integral_constant<size_t, 2> {};
template <size_t I>
struct std::tuple_element<I, keras::Scores> {
  using type = double;
};
