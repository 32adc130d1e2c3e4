#include "utils/progbar.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace keras::engine {

namespace {

std::string printf_string(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Python's "%d" % x for a float x: truncation toward zero.
std::string int_string(double v) { return std::to_string(static_cast<long long>(v)); }

size_t code_points(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string repeat(const std::string& s, int n) {
  std::string r;
  for (int i = 0; i < n; ++i) r += s;
  return r;
}

const std::string kBar = "\u2501";  // ━

}  // namespace

std::string format_log_value(double v, bool abs_rule) {
  if (std::isnan(v)) return " nan";
  bool fixed = abs_rule ? std::abs(v) > 1e-3 : v > 1e-3;
  return printf_string(fixed ? " %.4f" : " %.4e", v);
}

std::string format_time_per_unit(double t, const std::string& unit) {
  if (t >= 1 || t == 0) return printf_string(" %.0f", t) + "s/" + unit;
  if (t >= 1e-3) return printf_string(" %.0f", t * 1000.0) + "ms/" + unit;
  return printf_string(" %.0f", t * 1000000.0) + "us/" + unit;
}

std::string format_eta(double eta) {
  auto two = [](double v) {
    std::string s = int_string(v);
    return s.size() < 2 ? "0" + s : s;
  };
  if (eta > 3600)
    return int_string(std::floor(eta / 3600)) + ":" + two(std::floor(std::fmod(eta, 3600) / 60)) + ":" +
           two(std::fmod(eta, 60));
  if (eta > 60) return int_string(std::floor(eta / 60)) + ":" + two(std::fmod(eta, 60));
  return int_string(eta) + "s";
}

bool stdout_is_terminal() { return isatty(fileno(stdout)) != 0; }

Progbar::Progbar(Options options) : o_(std::move(options)) {
  if (!o_.out) o_.out = &std::cout;
  start_ = now();
}

double Progbar::now() const {
  if (o_.clock) return o_.clock();
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// The first step (graph building, caches) is left out of the estimate once there are more.
double Progbar::estimate_step_duration(int64_t current, double now) {
  if (current == 0) return 0;
  double per_unit = time_after_first_step_ >= 0 && current > 1 ? (now - time_after_first_step_) / double(current - 1)
                                                               : (now - start_) / double(current);
  if (current == 1) time_after_first_step_ = now;
  return per_unit;
}

std::string Progbar::metrics_text(bool abs_rule) const {
  std::string info;
  for (size_t i = 0; i < order_.size(); ++i)
    info += " - " + order_[i] + ":" + format_log_value(values_[i].first / std::max(1.0, values_[i].second), abs_rule);
  return info;
}

void Progbar::update(int64_t current, const std::vector<std::pair<std::string, double>>& values, bool finalize) {
  for (const auto& [k, v] : values) {
    auto it = std::find(order_.begin(), order_.end(), k);
    size_t i = size_t(it - order_.begin());
    if (it == order_.end()) {
      order_.push_back(k);
      values_.emplace_back(0.0, 0.0);
    }
    // Every value is "stateless" for Keras's ProgbarLogger: averaged over the steps since the
    // last update, except on the final update which shows the value as given.
    double base = double(std::max<int64_t>(current - seen_so_far_, 1));
    if (finalize)
      values_[i] = {v, 1.0};
    else if (values_[i].second == 0)
      values_[i] = {v * base, base};
    else
      values_[i] = {values_[i].first + v * base, values_[i].second + base};
  }
  seen_so_far_ = current;
  double t = now();
  double per_unit = estimate_step_duration(current, t);
  bool dynamic = o_.dynamic_display;
  auto style = [&](const std::string& text, const char* code) {
    return dynamic ? std::string(code) + text + "\x1b[0m" : text;
  };

  if (o_.verbose == 1) {
    if (t - last_update_ < o_.interval && !finalize) return;
    if (!dynamic && !finalize) {
      last_update_ = t;
      return;
    }
    std::string bar, plain_bar;
    if (o_.target > 0) {
      int digits = int(std::log10(double(o_.target))) + 1;
      std::string count = std::to_string(current);
      count = std::string(size_t(std::max<int>(0, digits - int(count.size()))), ' ') + count + "/" +
              std::to_string(o_.target);
      int done = int(o_.width * (double(current) / double(o_.target)));
      bar = style(count, "\x1b[1m") + " ";
      plain_bar = count + " ";
      if (done > 0) bar += style(repeat(kBar, done), "\x1b[32m");
      bar += style(repeat(kBar, o_.width - done), "\x1b[37m");
      plain_bar += repeat(kBar, o_.width);
    } else {
      std::string count = std::to_string(current);
      bar = plain_bar = std::string(size_t(std::max<int>(0, 7 - int(count.size()))), ' ') + count + "/Unknown";
    }
    std::string time = o_.target > 0 && !finalize ? format_eta(per_unit * double(o_.target - current))
                                                  : printf_string("%.0f", t - start_) + "s";
    std::string tail = format_time_per_unit(per_unit, o_.unit_name) + metrics_text(true);
    std::string info = " " + style(time, "\x1b[1m") + tail;
    size_t width = code_points(plain_bar) + 1 + code_points(time) + code_points(tail);
    std::string message = dynamic ? std::string(prev_total_width_, '\b') + "\r" : "";
    message += bar + info;
    if (dynamic && prev_total_width_ > width) message += std::string(prev_total_width_ - width, ' ');
    if (finalize) message += "\n";
    *o_.out << message << std::flush;
    prev_total_width_ = width;
  } else if (o_.verbose == 2 && finalize && o_.target > 0) {
    int digits = int(std::log10(double(o_.target))) + 1;
    std::string count = std::to_string(current);
    count = std::string(size_t(std::max<int>(0, digits - int(count.size()))), ' ') + count;
    *o_.out << count << "/" << o_.target << " - " << printf_string("%.0f", t - start_) << "s -"
            << format_time_per_unit(per_unit, o_.unit_name) << metrics_text(false) << "\n"
            << std::flush;
  }
  last_update_ = t;
}

namespace {

// Keras's ProgbarLogger (keras/src/callbacks/progbar_logger.py).
class ProgbarLogger : public callbacks::Callback {
 public:
  ProgbarLogger(int verbose, int epochs, int64_t steps, Progbar::Options base)
      : verbose_(verbose), epochs_(epochs), target_(steps), base_(std::move(base)) {}

  void on_train_begin(const Logs&) override { in_fit_ = true; }
  void on_test_begin(const Logs&) override {
    if (!in_fit_) reset();
  }
  void on_epoch_begin(int epoch, const Logs&) override {
    reset();
    if (verbose_ && epochs_ > 1) out() << "Epoch " << epoch + 1 << "/" << epochs_ << "\n" << std::flush;
  }
  void on_train_batch_end(int64_t batch, const Logs& logs) override { update(batch, logs); }
  void on_test_batch_end(int64_t batch, const Logs& logs) override {
    if (!in_fit_) update(batch, logs);
  }
  void on_epoch_end(int, Logs& logs) override { finalize(logs); }
  void on_test_end(const Logs& logs) override {
    if (!in_fit_) finalize(logs);
  }

 private:
  std::ostream& out() const { return base_.out ? *base_.out : std::cout; }
  void reset() {
    seen_ = 0;
    Progbar::Options o = base_;
    o.target = target_;
    o.verbose = verbose_;
    bar_ = std::make_unique<Progbar>(o);
  }
  static std::vector<std::pair<std::string, double>> items(const Logs& logs) { return {logs.begin(), logs.end()}; }
  void update(int64_t batch, const Logs& logs) {
    if (!bar_) reset();
    seen_ = batch + 1;
    if (verbose_ == 1) bar_->update(seen_, items(logs), false);
  }
  void finalize(const Logs& logs) {
    if (!bar_) reset();
    bar_->update(target_ > 0 ? target_ : seen_, items(logs), true);
  }

  int verbose_, epochs_;
  int64_t target_;
  Progbar::Options base_;
  bool in_fit_ = false;
  int64_t seen_ = 0;
  std::unique_ptr<Progbar> bar_;
};

}  // namespace

std::shared_ptr<callbacks::Callback> make_progbar_logger(int verbose, int epochs, int64_t steps,
                                                         Progbar::Options base) {
  return std::make_shared<ProgbarLogger>(verbose, epochs, steps, std::move(base));
}

}  // namespace keras::engine
