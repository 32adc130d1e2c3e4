// model.summary(), byte for byte as Keras prints it.
//
// Keras 3 ("keras3", KERAS_SPEC §7.2) is keras/src/utils/summary_utils.py::print_summary, whose
// table is drawn by the `rich` library; so this file carries the parts of rich that decide the
// bytes: Table's column widths (ratio_reduce, with Python's round-half-to-even), the HEAVY_HEAD
// box, Text.wrap for cells (break at spaces; a word longer than its cell is cut with "…"),
// header cells aligned to the bottom and data cells to the top, and Console.print's cropping of
// lines wider than the console (which only bites when line_length is given wider than it).
// The two widths come from two places, as in Python:
//   * line_length: options.line_length, else min(88 or 108, shutil.get_terminal_size() - 4),
//     where the terminal size is $COLUMNS, else the tty size of stdout, else 80 (so 76 off a
//     terminal);
//   * the console width (rich's): $COLUMNS, else 80 on a "dumb" terminal, else the tty size of
//     the first of stdin/stdout/stderr that is a terminal, else 80.
// Colours and bold are left out: Keras prints them only to a terminal.
//
// Keras 2 ("keras2", §7.1) is tf.keras 2.13-2.15's layer_utils.py::print_summary (= tf-keras):
// a plain table of 65 or 98 columns whose fields wrap onto continuation lines.
//
// Text is handled as code points, each taken as one terminal cell (rich measures East Asian
// wide characters as two; layer names rarely have them).
#include "utils/summary.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

#include "keras/errors.h"

namespace keras::engine {

namespace {

using Text = std::u32string;

// ---------------------------------------------------------------- UTF-8 <-> code points

Text decode(const std::string& s) {
  Text out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    char32_t cp = extra == 0 ? c : c & (0x3F >> extra);
    size_t j = i + 1;
    for (int k = 0; k < extra && j < s.size(); ++k, ++j) cp = (cp << 6) | (static_cast<unsigned char>(s[j]) & 0x3F);
    out.push_back(cp);
    i = j;
  }
  return out;
}

std::string encode(const Text& t) {
  std::string out;
  for (char32_t c : t) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

int length(const Text& t) { return static_cast<int>(t.size()); }
Text spaces(int n) { return Text(static_cast<size_t>(std::max(n, 0)), U' '); }
bool is_space(char32_t c) { return c == U' ' || (c >= U'\t' && c <= U'\r'); }

Text rstrip(Text t) {
  while (!t.empty() && is_space(t.back())) t.pop_back();
  return t;
}

// ---------------------------------------------------------------- numbers

// Python's f"{n:,}".
std::string with_commas(Dim n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// readable_memory_size() of both Keras versions; they differ only in the name of the byte unit.
std::string readable_memory_size(double bytes, const char* byte_unit) {
  const char* units[] = {byte_unit, "KB", "MB", "GB", "TB", "PB"};
  for (const char* unit : units) {
    if (bytes / 1024 < 1) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.2f %s", bytes, unit);
      return buf;
    }
    bytes /= 1024;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %s", bytes, units[5]);
  return buf;
}

// ---------------------------------------------------------------- the model

// model.trainable_weights / non_trainable_weights, counted (each weight once). A weight is
// trainable when it is and every layer holding it is (Keras 3 marks the variables of a frozen
// layer non-trainable; this engine keeps the flag on the layer instead).
struct WeightCounts {
  Dim trainable = 0;
  Dim non_trainable = 0;
};

void count_weights(const LayerImpl& layer, bool trainable, std::set<const Variable*>& seen, WeightCounts& counts) {
  trainable = trainable && layer.trainable();
  if (const auto* model = dynamic_cast<const FunctionalImpl*>(&layer)) {
    for (const Layer& l : model->layers()) count_weights(*l, trainable, seen, counts);
    return;
  }
  for (const Variable* v : layer.variables()) {
    if (!seen.insert(v).second) continue;
    (trainable && v->trainable ? counts.trainable : counts.non_trainable) += v->value.size();
  }
}

WeightCounts count_weights(const FunctionalImpl& model) {
  std::set<const Variable*> seen;
  WeightCounts counts;
  count_weights(model, true, seen, counts);
  return counts;
}

// Keras's test in print_summary: a Sequential always; a functional graph when each depth has
// at most one node, that node has at most one input, and no layer is called twice in it.
// (Depths are Keras's map_graph ones: the longest path from a node to an output.)
bool sequential_like(const FunctionalImpl& model) {
  if (dynamic_cast<const SequentialImpl*>(&model) || !model.has_graph()) return true;
  const auto& nodes = model.nodes();  // by decreasing depth: walked backwards, consumers come first
  std::set<const Node*> inputs;
  for (const KerasTensor& t : model.inputs()) inputs.insert(t.node().get());
  std::map<const Node*, int> depth;
  std::map<const LayerImpl*, int> layer_depth;
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    const Node* node = it->get();
    int d = std::max(depth[node], layer_depth[node->layer.get()]);
    layer_depth[node->layer.get()] = d;
    depth[node] = d;
    if (inputs.count(node)) continue;
    for (const KerasTensor& t : node->inputs) depth[t.node().get()] = std::max(depth[t.node().get()], d + 1);
  }
  std::map<int, std::vector<const Node*>> by_depth;
  for (const auto& node : nodes) by_depth[depth[node.get()]].push_back(node.get());
  for (const auto& [d, group] : by_depth)
    if (group.size() > 1 || group[0]->inputs.size() > 1) return false;
  std::map<const LayerImpl*, int> calls;
  for (const auto& node : nodes)
    if (++calls[node->layer.get()] > 1) return false;
  return true;
}

std::string layer_title(const LayerImpl& layer) { return layer.name() + " (" + layer.class_name() + ")"; }

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// ---------------------------------------------------------------- terminal sizes

std::optional<int> columns_of(int fd) {
  winsize ws{};
  if (!isatty(fd) || ioctl(fd, TIOCGWINSZ, &ws) != 0) return std::nullopt;
  return ws.ws_col;
}

// shutil.get_terminal_size().columns: $COLUMNS (int() > 0), else stdout's tty, else 80.
int terminal_columns() {
  if (const char* env = std::getenv("COLUMNS")) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    while (end && *end && std::isspace(static_cast<unsigned char>(*end))) ++end;
    if (end != env && end && *end == '\0' && v > 0) return static_cast<int>(v);
  }
  auto cols = columns_of(STDOUT_FILENO);
  return cols && *cols > 0 ? *cols : 80;
}

// rich.console.Console().width: $COLUMNS when all digits, else 80 for a "dumb" terminal on
// stdout, else the first tty among stdin, stdout, stderr, else 80.
int console_width() {
  if (const char* env = std::getenv("COLUMNS")) {
    std::string s = env;
    if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      long v = std::strtol(env, nullptr, 10);
      if (v > 0) return static_cast<int>(v);
    }
  }
  if (isatty(STDOUT_FILENO)) {
    std::string term = std::getenv("TERM") ? std::getenv("TERM") : "";
    std::transform(term.begin(), term.end(), term.begin(), [](unsigned char c) { return std::tolower(c); });
    if (term == "dumb" || term == "unknown") return 80;
  }
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
    if (auto cols = columns_of(fd)) return *cols > 0 ? *cols : 80;
  return 80;
}

// ---------------------------------------------------------------- rich's text wrapping

// rich._wrap.divide_line: offsets at which to break `text` into lines of `width` cells.
// Words are \s*\S+\s*; a word that fits nowhere is folded (fold) or left whole to be cut later.
std::vector<size_t> divide_line(const Text& text, int width, bool fold) {
  std::vector<size_t> breaks;
  int offset = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos, end = pos;
    while (end < text.size() && is_space(text[end])) ++end;
    if (end == text.size()) break;  // only whitespace left: no word
    while (end < text.size() && !is_space(text[end])) ++end;
    while (end < text.size() && is_space(text[end])) ++end;
    pos = end;
    Text word = text.substr(start, end - start);
    int word_length = length(rstrip(word));
    if (width - offset >= word_length) {
      offset += length(word);
    } else if (word_length > width) {
      if (fold) {
        for (size_t i = 0; i < word.size(); i += static_cast<size_t>(std::max(width, 1))) {
          Text piece = word.substr(i, static_cast<size_t>(std::max(width, 1)));
          if (start) breaks.push_back(start);
          if (i + piece.size() >= word.size())
            offset = length(piece);
          else
            start += piece.size();
        }
      } else {
        if (start) breaks.push_back(start);
        offset = length(word);
      }
    } else if (offset && start) {
      breaks.push_back(start);
      offset = length(word);
    }
  }
  return breaks;
}

std::vector<Text> divide(const Text& text, const std::vector<size_t>& breaks) {
  std::vector<Text> lines;
  size_t from = 0;
  for (size_t b : breaks) {
    lines.push_back(text.substr(from, b - from));
    from = b;
  }
  lines.push_back(text.substr(from));
  return lines;
}

// Text.rstrip_end: drop trailing whitespace beyond `width`.
void rstrip_end(Text& line, int width) {
  int excess = length(line) - width;
  if (excess <= 0) return;
  int ws = 0;
  while (ws < length(line) && is_space(line[line.size() - 1 - static_cast<size_t>(ws)])) ++ws;
  line.resize(line.size() - static_cast<size_t>(std::min(ws, excess)));
}

// Text.truncate with overflow "ellipsis" (cells) or "fold"/"crop" (console lines).
void truncate(Text& line, int width, bool ellipsis) {
  if (length(line) <= width) return;
  if (ellipsis) {
    line.resize(static_cast<size_t>(std::max(width - 1, 0)));
    line += U'…';
  } else {
    line.resize(static_cast<size_t>(std::max(width, 0)));
  }
}

// A table cell's text as rendered by rich in `width` cells (padding excluded): wrapped,
// justified, cut with "…", and padded to exactly `width`.
std::vector<Text> wrap_cell(const Text& text, int width, bool right) {
  std::vector<Text> lines = divide(text, divide_line(text, width, /*fold=*/false));
  for (Text& line : lines) {
    rstrip_end(line, width);
    if (right) line = rstrip(line);
    truncate(line, width, /*ellipsis=*/true);
    if (length(line) > width) line.resize(static_cast<size_t>(width));  // "…" in no room at all
    line = right ? spaces(width - length(line)) + line : line + spaces(width - length(line));
  }
  return lines;
}

// console.print() of one line of plain text: wrapped (folding long words) to the console.
std::vector<Text> wrap_console_text(const Text& text, int width) {
  std::vector<Text> lines = divide(text, divide_line(text, width, /*fold=*/true));
  for (Text& line : lines) {
    rstrip_end(line, width);
    truncate(line, width, /*ellipsis=*/false);
  }
  return lines;
}

// ---------------------------------------------------------------- Keras 3

// rich._ratio.ratio_reduce: take `total` away from `values`, evenly by `ratios`, at most
// `maximums`; Python's round() is half-to-even, as nearbyint is by default.
std::vector<int> ratio_reduce(int total, std::vector<int> ratios, const std::vector<int>& maximums,
                              const std::vector<int>& values) {
  for (size_t i = 0; i < ratios.size(); ++i)
    if (!maximums[i]) ratios[i] = 0;
  int total_ratio = 0;
  for (int r : ratios) total_ratio += r;
  if (!total_ratio) return values;
  int remaining = total;
  std::vector<int> result;
  for (size_t i = 0; i < values.size(); ++i) {
    if (ratios[i] && total_ratio > 0) {
      auto share = static_cast<int>(std::nearbyint(static_cast<double>(ratios[i] * remaining) / total_ratio));
      int distributed = std::min(maximums[i], share);
      result.push_back(values[i] - distributed);
      remaining -= distributed;
      total_ratio -= ratios[i];
    } else {
      result.push_back(values[i]);
    }
  }
  return result;
}

// Widths (padding included, borders excluded) that rich.Table(width=L) gives to fixed-width
// columns: each asks for width + 2 of padding, which always overflows L less the n + 1
// borders, so the excess is taken away evenly (rich's "last resort").
std::vector<int> rich_column_widths(const std::vector<int>& requested, int table_width) {
  int max_width = table_width - static_cast<int>(requested.size()) - 1;
  std::vector<int> widths;
  for (int w : requested) widths.push_back(max_width < 1 ? 1 : std::min(w + 2, max_width));
  int sum = 0;
  for (int w : widths) sum += w;
  if (sum > max_width) widths = ratio_reduce(sum - max_width, std::vector<int>(widths.size(), 1), widths, widths);
  for (int& w : widths) w = std::max(w, 0);
  return widths;
}

struct Box {
  std::string left, fill, divider, right;
};
const Box kTop{"┏", "━", "┳", "┓"};
const Box kHeadRow{"┡", "━", "╇", "┩"};
const Box kRowLine{"├", "─", "┼", "┤"};
const Box kBottom{"└", "─", "┴", "┘"};

std::string rule(const Box& box, const std::vector<int>& widths) {
  std::string line = box.left;
  for (size_t i = 0; i < widths.size(); ++i) {
    if (i) line += box.divider;
    for (int k = 0; k < widths[i]; ++k) line += box.fill;
  }
  return line + box.right;
}

// One table row, possibly several lines tall: header cells sit at the bottom, others at the top.
std::vector<std::string> table_row(const std::vector<std::string>& cells, const std::vector<int>& widths,
                                   const std::vector<bool>& right, bool header) {
  std::vector<std::vector<Text>> rendered;
  size_t height = 1;
  for (size_t c = 0; c < cells.size(); ++c) {
    int content = std::max(widths[c] - 2, 0);
    std::vector<Text> lines;
    for (Text& line : wrap_cell(decode(cells[c]), content, right[c])) lines.push_back(U" " + line + U" ");
    if (widths[c] < 2)
      for (Text& line : lines) line.resize(static_cast<size_t>(std::max(widths[c], 0)));
    height = std::max(height, lines.size());
    rendered.push_back(std::move(lines));
  }
  for (size_t c = 0; c < rendered.size(); ++c) {
    auto blank = spaces(std::max(widths[c], 0));
    auto& lines = rendered[c];
    lines.insert(header ? lines.begin() : lines.end(), height - lines.size(), blank);
  }
  const std::string bar = header ? "┃" : "│";
  std::vector<std::string> out;
  for (size_t i = 0; i < height; ++i) {
    std::string line = bar;
    for (size_t c = 0; c < rendered.size(); ++c) line += encode(rendered[c][i]) + bar;
    out.push_back(line);
  }
  return out;
}

// Keras 3's format_layer_shape: the shapes of the layer's last call, "(None, 8)", or
// "[(None, 8), (None, 4)]" for several outputs; "?" when never called nor built.
std::string keras3_shape(const Shape& shape) {
  std::vector<std::string> dims;
  for (Dim d : shape) dims.push_back(d < 0 ? "None" : std::to_string(d));
  return "(" + join(dims, ", ") + ")";
}

std::string keras3_output_shape(const LayerImpl& layer) {
  std::vector<Shape> shapes;
  auto nodes = layer.inbound_nodes();
  if (!nodes.empty()) {
    shapes = nodes.back()->output_shapes;
  } else if (layer.built() && !layer.build_input_shapes().empty()) {
    try {
      shapes = layer.compute_output_shape(layer.build_input_shapes());
    } catch (const std::exception&) {
      return "?";
    }
  } else {
    return "?";
  }
  if (shapes.size() == 1) return keras3_shape(shapes[0]);
  std::vector<std::string> parts;
  for (const Shape& s : shapes) parts.push_back(keras3_shape(s));
  return "[" + join(parts, ", ") + "]";
}

// "a[0][0], b[0][0]" over the layer's calls in this model; "-" for none.
std::string keras3_connections(const LayerImpl& layer, const std::set<const Node*>& model_nodes) {
  std::vector<std::string> parts;
  for (const auto& node : layer.inbound_nodes()) {
    if (!model_nodes.count(node.get())) continue;
    for (const KerasTensor& t : node->inputs)
      parts.push_back(t.node()->layer->name() + "[" + std::to_string(t.node()->index_in_layer) + "][" +
                      std::to_string(t.index()) + "]");
  }
  return parts.empty() ? "-" : join(parts, ", ");
}

// print_summary's column widths (before rich adds padding): int(position * L) - previous.
std::vector<int> keras3_requested_widths(bool seq, int line_length) {
  std::vector<double> positions =
      seq ? std::vector<double>{0.45, 0.80, 1.0} : std::vector<double>{0.3, 0.56, 0.74, 1.0};
  std::vector<int> widths;
  int current = 0;
  for (double p : positions) {
    int w = static_cast<int>(p * line_length) - current;
    if (w < 4) throw ValueError("Insufficient console width to print summary.");
    widths.push_back(w);
    current += w;
  }
  return widths;
}

// The table's lines, rich.Table(width=line_length, show_lines=True) with HEAVY_HEAD.
std::vector<std::string> keras3_table(const FunctionalImpl& model, bool seq, int line_length) {
  std::vector<std::string> header = {"Layer (type)", "Output Shape", "Param #"};
  std::vector<bool> right = {false, false, true};
  if (!seq) {
    header.push_back("Connected to");
    right.push_back(false);
  }
  std::vector<int> widths = rich_column_widths(keras3_requested_widths(seq, line_length), line_length);
  std::set<const Node*> model_nodes;
  for (const auto& n : model.nodes()) model_nodes.insert(n.get());

  std::vector<std::string> table = {rule(kTop, widths)};
  for (auto& l : table_row(header, widths, right, true)) table.push_back(l);
  table.push_back(rule(kHeadRow, widths));
  auto layers = model.layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerImpl& layer = *layers[i];
    std::vector<std::string> fields = {layer_title(layer), keras3_output_shape(layer),
                                       layer.built() ? with_commas(layer.count_params()) : "0 (unbuilt)"};
    if (!seq) fields.push_back(keras3_connections(layer, model_nodes));
    if (i) table.push_back(rule(kRowLine, widths));
    for (auto& l : table_row(fields, widths, right, false)) table.push_back(l);
  }
  table.push_back(rule(kBottom, widths));
  return table;
}

std::string keras3_summary(const FunctionalImpl& model, const SummaryOptions& options) {
  const bool seq = sequential_like(model);
  int line_length = options.line_length > 0 ? options.line_length : std::min(seq ? 88 : 108, terminal_columns() - 4);
  std::vector<std::string> table = keras3_table(model, seq, line_length);

  // Everything goes through rich's Console.print: text wraps at the console's width, and
  // the table's lines are cropped to it.
  int console = console_width();
  std::string out;
  auto print_text = [&](const std::string& s) {
    for (const Text& line : wrap_console_text(decode(s), console)) out += encode(line) + "\n";
  };
  auto footer = [](const std::string& label, Dim n) {
    return " " + label + " params: " + with_commas(n) + " (" + readable_memory_size(4.0 * static_cast<double>(n), "B") +
           ")";
  };
  print_text("Model: \"" + model.name() + "\"");
  for (const std::string& line : table) {
    Text t = decode(line);
    truncate(t, console, /*ellipsis=*/false);
    out += encode(t) + "\n";
  }
  WeightCounts counts = count_weights(model);
  print_text(footer("Total", counts.trainable + counts.non_trainable));
  print_text(footer("Trainable", counts.trainable));
  print_text(footer("Non-trainable", counts.non_trainable));
  return out;
}

// ---------------------------------------------------------------- Keras 2

// tf.keras's layer.output_shape as str(): a tuple; a list for an InputLayer or several
// outputs; "multiple" when calls disagree or there is no call.
std::string keras2_node_shapes(const Node& node) {
  if (node.output_shapes.size() == 1 && !(node.inputs.empty() && node.layer->class_name() == "InputLayer"))
    return node.output_shapes[0].str();
  std::vector<std::string> parts;
  for (const Shape& s : node.output_shapes) parts.push_back(s.str());
  return "[" + join(parts, ", ") + "]";
}

std::string keras2_output_shape(const LayerImpl& layer) {
  auto nodes = layer.inbound_nodes();
  if (nodes.empty()) return "multiple";
  std::string first = keras2_node_shapes(*nodes[0]);
  for (const auto& node : nodes)
    if (keras2_node_shapes(*node) != first) return "multiple";
  return first;
}

// Python's repr() of a str.
std::string py_repr(const std::string& s) {
  char quote = s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
  std::string out(1, quote);
  for (char c : s) {
    if (c == '\\' || c == quote) out += '\\';
    out += c;
  }
  return out + quote;
}

// str() of the list ['a[0][0]', 'b[0][0]'] of the layer's calls in this model.
std::string keras2_connections(const LayerImpl& layer, const std::set<const Node*>& model_nodes) {
  std::vector<std::string> parts;
  for (const auto& node : layer.inbound_nodes()) {
    if (!model_nodes.count(node.get())) continue;
    for (const KerasTensor& t : node->inputs)
      parts.push_back(py_repr(t.node()->layer->name() + "[" + std::to_string(t.node()->index_in_layer) + "][" +
                              std::to_string(t.index()) + "]"));
  }
  return "[" + join(parts, ", ") + "]";
}

// print_row: each field is cut to its column (one column less than the gap, except the last)
// and continued on further lines, preferring to break just after "),", "},", "]," or "',".
std::vector<std::string> keras2_row(const std::vector<std::string>& fields, const std::vector<int>& positions) {
  std::vector<Text> left;
  for (const auto& f : fields) left.push_back(decode(f));
  const size_t last = positions.size() - 1;
  std::vector<std::string> out;
  while (std::any_of(left.begin(), left.end(), [](const Text& t) { return !t.empty(); })) {
    Text line;
    for (size_t col = 0; col < left.size(); ++col) {
      int start = col ? positions[col - 1] : 0;
      int space = col != last ? 2 : 0;
      int cutoff = positions[col] - start - space - (col != last ? 1 : 0);
      Text fit = left[col].substr(0, static_cast<size_t>(cutoff));
      size_t best = Text::npos;
      for (const Text& mark : {Text(U"),"), Text(U"},"), Text(U"],"), Text(U"',")})
        if (size_t p = fit.find(mark); p != Text::npos) best = std::min(best, p + mark.size());
      if (best != Text::npos) {
        cutoff = static_cast<int>(best);
        fit = fit.substr(0, best);
      }
      if (col == 0) line += U" ";
      line += fit + spaces(space);
      left[col] = left[col].substr(std::min(static_cast<size_t>(cutoff), left[col].size()));
      line += spaces(positions[col] - length(line));
    }
    out.push_back(encode(line));
  }
  return out;
}

std::string keras2_summary(const FunctionalImpl& model, const SummaryOptions& options) {
  if (!model.has_graph())
    throw ValueError(
        "This model has not yet been built. Build the model first by calling `build()` or by "
        "calling the model on a batch of data.");
  const bool seq = sequential_like(model);
  int line_length = options.line_length > 0 ? options.line_length : seq ? 65 : 98;
  std::vector<double> fractions = seq ? std::vector<double>{0.45, 0.85, 1.0} : std::vector<double>{0.3, 0.6, 0.70, 1.0};
  std::vector<int> positions;
  for (double p : fractions) positions.push_back(static_cast<int>(line_length * p));
  for (size_t col = 0; col < positions.size(); ++col) {
    // Python would loop forever on a column with no room; refuse instead.
    int width = positions[col] - (col ? positions[col - 1] : 0) - (col + 1 < positions.size() ? 3 : 0);
    if (width < 1)
      throw ValueError("line_length " + std::to_string(line_length) + " is too small to print the summary");
  }
  std::vector<std::string> header = {"Layer (type)", "Output Shape", "Param #"};
  if (!seq) header.push_back("Connected to");

  std::set<const Node*> model_nodes;
  for (const auto& n : model.nodes()) model_nodes.insert(n.get());
  std::string out = "Model: \"" + model.name() + "\"\n";
  const std::string rule_line(static_cast<size_t>(line_length), '_'),
      double_line(static_cast<size_t>(line_length), '=');
  out += rule_line + "\n";
  for (const auto& l : keras2_row(header, positions)) out += l + "\n";
  out += double_line + "\n";
  for (const Layer& l : model.layers()) {
    const LayerImpl& layer = *l;
    std::vector<std::string> fields = {layer_title(layer), keras2_output_shape(layer)};
    if (seq) {
      fields.push_back(!layer.built() && !layer.is_model() ? "0 (unused)" : std::to_string(layer.count_params()));
    } else {
      fields.push_back(std::to_string(layer.count_params()));
      fields.push_back(keras2_connections(layer, model_nodes));
    }
    for (const auto& row : keras2_row(fields, positions)) out += row + "\n";
    out += std::string(static_cast<size_t>(line_length), ' ') + "\n";
  }
  out += double_line + "\n";
  WeightCounts counts = count_weights(model);
  auto total_line = [](const std::string& label, Dim n) {
    return label + " params: " + std::to_string(n) + " (" + readable_memory_size(4.0 * static_cast<double>(n), "Byte") +
           ")\n";
  };
  out += total_line("Total", counts.trainable + counts.non_trainable);
  out += total_line("Trainable", counts.trainable);
  out += total_line("Non-trainable", counts.non_trainable);
  return out + rule_line + "\n";
}

}  // namespace

std::string format_summary(const FunctionalImpl& model, const SummaryOptions& options) {
  if (options.style == "keras3") return keras3_summary(model, options);
  if (options.style == "keras2") return keras2_summary(model, options);
  throw ValueError("Unknown summary style '" + options.style + "'; expected 'keras3' or 'keras2'");
}

}  // namespace keras::engine
