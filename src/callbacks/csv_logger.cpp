// keras.callbacks.CSVLogger (keras/src/callbacks/csv_logger.py): Python's csv module with the
// excel dialect, so rows end in "\r\n" and numbers are written as repr(float).
#include <algorithm>
#include <fstream>

#include "engine/pyformat.h"
#include "keras/callbacks.h"
#include "keras/errors.h"

namespace keras::callbacks {

namespace {

// csv's QUOTE_MINIMAL: quote fields holding the separator, quotes or line breaks.
std::string csv_field(const std::string& s, const std::string& sep) {
  if (s.find(sep) == std::string::npos && s.find_first_of("\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

CSVLogger::CSVLogger(std::filesystem::path filename, std::string separator, bool append)
    : filename_(std::move(filename)), separator_(std::move(separator)), append_(append) {}

void CSVLogger::on_train_begin(const Logs&) {
  write_header_ = true;
  if (append_ && std::filesystem::exists(filename_)) {
    std::ifstream in(filename_);
    std::string first;
    std::getline(in, first);
    write_header_ = first.empty() && in.eof();
  }
  file_ = std::make_shared<std::ofstream>(
      filename_, append_ ? std::ios::app | std::ios::binary : std::ios::trunc | std::ios::binary);
  if (!*file_) throw FileError(filename_.string() + ": cannot open for writing");
  keys_.clear();
}

void CSVLogger::on_epoch_end(int epoch, Logs& logs) {
  if (!file_) on_train_begin({});
  if (keys_.empty()) {
    for (const auto& [k, v] : logs) keys_.push_back(k);
    std::sort(keys_.begin(), keys_.end());
    if (write_header_) {
      std::string header = csv_field("epoch", separator_);
      for (const std::string& k : keys_) header += separator_ + csv_field(k, separator_);
      *file_ << header << "\r\n";
    }
  }
  std::string row = std::to_string(epoch);
  for (const std::string& k : keys_) {
    auto v = logs.get(k);
    row += separator_ + (v ? csv_field(engine::python_float_repr(*v), separator_) : "NA");
  }
  *file_ << row << "\r\n" << std::flush;
}

void CSVLogger::on_train_end(const Logs&) { file_.reset(); }

}  // namespace keras::callbacks
