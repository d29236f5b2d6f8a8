#include "engine/core/grid_file.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/core/config_json.h"
#include "engine/core/json_input.h"

namespace parm {
namespace {

using nlohmann::json;

// Integers up to 2^53 convert exactly from a JSON number (a double); larger ones are refused rather than
// cast.
constexpr double kMaxAxisInteger = 9007199254740992.0;  // 2^53
constexpr std::size_t kMaxErrorLines = 20;

bool is_integer_axis(const std::string& key) {
  return key != "capacity_factor" && key != "ffn_ratio";
}

// The rule a value of axis `key` breaks, or empty when it is acceptable.
std::string axis_value_rule(const std::string& key, double v) {
  if (is_integer_axis(key)) {
    if (!std::isfinite(v) || v != std::floor(v) || v < 1 || v > kMaxAxisInteger)
      return "must be an integer from 1 to 9007199254740992 (2^53)";
    return {};
  }
  if (!std::isfinite(v) || !(v > 0)) return "must be a finite number > 0";
  return {};
}

std::string clip(std::string s) {
  return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

class Collector {
 public:
  explicit Collector(std::string_view source) : source_(source) {}
  void add(const std::string& line) {
    if (lines_.size() < kMaxErrorLines)
      lines_.push_back(printable(source_ + ": " + line));  // a key may hold a newline
    else
      ++dropped_;
  }
  std::vector<std::string> take() {
    if (dropped_ > 0) lines_.push_back(source_ + ": ... and " + std::to_string(dropped_) + " more errors");
    return std::move(lines_);
  }
  bool empty() const { return lines_.empty(); }

 private:
  std::string source_;
  std::vector<std::string> lines_;
  std::size_t dropped_ = 0;
};

void read_axes(const json& axes, Grid& g, Collector& errors) {
  const auto& known = grid_axis_names();
  std::string known_list;
  for (const auto& k : known) known_list += (known_list.empty() ? "" : ", ") + k;
  for (const auto& [key, values] : axes.items()) {
    const std::string where = "axes." + key;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      errors.add(where + ": unknown axis '" + clip(key) + "' (known: " + known_list + ")");
      continue;
    }
    if (!values.is_array() || values.empty()) {
      errors.add(where + ": must be a non-empty list of numbers");
      continue;
    }
    std::vector<double> list;
    list.reserve(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      const json& x = values[i];
      const std::string at = where + "[" + std::to_string(i) + "] = " + clip(x.dump());
      if (!x.is_number()) {
        errors.add(at + ": must be a number");
        continue;
      }
      const double v = x.get<double>();
      if (const std::string rule = axis_value_rule(key, v); !rule.empty()) {
        errors.add(at + ": " + rule);
        continue;
      }
      list.push_back(v);
    }
    g.axes.emplace_back(key, std::move(list));
  }
}

// ffn_hidden = ratio x hidden must stay an exact integer below 2^53 for every combination.
void check_ffn_ratio(const Grid& g, Collector& errors) {
  double max_hidden = static_cast<double>(g.base.layer.hidden);
  const std::vector<double>* ratios = nullptr;
  for (const auto& [key, values] : g.axes) {
    if (key == "hidden")
      for (double v : values) max_hidden = std::max(max_hidden, v);
    if (key == "ffn_ratio") ratios = &values;
  }
  if (!ratios) return;
  for (std::size_t i = 0; i < ratios->size(); ++i)
    if ((*ratios)[i] * max_hidden > kMaxAxisInteger)
      errors.add("axes.ffn_ratio[" + std::to_string(i) + "]: ffn_ratio x hidden must stay below 2^53");
}

void apply_axis(Config& c, const std::string& key, double v) {
  if (!is_integer_axis(key)) {  // only finite and > 0 is checked: 1e195 must not reach the integer cast
    if (key == "capacity_factor") c.layer.capacity_factor = v;
    return;
  }
  const auto i = static_cast<std::int64_t>(v);  // integer axes hold exact integers in [1, 2^53] (checked)
  if (key == "batch")
    c.layer.batch = i;
  else if (key == "seq_len")
    c.layer.seq_len = i;
  else if (key == "hidden")
    c.layer.hidden = i;
  else if (key == "ffn_hidden")
    c.layer.ffn_hidden = i;
  else if (key == "num_experts")
    c.layer.num_experts = i;
  else if (key == "top_k")
    c.layer.top_k = i;
}

}  // namespace

const std::vector<std::string>& grid_axis_names() {
  static const std::vector<std::string> names{"batch",      "seq_len",     "hidden", "ffn_ratio",
                                              "ffn_hidden", "num_experts", "top_k",  "capacity_factor"};
  return names;
}

GridLoad grid_from_json_text(std::string_view text, std::string_view source) {
  GridLoad out;
  const JsonDocument doc = parse_json_text(text, source);
  if (!doc.ok()) {
    out.errors.push_back(doc.error);
    return out;
  }
  Collector errors(source);
  const json& j = *doc.value;
  if (!j.is_object()) {
    errors.add("a grid must be a JSON object with 'base' (a configuration) and 'axes'");
    out.errors = errors.take();
    return out;
  }
  Grid g;
  g.name = "grid";
  for (const auto& [key, value] : j.items()) {
    if (key == "name") {
      if (value.is_string())
        g.name = value.get<std::string>();
      else
        errors.add("name: must be a string");
    } else if (key != "description" && key != "base" && key != "axes") {
      errors.add(clip(key) + ": unknown field (a grid has name, description, base, axes)");
    }
  }
  if (!j.contains("base") || !j["base"].is_object()) {
    errors.add("base: missing or not an object (the configuration every axis varies)");
  } else {
    const ConfigLoad load = config_from_json_text(j["base"].dump());
    for (const auto& issue : load.issues.errors()) errors.add("base: " + issue.line());
    if (load.config && load.ok()) g.base = *load.config;
  }
  if (!j.contains("axes") || !j["axes"].is_object())
    errors.add("axes: missing or not an object (axis name -> list of values)");
  else
    read_axes(j["axes"], g, errors);
  if (errors.empty()) check_ffn_ratio(g, errors);
  if (errors.empty()) {
    out.grid = std::move(g);
    return out;
  }
  out.errors = errors.take();
  return out;
}

GridLoad load_grid_file(const std::string& path) {
  GridLoad out;
  std::string error;
  const auto text = read_text_file(path, JsonLimits{}.max_file_bytes, error);
  if (!text) {
    out.errors.push_back(error);
    return out;
  }
  return grid_from_json_text(*text, path);
}

bool is_grid_file(const std::string& path) {
  const JsonDocument doc = read_json_file(path);
  return doc.ok() && doc.value->is_object() && doc.value->contains("axes") && doc.value->contains("base");
}

std::optional<std::uint64_t> grid_configuration_count(const Grid& grid) {
  std::uint64_t count = 1;
  for (const auto& axis : grid.axes) {
    const std::uint64_t n = axis.second.size();
    if (n != 0 && count > UINT64_MAX / n) return std::nullopt;
    count *= n;
  }
  return count;
}

Config grid_configuration(const Grid& grid, std::uint64_t index) {
  Config c = grid.base;
  double ratio = 0;
  // Mixed radix, last axis fastest: the order `parm sweep` has always numbered its rows in.
  for (auto axis = grid.axes.rbegin(); axis != grid.axes.rend(); ++axis) {
    const auto& [key, values] = *axis;
    if (values.empty()) continue;
    const double v = values[index % values.size()];
    index /= values.size();
    if (key == "ffn_ratio")
      ratio = v;
    else
      apply_axis(c, key, v);
  }
  // ffn_ratio applies last, so the order of the axes does not matter.
  if (ratio > 0) c.layer.ffn_hidden = static_cast<std::int64_t>(ratio * static_cast<double>(c.layer.hidden));
  return c;
}

}  // namespace parm
