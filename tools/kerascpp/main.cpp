// kerascpp: Keras models from the command line. Thin over the library: parse arguments,
// call keras::, print. Errors: one line on stderr, exit status 1, no partial output files.
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "keras/io.h"
#include "keras/keras.h"
#include "saving/atomic_file.h"
#include "tools/kerascpp/cli.h"

namespace kerascpp {

bool is_help(const std::string& a) { return a == "-h" || a == "--help"; }

int parse_int(const std::string& flag, const std::string& v) {
  try {
    size_t used = 0;
    int n = std::stoi(v, &used);
    if (used == v.size()) return n;
  } catch (const std::exception&) {
  }
  throw UsageError(flag + " expects an integer, got \"" + v + "\"");
}

double parse_double(const std::string& flag, const std::string& v) {
  try {
    size_t used = 0;
    double d = std::stod(v, &used);
    if (used == v.size()) return d;
  } catch (const std::exception&) {
  }
  throw UsageError(flag + " expects a number, got \"" + v + "\"");
}

std::string next_value(const std::vector<std::string>& args, size_t& i) {
  if (i + 1 >= args.size()) throw UsageError(args[i] + " needs a value");
  return args[++i];
}

}  // namespace kerascpp

namespace {

using namespace kerascpp;

const char* kMainHelp =
    "usage: kerascpp COMMAND [ARGS]\n"
    "\n"
    "Keras models from the command line.\n"
    "\n"
    "commands:\n"
    "  summary   print a model's summary, as Keras's model.summary()\n"
    "  predict   run a model on .npy inputs and write .npy outputs\n"
    "  convert   rewrite a model file in another format (.keras, .h5)\n"
    "  fit       train a model on .npy arrays or a built-in data set, save it\n"
    "  evaluate  print a model's loss and metrics on .npy arrays or a data set's test split\n"
    "  bench     time a model's predict (or one training epoch) on this machine\n"
    "\n"
    "Run 'kerascpp COMMAND --help' for a command's options.\n";

const char* kSummaryHelp =
    "usage: kerascpp summary MODEL [--style keras3|keras2] [--line-length N]\n"
    "\n"
    "Prints the model's summary exactly as Keras does (Keras 3's table by default).\n"
    "MODEL: a Keras 3 .keras archive, a Keras 1/2/3 .h5 model file, or an architecture .json\n"
    "(model.to_json(), Keras 1, 2 or 3); recognised by content, not by extension.\n"
    "\n"
    "options:\n"
    "  --style S         keras3 (default) or keras2 (tf.keras 2.13+ plain table)\n"
    "  --line-length N   table width (default: as Keras, 76 when not on a terminal)\n";

const char* kPredictHelp =
    "usage: kerascpp predict MODEL IN.npy [IN2.npy ...] -o OUT.npy [-o OUT2.npy ...] [--weights W]\n"
    "                        [--batch-size N] [--layer NAME ...]\n"
    "\n"
    "Runs the model on the inputs (one .npy per model input, batch axis first) and writes one\n"
    "float32 .npy per model output. MODEL: a Keras 3 .keras archive, a Keras 1/2/3 .h5 model\n"
    "file, or an architecture .json (then give --weights, or the weights are initialised as\n"
    "Keras would: glorot_uniform kernels, zero biases).\n"
    "\n"
    "options:\n"
    "  -o, --output F    output file, once per model output (per --layer output with --layer)\n"
    "  --layer NAME      write this layer's output instead of the model's (Keras's\n"
    "                    model.get_layer(NAME).output; every output of a multi-output layer);\n"
    "                    repeat for several layers, in the order of the -o files\n"
    "  --weights W       load weights from W: a Keras 2 .h5 (weights-only or full model),\n"
    "                    a Keras 3 .weights.h5, or a .keras archive\n"
    "  --batch-size N    samples per batch (default 32)\n";

const char* kConvertHelp =
    "usage: kerascpp convert IN OUT [--weights W]\n"
    "\n"
    "Loads the model IN (.keras, .h5 or .json) and saves it as OUT, in the format OUT's extension\n"
    "names: .keras (Keras 3 archive), .weights.h5 (Keras 3 weights only, as save_weights) or\n"
    ".h5/.hdf5 (HDF5 model file). OUT appears complete or not at all.\n"
    "\n"
    "options:\n"
    "  --weights W       load weights from W first (for an architecture .json)\n";

int cmd_summary(const std::vector<std::string>& args) {
  std::string model_path;
  keras::SummaryOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    if (is_help(args[i])) {
      std::cout << kSummaryHelp;
      return 0;
    } else if (args[i] == "--style") {
      options.style = next_value(args, i);
      if (options.style != "keras3" && options.style != "keras2")
        throw UsageError("--style must be keras3 or keras2, got \"" + options.style + "\"");
    } else if (args[i] == "--line-length") {
      options.line_length = parse_int("--line-length", next_value(args, i));
    } else if (!args[i].empty() && args[i][0] == '-') {
      throw UsageError("unknown option " + args[i]);
    } else if (model_path.empty()) {
      model_path = args[i];
    } else {
      throw UsageError("unexpected argument " + args[i]);
    }
  }
  if (model_path.empty()) throw UsageError("summary needs a MODEL (see kerascpp summary --help)");
  keras::Model model = keras::load_model(model_path);
  std::cout << model.summary_string(options);
  return 0;
}

// A model of `model`'s inputs and the named layers' outputs (all of each one's first call).
keras::Model layers_model(const keras::Model& model, const std::vector<std::string>& names) {
  std::vector<keras::KerasTensor> outputs;
  for (const std::string& name : names)
    for (const keras::KerasTensor& t : keras::outputs_of(model.get_layer(name).output())) outputs.push_back(t);
  return keras::Model(model.inputs(), outputs);
}

int cmd_predict(const std::vector<std::string>& args) {
  std::string model_path, weights_path;
  std::vector<std::string> inputs, outputs, layer_names;
  keras::PredictOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    if (is_help(args[i])) {
      std::cout << kPredictHelp;
      return 0;
    } else if (args[i] == "-o" || args[i] == "--output") {
      outputs.push_back(next_value(args, i));
    } else if (args[i] == "--batch-size") {
      options.batch_size = parse_int("--batch-size", next_value(args, i));
      if (options.batch_size <= 0) throw UsageError("--batch-size must be positive");
    } else if (args[i] == "--weights") {
      weights_path = next_value(args, i);
    } else if (args[i] == "--layer") {
      layer_names.push_back(next_value(args, i));
    } else if (!args[i].empty() && args[i][0] == '-') {
      throw UsageError("unknown option " + args[i]);
    } else if (model_path.empty()) {
      model_path = args[i];
    } else {
      inputs.push_back(args[i]);
    }
  }
  if (model_path.empty()) throw UsageError("predict needs a MODEL (see kerascpp predict --help)");
  if (inputs.empty()) throw UsageError("predict needs at least one input .npy file");
  if (outputs.empty()) throw UsageError("predict needs -o OUT.npy");
  keras::Model model = keras::load_model(model_path);
  if (!weights_path.empty()) model.load_weights(weights_path);
  if (!layer_names.empty()) model = layers_model(model, layer_names);
  if (inputs.size() != model.inputs().size())
    throw UsageError("model " + model_path + " has " + std::to_string(model.inputs().size()) + " input(s), " +
                     std::to_string(inputs.size()) + " .npy file(s) given");
  if (outputs.size() != model.outputs().size())
    throw UsageError((layer_names.empty() ? "model " + model_path + " has " : "the --layer layers have ") +
                     std::to_string(model.outputs().size()) + " output(s), " + std::to_string(outputs.size()) +
                     " -o file(s) given");
  std::vector<keras::Tensor> x;
  for (const std::string& p : inputs) x.push_back(keras::io::load_npy(p));
  std::vector<keras::Tensor> y = model.predict(x, options);
  // Write every output beside its target first, then rename them all: no partial results.
  std::vector<std::unique_ptr<keras::saving::AtomicFile>> files;
  for (size_t i = 0; i < y.size(); ++i) {
    files.push_back(std::make_unique<keras::saving::AtomicFile>(outputs[i]));
    keras::io::save_npy(files.back()->temp_path(), y[i]);
  }
  for (auto& f : files) f->commit();
  return 0;
}

int cmd_convert(const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  std::string weights_path;
  for (size_t i = 0; i < args.size(); ++i) {
    if (is_help(args[i])) {
      std::cout << kConvertHelp;
      return 0;
    } else if (args[i] == "--weights") {
      weights_path = next_value(args, i);
    } else if (!args[i].empty() && args[i][0] == '-') {
      throw UsageError("unknown option " + args[i]);
    } else {
      paths.push_back(args[i]);
    }
  }
  if (paths.size() != 2) throw UsageError("convert needs IN and OUT (see kerascpp convert --help)");
  keras::Model model = keras::load_model(paths[0]);
  if (!weights_path.empty()) model.load_weights(weights_path);
  const std::string& out = paths[1];
  const std::string weights_suffix = ".weights.h5";
  if (out.size() > weights_suffix.size() &&
      out.compare(out.size() - weights_suffix.size(), weights_suffix.size(), weights_suffix) == 0)
    model.save_weights(out);
  else
    model.save(out);
  return 0;
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || is_help(args[0])) {
    std::cout << kMainHelp;
    return args.empty() ? 1 : 0;
  }
  const std::map<std::string, std::function<int(const std::vector<std::string>&)>> commands = {
      {"summary", cmd_summary}, {"predict", cmd_predict}, {"convert", cmd_convert},
      {"fit", cmd_fit},         {"bench", cmd_bench},     {"evaluate", cmd_evaluate}};
  auto it = commands.find(args[0]);
  try {
    if (it == commands.end()) throw UsageError("unknown command \"" + args[0] + "\" (see kerascpp --help)");
    return it->second(std::vector<std::string>(args.begin() + 1, args.end()));
  } catch (const std::exception& e) {
    std::cerr << "kerascpp: error: " << one_line(e.what()) << "\n";
    return 1;
  }
}
