// The callback base, LambdaCallback, Logs, and the helpers the callbacks share.
#include <iostream>
#include <nlohmann/json.hpp>

#include "callbacks/monitor.h"
#include "engine/functional.h"
#include "engine/pyformat.h"
#include "keras/callbacks.h"
#include "keras/errors.h"
#include "keras/model.h"

namespace keras {

double& Logs::operator[](const std::string& key) {
  for (Item& item : items_)
    if (item.first == key) return item.second;
  items_.emplace_back(key, 0.0);
  return items_.back().second;
}

std::optional<double> Logs::get(const std::string& key) const {
  for (const Item& item : items_)
    if (item.first == key) return item.second;
  return std::nullopt;
}

double Logs::at(const std::string& key) const {
  if (auto v = get(key)) return *v;
  throw ValueError("No log entry named \"" + key + "\"");
}

Scores::Scores(std::vector<std::string> names, std::vector<double> values)
    : names_(std::move(names)), values_(std::move(values)) {
  if (names_.size() != values_.size()) throw ValueError("Scores: one name per value");
}

double Scores::operator[](size_t i) const {
  if (i >= values_.size())
    throw ValueError("Score index " + std::to_string(i) + " is out of range: there are " +
                     std::to_string(values_.size()) + " values");
  return values_[i];
}

double Scores::operator[](const std::string& name) const {
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return values_[i];
  std::string known;
  for (const std::string& n : names_) known += (known.empty() ? "" : ", ") + n;
  throw ValueError("No score named \"" + name + "\"; the scores are: " + known);
}

Logs Scores::as_dict() const {
  Logs logs;
  for (size_t i = 0; i < names_.size(); ++i) logs[names_[i]] = values_[i];
  return logs;
}

void Scores::check_count(size_t n) const {
  if (n == values_.size()) return;
  std::string known;
  for (const std::string& name : names_) known += (known.empty() ? "" : ", ") + name;
  throw ValueError(std::string(n < values_.size() ? "too many" : "not enough") + " values to unpack (expected " +
                   std::to_string(n) + ", got " + std::to_string(values_.size()) + ": " + known +
                   "); unpack them with as<" + std::to_string(values_.size()) + ">() or look them up by name");
}

namespace callbacks {

Model Callback::model() const {
  if (!model_) throw ValueError("This callback is not attached to a model yet (fit() or evaluate() attaches it)");
  return Model(model_);
}

void Callback::set_model(const Model& model) { model_ = std::static_pointer_cast<FunctionalImpl>(model.impl()); }

void LambdaCallback::on_epoch_end(int epoch, Logs& logs) {
  if (o_.on_epoch_end) o_.on_epoch_end(epoch, logs);
}
void LambdaCallback::on_epoch_begin(int epoch, const Logs& logs) {
  if (o_.on_epoch_begin) o_.on_epoch_begin(epoch, logs);
}
void LambdaCallback::on_train_batch_begin(int64_t batch, const Logs& logs) {
  if (o_.on_train_batch_begin) o_.on_train_batch_begin(batch, logs);
}
void LambdaCallback::on_train_batch_end(int64_t batch, const Logs& logs) {
  if (o_.on_train_batch_end) o_.on_train_batch_end(batch, logs);
}
void LambdaCallback::on_train_begin(const Logs& logs) {
  if (o_.on_train_begin) o_.on_train_begin(logs);
}
void LambdaCallback::on_train_end(const Logs& logs) {
  if (o_.on_train_end) o_.on_train_end(logs);
}

std::string format_filepath(const std::string& pattern, int epoch, const Logs& logs) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if ((c == '{' || c == '}') && i + 1 < pattern.size() && pattern[i + 1] == c) {  // "{{" and "}}"
      out += c;
      ++i;
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    size_t close = pattern.find('}', i);
    if (close == std::string::npos) throw ValueError("Single '{' encountered in format string: " + pattern);
    std::string field = pattern.substr(i + 1, close - i - 1);
    size_t colon = field.find(':');
    std::string name = field.substr(0, colon), spec = colon == std::string::npos ? "" : field.substr(colon + 1);
    if (name == "epoch") {
      out += engine::python_format(double(epoch), spec, true);
    } else if (auto v = logs.get(name)) {
      out += engine::python_format(*v, spec);
    } else {
      throw ValueError("Failed to format this callback filepath: \"" + pattern + "\". Reason: '" + name + "'");
    }
    i = close;
  }
  return out;
}

namespace detail {

bool monitor_maximizes(const std::string& mode, const std::string& monitor, const Model& model,
                       const std::string& callback) {
  if (mode == "min") return false;
  if (mode == "max") return true;
  std::string name = monitor.rfind("val_", 0) == 0 ? monitor.substr(4) : monitor;
  if (name == "loss") return false;
  for (const metrics::Metric& m : model.metrics()) {
    if (!m || m.name() != name) continue;
    if (m->direction() == "up") return true;
    if (m->direction() == "down") return false;
  }
  throw ValueError(callback + " callback received monitor=" + monitor +
                   " but Keras isn't able to automatically determine whether that metric should be maximized or "
                   "minimized. Pass `mode='max'` in order to monitor based on the highest metric value, or pass "
                   "`mode='min'` in order to use the lowest value.");
}

void print_msg(const std::string& message) { std::cout << message << "\n" << std::flush; }

void warn(const std::string& message) { std::cerr << "UserWarning: " << message << "\n" << std::flush; }

}  // namespace detail

}  // namespace callbacks

}  // namespace keras
