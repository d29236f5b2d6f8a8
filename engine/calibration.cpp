#include "engine/calibration.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <type_traits>

namespace parm {
namespace {

double share(std::int64_t n) {
  return n > 1 ? static_cast<double>(n - 1) / static_cast<double>(n) : 1.0;
}

// Reads field `key` of `j` as T; throws naming `where.key` when missing or mistyped.
template <typename T>
T field(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const std::string name = where.empty() ? key : where + "." + key;
  if (!j.is_object() || !j.contains(key))
    throw std::runtime_error("calibration: missing field '" + name + "'");
  const nlohmann::json& v = j.at(key);
  // get<integer>() of a fraction or of a value outside T's range is undefined behaviour (found by fuzzing).
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    const bool in_range =
        v.is_number_unsigned()
            ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())
            : v.is_number_integer() && v.get<std::int64_t>() >= std::numeric_limits<T>::min() &&
                  v.get<std::int64_t>() <= std::numeric_limits<T>::max();
    if (!in_range) throw std::runtime_error("calibration: field '" + name + "' must be an integer in range");
  }
  // Names (id, host, op) reach one-line messages; a newline would split them (fuzz_calibration checks).
  if constexpr (std::is_same_v<T, std::string>) {
    const auto control = [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; };
    if (v.is_string() && std::ranges::any_of(v.get_ref<const std::string&>(), control))
      throw std::runtime_error("calibration: field '" + name + "' must not contain control characters");
  }
  try {
    return v.get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error("calibration: field '" + name + "' has the wrong type");
  }
}

template <typename T>
T field_or(const nlohmann::json& j, const std::string& key, const std::string& where, T fallback) {
  return j.is_object() && j.contains(key) ? field<T>(j, key, where) : fallback;
}

}  // namespace

const CalibrationFit* Calibration::find(const std::string& op) const {
  for (const auto& f : fits)
    if (f.op == op) return &f;
  return nullptr;
}

// Fits store t against the spec's size convention n (AllGather output bytes, ReduceScatter input bytes,
// AllReduce buffer bytes), so their slope includes the bus factor; the cost model's beta excludes it.
CommCostParams Calibration::comm_params() const {
  auto need = [this](const char* op) -> const CalibrationFit& {
    const CalibrationFit* f = find(op);
    if (!f) throw std::runtime_error("calibration " + id + ": missing fit '" + op + "'");
    return *f;
  };
  CommCostParams p;
  const auto& a2a = need("alltoall");
  p.alltoall = {a2a.fit.alpha, a2a.fit.beta};
  p.p2p_alpha_ms = need("p2p").fit.alpha;
  // An MP group of one rank moves nothing (calibrate measures no fit for it): its collectives cost zero.
  if (layout.mp <= 1) return p;
  const auto& ag = need("allgather");
  p.allgather = {ag.fit.alpha, ag.fit.beta / share(ag.group_size)};
  const auto& rs = need("reducescatter");
  p.reduce_scatter = {rs.fit.alpha, rs.fit.beta / share(rs.group_size)};
  const auto& ar = need("allreduce");
  p.allreduce = {ar.fit.alpha, ar.fit.beta / (2.0 * share(ar.group_size))};
  return p;
}

nlohmann::json to_json(const Calibration& c) {
  nlohmann::json fits = nlohmann::json::array();
  for (const auto& f : c.fits) {
    nlohmann::json samples = nlohmann::json::array();
    for (const auto& s : f.samples) samples.push_back({{"n", s.n}, {"t", s.t}});
    fits.push_back({{"op", f.op},
                    {"communicator", f.communicator},
                    {"group_size", f.group_size},
                    {"alpha", f.fit.alpha},
                    {"beta", f.fit.beta},
                    {"r2", f.fit.r2},
                    {"sample_count", f.fit.samples},
                    {"samples", samples}});
  }
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
          {"fits", fits}};
}

Calibration calibration_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::runtime_error("calibration: not a JSON object");
  Calibration c;
  c.id = field<std::string>(j, "id", "");
  c.created_at = field_or<std::string>(j, "created_at", "", "");
  c.host = field_or<std::string>(j, "host", "", "");
  const nlohmann::json& layout = j.contains("layout") ? j.at("layout") : nlohmann::json();
  if (!layout.is_object()) throw std::runtime_error("calibration: missing field 'layout'");
  c.layout.ranks = field<std::int64_t>(layout, "ranks", "layout");
  c.layout.gpus_per_node = field<std::int64_t>(layout, "gpus_per_node", "layout");
  c.layout.mp = field<std::int64_t>(layout, "mp", "layout");
  c.layout.esp = field<std::int64_t>(layout, "esp", "layout");
  const auto dtype = parse_dtype(field_or<std::string>(j, "dtype", "", "fp32"));
  if (!dtype) throw std::runtime_error("calibration: field 'dtype' is not a known dtype");
  c.dtype = *dtype;
  c.backend = field_or<std::string>(j, "backend", "", "cpu");
  c.cluster = field_or<std::string>(j, "cluster", "", "");
  c.interference = field_or<double>(j, "interference", "", 1.0);
  if (!(c.interference >= 1.0)) throw std::runtime_error("calibration: field 'interference' must be >= 1");
  if (!j.contains("fits") || !j.at("fits").is_array())
    throw std::runtime_error("calibration: missing field 'fits' (an array)");
  int i = 0;
  for (const auto& f : j.at("fits")) {
    const std::string where = "fits[" + std::to_string(i++) + "]";
    CalibrationFit cf;
    cf.op = field<std::string>(f, "op", where);
    cf.communicator = field_or<std::string>(f, "communicator", where, "");
    cf.group_size = field_or<int>(f, "group_size", where, 1);
    cf.fit.alpha = field<double>(f, "alpha", where);
    cf.fit.beta = field<double>(f, "beta", where);
    cf.fit.r2 = field_or<double>(f, "r2", where, 0.0);
    cf.fit.samples = field_or<int>(f, "sample_count", where, 0);
    if (f.contains("samples")) {
      if (!f.at("samples").is_array())
        throw std::runtime_error("calibration: field '" + where + ".samples' has the wrong type");
      int k = 0;
      for (const auto& s : f.at("samples")) {
        const std::string sw = where + ".samples[" + std::to_string(k++) + "]";
        cf.samples.push_back({field<double>(s, "n", sw), field<double>(s, "t", sw)});
      }
    }
    if (cf.group_size < 1)
      throw std::runtime_error("calibration: field '" + where + ".group_size' must be >= 1");
    c.fits.push_back(std::move(cf));
  }
  return c;
}

Calibration load_calibration_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("calibration: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(path + ": not JSON (" + std::string(e.what()) + ")");
  }
  try {
    return calibration_from_json(j);
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
