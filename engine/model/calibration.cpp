#include "engine/model/calibration.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <type_traits>

#include "engine/core/json_input.h"

namespace parm {
namespace {

double share(std::int64_t n) {
  return n > 1 ? static_cast<double>(n - 1) / static_cast<double>(n) : 1.0;
}

std::string shown(const nlohmann::json& v) {
  std::string s = v.dump();
  return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

std::string path_of(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}

[[noreturn]] void refuse(const std::string& field, const nlohmann::json* value, const std::string& rule) {
  throw std::runtime_error(field + (value ? " = " + shown(*value) : std::string()) + ": " + rule);
}

const nlohmann::json* member(const nlohmann::json& j, const std::string& key) {
  const auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string string_field(const nlohmann::json& j, const std::string& key, const std::string& where,
                         const std::optional<std::string>& fallback = std::nullopt) {
  const nlohmann::json* v = member(j, key);
  if (!v) {
    if (fallback) return *fallback;
    refuse(path_of(where, key), nullptr, "missing (a string)");
  }
  if (!v->is_string()) refuse(path_of(where, key), v, "must be a string");
  // Names (id, host, op) reach one-line messages; a newline would split them (found by fuzz_calibration).
  const auto control = [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; };
  if (std::ranges::any_of(v->get_ref<const std::string&>(), control))
    refuse(path_of(where, key), v, "must not contain control characters");
  return v->get<std::string>();
}

// A JSON integer in [lo, hi]; a float or an out-of-range value is refused before any conversion.
std::int64_t integer_field(const nlohmann::json& j, const std::string& key, const std::string& where,
                           std::int64_t lo, std::int64_t hi,
                           std::optional<std::int64_t> fallback = std::nullopt) {
  const nlohmann::json* v = member(j, key);
  const std::string name = path_of(where, key);
  if (!v) {
    if (fallback) return *fallback;
    refuse(name, nullptr, "missing (an integer)");
  }
  const std::string rule = "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  if (v->is_number_unsigned()) {
    const std::uint64_t u = v->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(hi) || (lo > 0 && u < static_cast<std::uint64_t>(lo)))
      refuse(name, v, rule);
    return static_cast<std::int64_t>(u);
  }
  if (!v->is_number_integer()) refuse(name, v, rule);
  const std::int64_t x = v->get<std::int64_t>();
  if (x < lo || x > hi) refuse(name, v, rule);
  return x;
}

// A finite JSON number with `ok(x)`; `rule` says what ok means.
template <typename Ok>
double number_field(const nlohmann::json& j, const std::string& key, const std::string& where, Ok ok,
                    const char* rule, std::optional<double> fallback = std::nullopt) {
  const nlohmann::json* v = member(j, key);
  const std::string name = path_of(where, key);
  if (!v) {
    if (fallback) return *fallback;
    refuse(name, nullptr, "missing (a number)");
  }
  if (!v->is_number()) refuse(name, v, "must be a number");
  const double x = v->get<double>();
  if (!std::isfinite(x)) refuse(name, v, "must be a finite number");
  if (!ok(x)) refuse(name, v, rule);
  return x;
}

const auto nonnegative = [](double x) { return x >= 0; };

CalibrationFit fit_from_json(const nlohmann::json& f, const std::string& where) {
  if (!f.is_object()) refuse(where, &f, "must be an object (op, communicator, alpha, beta, ...)");
  CalibrationFit cf;
  cf.op = string_field(f, "op", where);
  if (cf.op.empty()) refuse(where + ".op", member(f, "op"), "must not be empty");
  cf.communicator = string_field(f, "communicator", where, std::string());
  cf.group_size = static_cast<int>(integer_field(f, "group_size", where, 1, 1 << 24, 1));
  // Above 1e6 (ms, ms per byte or per multiply-add) no measurement lands; such values only make the model
  // print absurd or infinite times.
  const auto plausible = [](double x) { return x >= 0 && x <= 1e6; };
  cf.fit.alpha = number_field(f, "alpha", where, plausible, "must be >= 0 and <= 1e6 (ms)");
  cf.fit.beta = number_field(f, "beta", where, plausible, "must be >= 0 and <= 1e6 (ms per unit)");
  // r^2 may be negative for a poor fit, never above 1.
  cf.fit.r2 = number_field(
      f, "r2", where, [](double x) { return x <= 1; }, "must be <= 1", 0.0);
  cf.fit.samples = static_cast<int>(integer_field(f, "sample_count", where, 0, 1 << 24, 0));
  cf.shape = string_field(f, "shape", where, std::string());
  if (const nlohmann::json* samples = member(f, "samples")) {
    if (!samples->is_array()) refuse(where + ".samples", samples, "must be an array of {n, t}");
    for (std::size_t k = 0; k < samples->size(); ++k) {
      const nlohmann::json& s = (*samples)[k];
      const std::string sw = where + ".samples[" + std::to_string(k) + "]";
      if (!s.is_object()) refuse(sw, &s, "must be an object {n, t}");
      cf.samples.push_back({number_field(s, "n", sw, nonnegative, "must be >= 0"),
                            number_field(s, "t", sw, nonnegative, "must be >= 0 (ms)")});
    }
  }
  return cf;
}

// The recorded environment: optional (older calibrations lack it), strings when present.
void environment_from_json(const nlohmann::json& j, Calibration& c) {
  c.transport = string_field(j, "transport", "", std::string());
  c.comm_library = string_field(j, "comm_library", "", std::string());
  c.nccl_topology = string_field(j, "nccl_topology", "", std::string());
  if (const nlohmann::json* devices = member(j, "devices")) {
    if (!devices->is_array()) refuse("devices", devices, "must be an array of device names (one per rank)");
    for (std::size_t k = 0; k < devices->size(); ++k) {
      const nlohmann::json holder = {{"name", (*devices)[k]}};
      c.devices.push_back(string_field(holder, "name", "devices[" + std::to_string(k) + "]"));
    }
  }
  if (const nlohmann::json* env = member(j, "nccl_env")) {
    if (!env->is_object()) refuse("nccl_env", env, "must be an object of NCCL_* variables");
    for (const auto& [name, value] : env->items()) {
      const bool control = std::ranges::any_of(
          name, [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; });
      if (control) refuse("nccl_env", env, "names must not contain control characters");
      if (!name.starts_with("NCCL_")) refuse("nccl_env." + name, nullptr, "must be an NCCL_* variable");
      c.nccl_env[name] = string_field(*env, name, "nccl_env");
    }
  }
}

}  // namespace

const CalibrationFit* Calibration::find(const std::string& op, const std::string& communicator) const {
  for (const auto& f : fits)
    if (f.op == op && f.communicator == communicator) return &f;
  return nullptr;
}

const CalibrationFit* Calibration::find(const std::string& op) const {
  for (const auto& f : fits)
    if (f.op == op) return &f;
  return nullptr;
}

// Fits store t against the spec's size convention n (AllGather output bytes, ReduceScatter input bytes,
// AllReduce buffer bytes), so their slope includes the bus factor; the cost model's beta excludes it.
CommCostParams Calibration::comm_params() const {
  auto need = [this](const char* op, const char* group, std::int64_t n) -> const CalibrationFit& {
    const CalibrationFit* f = find(op);
    if (!f)
      throw std::runtime_error("calibration " + id + ": missing fit '" + op + "' (the " + group +
                               " group has " + std::to_string(n) +
                               " ranks; run parm calibrate on this layout)");
    return *f;
  };
  CommCostParams p;
  // A group of one rank moves nothing (spec section 6: not executed, costs 0), so calibrate measures no fit
  // for it and none is needed: its parameters stay zero.
  if (layout.ep() > 1) {
    const auto& a2a = need("alltoall", "EP", layout.ep());
    p.alltoall = {a2a.fit.alpha, a2a.fit.beta};
    p.p2p_alpha_ms = need("p2p", "EP", layout.ep()).fit.alpha;
  }
  if (layout.mp <= 1) return p;
  const auto& ag = need("allgather", "MP", layout.mp);
  p.allgather = {ag.fit.alpha, ag.fit.beta / share(ag.group_size)};
  const auto& rs = need("reducescatter", "MP", layout.mp);
  p.reduce_scatter = {rs.fit.alpha, rs.fit.beta / share(rs.group_size)};
  const auto& ar = need("allreduce", "MP", layout.mp);
  p.allreduce = {ar.fit.alpha, ar.fit.beta / (2.0 * share(ar.group_size))};
  return p;
}

nlohmann::json to_json(const Calibration& c) {
  nlohmann::json fits = nlohmann::json::array();
  for (const auto& f : c.fits) {
    nlohmann::json samples = nlohmann::json::array();
    for (const auto& s : f.samples) samples.push_back({{"n", s.n}, {"t", s.t}});
    nlohmann::json fit = {{"op", f.op},
                          {"communicator", f.communicator},
                          {"group_size", f.group_size},
                          {"alpha", f.fit.alpha},
                          {"beta", f.fit.beta},
                          {"r2", f.fit.r2},
                          {"sample_count", f.fit.samples},
                          {"samples", samples}};
    if (!f.shape.empty()) fit["shape"] = f.shape;
    fits.push_back(std::move(fit));
  }
  nlohmann::json env = nlohmann::json::object();
  for (const auto& [name, value] : c.nccl_env) env[name] = value;
  return {{"id", c.id},
          {"created_at", c.created_at},
          {"host", c.host},
          {"layout",
           {{"ranks", c.layout.ranks},
            {"gpus_per_node", c.layout.gpus_per_node},
            {"mp", c.layout.mp},
            {"esp", c.layout.esp}}},
          {"dtype", to_string(c.dtype)},
          {"backend", c.backend},
          {"cluster", c.cluster},
          {"interference", c.interference},
          {"transport", c.transport},
          {"comm_library", c.comm_library},
          {"devices", c.devices},
          {"nccl_env", env},
          {"nccl_topology", c.nccl_topology},
          {"fits", fits}};
}

Calibration calibration_from_json(const nlohmann::json& j) {
  if (!j.is_object()) refuse("calibration", nullptr, "must be a JSON object (id, layout, fits, ...)");
  Calibration c;
  c.id = string_field(j, "id", "");
  c.created_at = string_field(j, "created_at", "", std::string());
  c.host = string_field(j, "host", "", std::string());
  const nlohmann::json* layout = member(j, "layout");
  if (!layout || !layout->is_object())
    refuse("layout", layout, "missing or not an object (ranks, gpus_per_node, mp, esp)");
  constexpr std::int64_t kMaxRanks = 1 << 20;
  c.layout.ranks = integer_field(*layout, "ranks", "layout", 1, kMaxRanks);
  c.layout.gpus_per_node = integer_field(*layout, "gpus_per_node", "layout", 1, kMaxRanks);
  c.layout.mp = integer_field(*layout, "mp", "layout", 1, kMaxRanks);
  c.layout.esp = integer_field(*layout, "esp", "layout", 1, kMaxRanks);
  if (c.layout.ranks % c.layout.gpus_per_node != 0 || c.layout.ranks % c.layout.mp != 0)
    refuse("layout", layout, "ranks must be divisible by gpus_per_node and by mp");
  const auto dtype = parse_dtype(string_field(j, "dtype", "", std::string("fp32")));
  if (!dtype) refuse("dtype", member(j, "dtype"), "not a known dtype (fp32, fp64, bf16, fp16)");
  c.dtype = *dtype;
  c.backend = string_field(j, "backend", "", std::string("cpu"));
  c.cluster = string_field(j, "cluster", "", std::string());
  c.interference = number_field(
      j, "interference", "", [](double x) { return x >= 1 && x <= 1e3; },
      "must be >= 1 and <= 1000 (a slowdown factor)", 1.0);
  environment_from_json(j, c);
  const nlohmann::json* fits = member(j, "fits");
  if (!fits || !fits->is_array()) refuse("fits", fits, "missing or not an array");
  for (std::size_t i = 0; i < fits->size(); ++i) {
    const std::string where = "fits[" + std::to_string(i) + "]";
    CalibrationFit cf = fit_from_json((*fits)[i], where);
    for (std::size_t k = 0; k < c.fits.size(); ++k)
      if (c.fits[k].op == cf.op && c.fits[k].communicator == cf.communicator)
        refuse(where, nullptr,
               "duplicate fit '" + cf.op + "' on '" + cf.communicator + "' (also fits[" + std::to_string(k) +
                   "]; one fit per operation and communicator)");
    c.fits.push_back(std::move(cf));
  }
  return c;
}

Calibration load_calibration_file(const std::string& path) {
  const JsonDocument doc = read_json_file(path);
  if (!doc.ok()) throw std::runtime_error(doc.error);
  try {
    return calibration_from_json(*doc.value);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

void save_calibration_file(const Calibration& c, const std::string& path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("calibration: cannot write " + tmp);
    out << to_json(c).dump(2) << '\n';
    if (!out) throw std::runtime_error("calibration: write to " + tmp + " failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error("calibration: cannot replace " + path);
  }
}

std::optional<std::string> calibration_mismatch(const Calibration& c, const Config& config) {
  const ParallelConfig& p = config.parallel;
  auto differ = [&](const char* name, std::int64_t calib, std::int64_t conf) -> std::optional<std::string> {
    if (calib == conf) return std::nullopt;
    return "calibration " + c.id + " was measured with " + name + "=" + std::to_string(calib) +
           ", the configuration has " + name + "=" + std::to_string(conf);
  };
  if (auto m = differ("mp", c.layout.mp, p.mp)) return m;
  if (auto m = differ("esp", c.layout.esp, p.esp)) return m;
  if (auto m = differ("gpus_per_node", c.layout.gpus_per_node, p.gpus_per_node)) return m;
  if (auto m = differ("nodes", c.layout.nodes(), p.nodes())) return m;
  return std::nullopt;
}

}  // namespace parm
