#include "engine/core/verify_result.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "engine/core/result_fields.h"

namespace parm {
namespace {

using nlohmann::json;
using result_fields::bad_field;
using result_fields::member;

// Errors not compared are written as null (JSON has no NaN) and read back as NaN.
double get_error(const json& j, const std::string& path, const char* key) {
  const json& v = member(j, path, key);
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!v.is_number()) bad_field(path + "." + key, "expected a number or null");
  return v.get<double>();
}

std::int64_t get_count(const json& j, const std::string& path, const char* key) {
  const json& v = member(j, path, key);
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0) bad_field(path + "." + key, "expected a count");
  return v.get<std::int64_t>();
}

json error_json(double e) {
  return std::isnan(e) ? json(nullptr) : json(e);
}

std::string scientific(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", v);
  return buf;
}

}  // namespace

std::string_view to_string(VerifyCheck check) {
  return check == VerifyCheck::Reference ? "reference" : "routing validity";
}

double VerifyReport::worst() const {
  double w = 0;
  for (double e : {output, input_grad, router_grad, expert_grads}) {
    if (std::isnan(e)) return e;
    w = std::max(w, e);
  }
  return w;
}

std::string VerifyReport::worst_expert_param() const {
  const auto it =
      std::max_element(expert_params.begin(), expert_params.end(),
                       [](const ParamError& a, const ParamError& b) { return a.error < b.error; });
  return it == expert_params.end() ? std::string() : it->name;
}

std::string VerifyReport::failure() const {
  if (passed) return {};
  if (!rule_broken.empty()) return "routing rule broken: " + rule_broken;
  const std::pair<const char*, double> tensors[] = {
      {"output", output}, {"dX", input_grad}, {"dWg", router_grad}, {"experts", expert_grads}};
  std::string line;
  for (const auto& [name, error] : tensors) {
    if (!std::isnan(error) && error <= tolerance) continue;
    std::string what = name;
    if (what == "experts" && !worst_expert_param().empty()) what += " (" + worst_expert_param() + ")";
    line += (line.empty() ? "" : ", ") + what + " " + scientific(error);
  }
  return line + " > tolerance " + scientific(tolerance) + " (relative, against the " +
         std::string(check == VerifyCheck::Reference ? "reference" : "reference on this routing") + ")";
}

nlohmann::json to_json(const VerifyReport& v) {
  json params = json::object();
  for (const ParamError& p : v.expert_params) params[p.name] = error_json(p.error);
  json out = {{"check", to_string(v.check)},
              {"output", error_json(v.output)},
              {"input_grad", error_json(v.input_grad)},
              {"router_grad", error_json(v.router_grad)},
              {"expert_grads", error_json(v.expert_grads)},
              {"expert_params", params},
              {"tolerance", v.tolerance},
              {"dropped", v.dropped},
              {"reference_dropped", v.reference_dropped},
              {"passed", v.passed}};
  if (v.check == VerifyCheck::RoutingValidity) {
    out["routing"] = {{"kept", v.routing.kept},
                      {"dropped", v.routing.dropped},
                      {"dropped_tokens", v.routing.dropped_tokens},
                      {"slots", v.routing.capacity_slots}};
    out["rule_broken"] = v.rule_broken;
  }
  if (!v.passed) out["failure"] = v.failure();
  return out;
}

VerifyReport verify_report_from_json(const nlohmann::json& j, const std::string& path) {
  VerifyReport v;
  const json& check = member(j, path, "check");
  if (check == "reference")
    v.check = VerifyCheck::Reference;
  else if (check == "routing validity")
    v.check = VerifyCheck::RoutingValidity;
  else
    bad_field(path + ".check", "expected \"reference\" or \"routing validity\"");
  v.output = get_error(j, path, "output");
  v.input_grad = get_error(j, path, "input_grad");
  v.router_grad = get_error(j, path, "router_grad");
  v.expert_grads = get_error(j, path, "expert_grads");
  const json& params = member(j, path, "expert_params");
  if (!params.is_object()) bad_field(path + ".expert_params", "expected an object");
  for (const auto& [name, value] : params.items())
    v.expert_params.push_back({name, get_error(params, path + ".expert_params", name.c_str())});
  const json& tolerance = member(j, path, "tolerance");
  if (!tolerance.is_number() || tolerance.get<double>() < 0) bad_field(path + ".tolerance", "expected >= 0");
  v.tolerance = tolerance.get<double>();
  v.dropped = get_count(j, path, "dropped");
  v.reference_dropped = get_count(j, path, "reference_dropped");
  const json& passed = member(j, path, "passed");
  if (!passed.is_boolean()) bad_field(path + ".passed", "expected true or false");
  v.passed = passed.get<bool>();
  if (v.check == VerifyCheck::RoutingValidity) {
    const json& r = member(j, path, "routing");
    const std::string rp = path + ".routing";
    v.routing = {get_count(r, rp, "kept"), get_count(r, rp, "dropped"), get_count(r, rp, "dropped_tokens"),
                 get_count(r, rp, "slots")};
    const json& rule = member(j, path, "rule_broken");
    if (!rule.is_string()) bad_field(path + ".rule_broken", "expected a string");
    v.rule_broken = rule.get<std::string>();
  }
  return v;
}

}  // namespace parm
