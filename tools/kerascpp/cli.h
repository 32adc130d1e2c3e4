#pragma once
// Argument helpers shared by kerascpp's commands.
#include <stdexcept>
#include <string>
#include <vector>

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

int cmd_fit(const std::vector<std::string>& args);
int cmd_evaluate(const std::vector<std::string>& args);

}  // namespace kerascpp
