#pragma once
// Argument helpers shared by kerascpp's commands.
#include <stdexcept>
#include <string>
#include <vector>

#include "keras/model.h"

namespace kerascpp {

// A wrong command line: reported as one line on stderr, exit status 1.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool is_help(const std::string& a);
int parse_int(const std::string& flag, const std::string& v);
double parse_double(const std::string& flag, const std::string& v);
// The value after args[i] (advancing i); throws UsageError when there is none.
std::string next_value(const std::vector<std::string>& args, size_t& i);

struct XY {
  keras::Tensor x, y;
};
// A data set's split ("fashion_mnist" or "mnist") as --dataset promises: images in [0, 1]
// shaped as the model's input, integer labels.
XY dataset_split(const std::string& name, bool train, const keras::Model& model);

int cmd_bench(const std::vector<std::string>& args);
int cmd_fit(const std::vector<std::string>& args);
int cmd_evaluate(const std::vector<std::string>& args);

}  // namespace kerascpp
