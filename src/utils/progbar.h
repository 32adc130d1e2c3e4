#pragma once
// Keras 3's progress bar (keras/src/utils/progbar.py) and the ProgbarLogger callback that
// drives it during fit() and evaluate() (KERAS_SPEC §9.2).
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "keras/callbacks.h"

namespace keras::engine {

class Progbar {
 public:
  struct Options {
    int64_t target = -1;  // -1: unknown
    int width = 20;
    int verbose = 1;
    double interval = 0.05;  // seconds between redraws (verbose 1)
    std::string unit_name = "step";
    // True on a terminal: the bar is redrawn in place ("\b...\r") with Keras's colours. False:
    // only the final line of each bar is written, without escape codes.
    bool dynamic_display = true;
    std::ostream* out = nullptr;    // std::cout when null
    std::function<double()> clock;  // seconds; a steady clock when empty
  };

  explicit Progbar(Options options);
  // Keras's update(current, values, finalize): values are averaged over the steps since the
  // last update until `finalize`, which shows them as given.
  void update(int64_t current, const std::vector<std::pair<std::string, double>>& values, bool finalize);

 private:
  double now() const;
  double estimate_step_duration(int64_t current, double now);
  std::string metrics_text(bool abs_rule) const;

  Options o_;
  double start_ = 0, last_update_ = -1e300;  // the first update always draws
  double time_after_first_step_ = -1;
  int64_t seen_so_far_ = 0;
  size_t prev_total_width_ = 0;
  std::vector<std::string> order_;
  std::vector<std::pair<double, double>> values_;  // (sum, count) per key of order_
};

// " 0.3635" (|v| > 1e-3, or v > 1e-3 when !abs_rule as verbose 2 does) or " 1.2346e-04".
std::string format_log_value(double value, bool abs_rule = true);
// " 11ms/step", " 2s/step", " 850us/step" (Keras's _format_time).
std::string format_time_per_unit(double seconds, const std::string& unit_name);
// "5s", "1:05", "1:00:05".
std::string format_eta(double seconds);
// Whether standard output is a terminal.
bool stdout_is_terminal();

// The callback fit() and evaluate() add when verbose != 0: "Epoch i/N" lines and one bar per
// epoch; silent during fit()'s validation.
std::shared_ptr<callbacks::Callback> make_progbar_logger(int verbose, int epochs, int64_t steps,
                                                         Progbar::Options base = {});

}  // namespace keras::engine
