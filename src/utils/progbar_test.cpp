// The progress bar's text, from fixed timings (a fake clock), against the formats of Keras 3's
// keras/src/utils/progbar.py (KERAS_SPEC §9.2).
#include "utils/progbar.h"

#include <gtest/gtest.h>

#include <sstream>

namespace keras::engine {
namespace {

std::string bars(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "\u2501";
  return s;
}

// A clock the test moves by hand.
struct FakeClock {
  double now = 0;
  std::function<double()> fn() {
    return [this] { return now; };
  }
};

using Values = std::vector<std::pair<std::string, double>>;

TEST(Progbar, FormatPieces) {
  EXPECT_EQ(format_log_value(0.3635), " 0.3635");
  EXPECT_EQ(format_log_value(0.0005), " 5.0000e-04");
  EXPECT_EQ(format_log_value(-0.5), " -0.5000");
  EXPECT_EQ(format_log_value(-0.5, false), " -5.0000e-01");  // verbose 2 tests avg > 1e-3
  EXPECT_EQ(format_log_value(0.0), " 0.0000e+00");
  EXPECT_EQ(format_time_per_unit(0, "step"), " 0s/step");
  EXPECT_EQ(format_time_per_unit(2.4, "step"), " 2s/step");
  EXPECT_EQ(format_time_per_unit(0.011, "step"), " 11ms/step");
  EXPECT_EQ(format_time_per_unit(0.0005, "step"), " 500us/step");
  EXPECT_EQ(format_eta(59.9), "59s");
  EXPECT_EQ(format_eta(65), "1:05");
  EXPECT_EQ(format_eta(3725), "1:02:05");
}

// Off a terminal: one plain line per bar, when it is finalized.
TEST(Progbar, FinalLineOffATerminal) {
  std::ostringstream out;
  FakeClock clock;
  Progbar bar({.target = 422, .dynamic_display = false, .out = &out, .clock = clock.fn()});
  clock.now = 1.0;  // the first step is slow and left out of the time per step
  bar.update(1, {{"accuracy", 0.5}, {"loss", 1.0}}, false);
  for (int step = 2; step <= 422; ++step) {
    clock.now += 0.011;
    bar.update(step, {{"accuracy", 0.8}, {"loss", 0.4}}, false);
  }
  EXPECT_EQ(out.str(), "");
  bar.update(422, {{"accuracy", 0.8896}, {"loss", 0.3635}, {"val_accuracy", 0.9785}, {"val_loss", 0.0790}}, true);
  EXPECT_EQ(out.str(),
            "422/422 " + bars(20) +
                " 6s 11ms/step - accuracy: 0.8896 - loss: 0.3635 - val_accuracy: 0.9785 - val_loss: 0.0790\n");
}

// On a terminal: redrawn in place with Keras's colours, the ETA while running, values
// averaged over the steps since the last update until the final one.
TEST(Progbar, RedrawnInPlaceOnATerminal) {
  std::ostringstream out;
  FakeClock clock;
  Progbar bar({.target = 10, .dynamic_display = true, .out = &out, .clock = clock.fn()});
  clock.now = 1.0;
  bar.update(1, {{"loss", 1.0}}, false);
  std::string first = "\r\x1b[1m 1/10\x1b[0m \x1b[32m" + bars(2) + "\x1b[0m\x1b[37m" + bars(18) +
                      "\x1b[0m \x1b[1m9s\x1b[0m 1s/step - loss: 1.0000";
  EXPECT_EQ(out.str(), first);
  out.str("");
  clock.now = 1.5;
  bar.update(2, {{"loss", 0.5}}, false);
  // Width of the previous line: " 1/10 " + 20 bars + " 9s" + " 1s/step - loss: 1.0000" = 52.
  std::string second = std::string(52, '\b') + "\r\x1b[1m 2/10\x1b[0m \x1b[32m" + bars(4) + "\x1b[0m\x1b[37m" +
                       bars(16) + "\x1b[0m \x1b[1m4s\x1b[0m 500ms/step - loss: 0.7500";
  EXPECT_EQ(out.str(), second);
  out.str("");
  clock.now = 5.5;
  bar.update(10, {{"loss", 0.25}}, true);
  EXPECT_EQ(out.str(), std::string(55, '\b') + "\r\x1b[1m10/10\x1b[0m \x1b[32m" + bars(20) + "\x1b[0m\x1b[37m\x1b[0m" +
                           " \x1b[1m6s\x1b[0m 500ms/step - loss: 0.2500\n");
}

TEST(Progbar, Verbose2) {
  std::ostringstream out;
  FakeClock clock;
  Progbar bar({.target = 422, .verbose = 2, .dynamic_display = true, .out = &out, .clock = clock.fn()});
  clock.now = 1.0;
  bar.update(1, {{"accuracy", 0.5}, {"loss", 1.0}}, false);
  clock.now = 5.631;
  bar.update(422, {{"accuracy", 0.8896}, {"loss", 0.3635}}, false);
  EXPECT_EQ(out.str(), "");
  bar.update(422, {{"accuracy", 0.8896}, {"loss", 0.3635}, {"val_loss", 0.0005}}, true);
  EXPECT_EQ(out.str(), "422/422 - 6s - 11ms/step - accuracy: 0.8896 - loss: 0.3635 - val_loss: 5.0000e-04\n");
}

TEST(ProgbarLogger, EpochLinesOnlyWithSeveralEpochs) {
  for (int epochs : {1, 2}) {
    std::ostringstream out;
    FakeClock clock;
    auto logger = make_progbar_logger(1, epochs, 2, {.dynamic_display = false, .out = &out, .clock = clock.fn()});
    Logs logs;
    logs["loss"] = 0.5;
    logger->on_train_begin({});
    logger->on_epoch_begin(0, {});
    clock.now = 1;
    logger->on_train_batch_end(0, logs);
    clock.now = 1.25;
    logger->on_train_batch_end(1, logs);
    logger->on_test_begin({});  // validation inside fit is silent
    logger->on_test_batch_end(0, logs);
    logger->on_test_end(logs);
    logs["val_loss"] = 0.25;
    logger->on_epoch_end(0, logs);
    std::string line = "2/2 " + bars(20) + " 1s 250ms/step - loss: 0.5000 - val_loss: 0.2500\n";
    EXPECT_EQ(out.str(), (epochs > 1 ? "Epoch 1/2\n" : "") + line);
  }
}

}  // namespace
}  // namespace keras::engine
