#pragma once
// Shared pieces of the callbacks: which direction a monitored value should go (Keras's
// MonitorCallback._set_monitor_op), and Keras's messages and warnings.
#include <string>

#include "keras/model.h"

namespace keras::callbacks::detail {

// True when larger values of `monitor` are better. mode "min"/"max" decide; "auto" takes
// "loss" as minimized and otherwise the direction of the compiled metric of that name
// ("val_" stripped). Throws ValueError naming `callback` when "auto" cannot tell.
bool monitor_maximizes(const std::string& mode, const std::string& monitor, const Model& model,
                       const std::string& callback);
// Keras's io_utils.print_msg: a line on standard output.
void print_msg(const std::string& message);
// Python's warnings.warn: "UserWarning: ..." on standard error.
void warn(const std::string& message);

}  // namespace keras::callbacks::detail
