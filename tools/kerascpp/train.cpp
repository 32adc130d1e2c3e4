// kerascpp fit and kerascpp evaluate: training from the command line.
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "keras/datasets.h"
#include "keras/keras.h"
#include "keras/utils.h"
#include "tools/kerascpp/cli.h"
#include "utils/progbar.h"

namespace kerascpp {

namespace {

const char* kFitHelp =
    "usage: kerascpp fit MODEL (--x X.npy --y Y.npy | --dataset fashion_mnist|mnist) -o OUT.keras\n"
    "                    [--epochs N] [--batch-size N] [--validation-split F] [--optimizer NAME]\n"
    "                    [--learning-rate F] [--momentum F] [--loss NAME] [--metrics NAME,...]\n"
    "                    [--no-shuffle] [--seed N] [--verbose 0|1|2] [--weights W]\n"
    "\n"
    "Trains MODEL (a .keras, .h5 or architecture .json) as Keras's model.fit() and saves it to\n"
    "OUT (.keras or .h5; written complete or not at all). The loss, optimizer and metrics default\n"
    "to the file's compile_config; a model loaded with optimizer state resumes from it.\n"
    "\n"
    "options:\n"
    "  --x X.npy, --y Y.npy  training inputs and targets (batch axis first)\n"
    "  --dataset NAME        fashion_mnist (Debian's dataset-fashion-mnist) or mnist (MNIST's\n"
    "                        .gz files in KERAS_HOME/datasets/mnist): the train split, images\n"
    "                        scaled to [0, 1] with a channel axis (reshaped to the model's input\n"
    "                        when it holds 784 values), integer labels (one-hot for\n"
    "                        categorical_crossentropy)\n"
    "  -o, --output OUT      where to save the trained model\n"
    "  --epochs N            (default 1)          --batch-size N        (default 32)\n"
    "  --validation-split F  the last fraction of the data, taken before shuffling (default 0)\n"
    "  --optimizer NAME      sgd, adam, rmsprop, adamw, adagrad, adadelta, adamax, nadam\n"
    "  --learning-rate F     --momentum F (sgd and rmsprop)\n"
    "  --loss NAME           e.g. sparse_categorical_crossentropy, mse\n"
    "  --metrics A,B         e.g. accuracy\n"
    "  --no-shuffle          keep the sample order (default: a new shuffle every epoch)\n"
    "  --seed N              keras.utils.set_random_seed(N): weights, shuffling, dropout\n"
    "  --verbose V           0 silent, 1 progress bar (default), 2 one line per epoch\n"
    "  --weights W           load weights from W first\n";

const char* kEvaluateHelp =
    "usage: kerascpp evaluate MODEL (--x X.npy --y Y.npy | --dataset fashion_mnist|mnist)\n"
    "                         [--batch-size N] [--loss NAME] [--metrics NAME,...] [--weights W]\n"
    "\n"
    "Prints Keras's model.evaluate() results as \"loss: 0.2975 - accuracy: 0.8934\": the loss,\n"
    "then the metrics in compile order. --dataset evaluates on the data set's test split. The\n"
    "loss and metrics default to the file's compile_config.\n";

struct Arguments {
  std::string model, weights, x, y, dataset, output;
  std::optional<std::string> optimizer, loss;
  std::optional<std::vector<std::string>> metrics;
  std::optional<double> learning_rate, momentum;
  keras::FitOptions fit;
  std::optional<uint64_t> seed;
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// Parses the options fit and evaluate share, and fit's own when `fit` is true.
Arguments parse(const std::vector<std::string>& args, bool fit, bool& help) {
  Arguments a;
  a.fit.epochs = 1;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& f = args[i];
    if (is_help(f)) {
      help = true;
      return a;
    } else if (f == "--x") {
      a.x = next_value(args, i);
    } else if (f == "--y") {
      a.y = next_value(args, i);
    } else if (f == "--dataset") {
      a.dataset = next_value(args, i);
    } else if (f == "--batch-size") {
      a.fit.batch_size = parse_int(f, next_value(args, i));
      if (a.fit.batch_size <= 0) throw UsageError("--batch-size must be positive");
    } else if (f == "--loss") {
      a.loss = next_value(args, i);
    } else if (f == "--metrics") {
      a.metrics = split_commas(next_value(args, i));
    } else if (f == "--weights") {
      a.weights = next_value(args, i);
    } else if (fit && (f == "-o" || f == "--output")) {
      a.output = next_value(args, i);
    } else if (fit && f == "--epochs") {
      a.fit.epochs = parse_int(f, next_value(args, i));
      if (a.fit.epochs <= 0) throw UsageError("--epochs must be positive");
    } else if (fit && f == "--validation-split") {
      a.fit.validation_split = parse_double(f, next_value(args, i));
      if (!(a.fit.validation_split >= 0 && a.fit.validation_split < 1))
        throw UsageError("--validation-split must be in [0, 1)");
    } else if (fit && f == "--optimizer") {
      a.optimizer = next_value(args, i);
    } else if (fit && f == "--learning-rate") {
      a.learning_rate = parse_double(f, next_value(args, i));
    } else if (fit && f == "--momentum") {
      a.momentum = parse_double(f, next_value(args, i));
    } else if (fit && f == "--no-shuffle") {
      a.fit.shuffle = false;
    } else if (fit && f == "--seed") {
      int seed = parse_int(f, next_value(args, i));
      if (seed < 0) throw UsageError("--seed must not be negative");
      a.seed = static_cast<uint64_t>(seed);
    } else if (fit && f == "--verbose") {
      a.fit.verbose = parse_int(f, next_value(args, i));
      if (a.fit.verbose < 0 || a.fit.verbose > 2) throw UsageError("--verbose must be 0, 1 or 2");
    } else if (!f.empty() && f[0] == '-') {
      throw UsageError("unknown option " + f);
    } else if (a.model.empty()) {
      a.model = f;
    } else {
      throw UsageError("unexpected argument " + f);
    }
  }
  const char* cmd = fit ? "fit" : "evaluate";
  if (a.model.empty()) throw UsageError(std::string(cmd) + " needs a MODEL (see kerascpp " + cmd + " --help)");
  bool arrays = !a.x.empty() || !a.y.empty();
  if (arrays == !a.dataset.empty()) throw UsageError("give either --x and --y, or --dataset");
  if (arrays && (a.x.empty() || a.y.empty())) throw UsageError("--x and --y go together");
  if (!a.dataset.empty() && a.dataset != "fashion_mnist" && a.dataset != "mnist")
    throw UsageError("--dataset must be fashion_mnist or mnist, got \"" + a.dataset + "\"");
  if (fit && a.output.empty()) throw UsageError("fit needs -o OUT.keras");
  return a;
}

// The optimizer the flags ask for: --optimizer NAME, or the model's own class, with
// --learning-rate and --momentum applied. None when no flag concerns the optimizer.
std::optional<keras::optimizers::Optimizer> optimizer_from_flags(const Arguments& a, const keras::Model& model) {
  if (!a.optimizer && !a.learning_rate && !a.momentum) return std::nullopt;
  nlohmann::json config = nlohmann::json::object();
  std::string name;
  if (a.optimizer) {
    name = *a.optimizer;
  } else if (model.compiled()) {
    name = model.optimizer()->class_name();
    config = model.optimizer()->get_config();
  } else {
    name = "rmsprop";  // compile()'s default
  }
  if (a.learning_rate) config["learning_rate"] = *a.learning_rate;
  if (a.momentum) config["momentum"] = *a.momentum;
  keras::optimizers::Optimizer opt = keras::optimizers::deserialize({{"class_name", name}, {"config", config}});
  std::string cls = opt->class_name();
  if (a.momentum && cls != "SGD" && cls != "RMSprop")
    throw UsageError("--momentum applies to sgd and rmsprop, not " + cls);
  return opt;
}

// Compiles the model when a flag changes its loss, optimizer or metrics (keeping what the
// file's compile_config gave otherwise, the optimizer's state included).
void compile_from_flags(const Arguments& a, keras::Model& model) {
  auto opt = optimizer_from_flags(a, model);
  if (!opt && !a.loss && !a.metrics) {
    if (!model.compiled())
      throw UsageError(a.model + " has no compile_config: give --loss (and --optimizer, --metrics)");
    return;
  }
  keras::CompileOptions c;
  if (opt)
    c.optimizer = *opt;
  else if (model.compiled())
    c.optimizer = model.optimizer();
  if (a.loss)
    c.loss = *a.loss;
  else if (model.compiled())
    c.loss = model.loss();
  else
    throw UsageError(a.model + " has no compile_config: give --loss");
  if (a.metrics) {
    for (const std::string& m : *a.metrics) c.metrics.emplace_back(m);
  } else if (model.compiled()) {
    auto current = model.metrics();
    for (size_t i = 1; i < current.size(); ++i) c.metrics.push_back(current[i]);  // [0] is the loss mean
  }
  model.compile(c);
}

}  // namespace

// A data set's split as --dataset promises: images in [0, 1] shaped as the model's input.
XY dataset_split(const std::string& name, bool train, const keras::Model& model) {
  auto data = name == "mnist" ? keras::datasets::mnist::load_data() : keras::datasets::fashion_mnist::load_data();
  keras::datasets::Split& s = train ? data.train : data.test;
  keras::Shape input = model.inputs().at(0).shape();
  std::vector<keras::Dim> dims{-1};
  keras::Dim values = 1;
  for (int i = 1; i < input.rank(); ++i) {
    dims.push_back(input[i]);
    values = input[i] < 0 ? -1 : values * input[i];
  }
  if (model.inputs().size() != 1 || values != 28 * 28)
    throw UsageError("--dataset " + name + " gives 28x28 images with one channel; model " + model.name() +
                     " takes input of shape " + input.str());
  return {(s.x / 255.0f).reshape(keras::Shape(dims)), s.y};
}

namespace {

// Integer labels become one-hot for categorical_crossentropy, as a Keras script would do
// with to_categorical before fit.
keras::Tensor labels_for(const keras::Model& model, keras::Tensor y) {
  std::string loss = model.loss() ? model.loss()->class_name() : "";
  keras::Shape out = model.outputs().at(0).shape();
  if (loss == "CategoricalCrossentropy" && y.rank() == 1 && out.rank() == 2 && out[1] > 1)
    return keras::utils::to_categorical(y, static_cast<int>(out[1]));
  return y;
}

XY load_xy(const Arguments& a, bool train, const keras::Model& model) {
  XY d = a.dataset.empty() ? XY{keras::io::load_npy(a.x), keras::io::load_npy(a.y)}
                           : dataset_split(a.dataset, train, model);
  d.y = labels_for(model, std::move(d.y));
  return d;
}

keras::Model load(const Arguments& a) {
  keras::Model model = keras::load_model(a.model);
  if (!a.weights.empty()) model.load_weights(a.weights);
  return model;
}

}  // namespace

int cmd_fit(const std::vector<std::string>& args) {
  bool help = false;
  Arguments a = parse(args, true, help);
  if (help) {
    std::cout << kFitHelp;
    return 0;
  }
  if (a.seed) keras::utils::set_random_seed(*a.seed);
  keras::Model model = load(a);
  compile_from_flags(a, model);
  XY d = load_xy(a, true, model);
  model.fit(d.x, d.y, a.fit);
  model.save(a.output);
  if (a.fit.verbose != 0) std::cout << "Saved the trained model to " << a.output << "\n";
  return 0;
}

int cmd_evaluate(const std::vector<std::string>& args) {
  bool help = false;
  Arguments a = parse(args, false, help);
  if (help) {
    std::cout << kEvaluateHelp;
    return 0;
  }
  keras::Model model = load(a);
  compile_from_flags(a, model);
  XY d = load_xy(a, false, model);
  keras::Scores score = model.evaluate(d.x, d.y, {.batch_size = a.fit.batch_size, .verbose = 0});
  for (size_t i = 0; i < score.size(); ++i)
    std::cout << (i ? " - " : "") << score.names()[i] << ":" << keras::engine::format_log_value(score[i]);
  std::cout << "\n";
  return 0;
}

}  // namespace kerascpp
