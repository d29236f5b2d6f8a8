#include "engine/core/run_result.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "engine/core/config_json.h"
#include "engine/core/result_fields.h"
#include "profiler/phase_timer.h"

namespace parm {
namespace {

using nlohmann::json;

using result_fields::bad_field;
using result_fields::field_of;
using result_fields::member;

std::string get_string(const json& j, const std::string& path, const char* key) {
  const json& v = member(j, path, key);
  if (!v.is_string()) bad_field(field_of(path, key), "expected a string");
  return v.get<std::string>();
}

std::int64_t get_int(const json& j, const std::string& path, const char* key) {
  const json& v = member(j, path, key);
  if (!v.is_number_integer()) bad_field(field_of(path, key), "expected an integer");
  return v.get<std::int64_t>();
}

const json& get_array(const json& j, const std::string& path, const char* key) {
  const json& v = member(j, path, key);
  if (!v.is_array()) bad_field(field_of(path, key), "expected an array");
  return v;
}

std::vector<double> get_seconds(const json& j, const std::string& path, const char* key) {
  const json& a = get_array(j, path, key);
  std::vector<double> out;
  out.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_number())
      bad_field(field_of(path, key) + "[" + std::to_string(i) + "]", "expected a number");
    out.push_back(a[i].get<double>());
  }
  return out;
}

std::string indexed(const std::string& path, const char* key, std::size_t i) {
  return field_of(path, key) + "[" + std::to_string(i) + "]";
}

json to_json(const CommCounter& c) {
  return {{"pass", c.pass},   {"op", c.op},       {"group", c.group}, {"purpose", c.purpose},
          {"fused", c.fused}, {"bytes", c.bytes}, {"calls", c.calls}};
}

CommCounter counter_from_json(const json& j, const std::string& path) {
  CommCounter c;
  c.pass = get_string(j, path, "pass");
  c.op = get_string(j, path, "op");
  c.group = get_string(j, path, "group");
  c.purpose = get_string(j, path, "purpose");
  c.fused = get_string(j, path, "fused");
  c.bytes = get_int(j, path, "bytes");
  c.calls = get_int(j, path, "calls");
  return c;
}

json to_json(const RankScheduleResult& s) {
  json counters = json::array();
  for (const CommCounter& c : s.counters) counters.push_back(to_json(c));
  json out = {{"schedule", to_string(s.kind)}, {"forward_s", s.forward_s},
              {"backward_s", s.backward_s},    {"counters", counters},
              {"capacity", s.capacity},        {"dropped_choices", s.dropped_choices}};
  if (s.verify) out["verify"] = to_json(*s.verify);
  if (!s.exposed_sync_s.empty()) out["exposed_sync_s"] = s.exposed_sync_s;
  if (!s.sync_s.empty()) out["sync_s"] = s.sync_s;
  if (s.loss) out["loss"] = *s.loss;
  return out;
}

RankScheduleResult schedule_from_json(const json& j, const std::string& path) {
  RankScheduleResult s;
  const std::string name = get_string(j, path, "schedule");
  const auto kind = parse_schedule(name);
  if (!kind) bad_field(field_of(path, "schedule"), "unknown schedule '" + name + "'");
  s.kind = *kind;
  s.forward_s = get_seconds(j, path, "forward_s");
  s.backward_s = get_seconds(j, path, "backward_s");
  const json& counters = get_array(j, path, "counters");
  for (std::size_t i = 0; i < counters.size(); ++i)
    s.counters.push_back(counter_from_json(counters[i], indexed(path, "counters", i)));
  s.capacity = get_int(j, path, "capacity");
  s.dropped_choices = get_int(j, path, "dropped_choices");
  if (j.contains("verify")) s.verify = verify_report_from_json(j["verify"], field_of(path, "verify"));
  if (j.contains("exposed_sync_s")) s.exposed_sync_s = get_seconds(j, path, "exposed_sync_s");
  if (j.contains("sync_s")) s.sync_s = get_seconds(j, path, "sync_s");
  if (j.contains("loss")) {
    const json& loss = j["loss"];
    if (!loss.is_number() || !std::isfinite(loss.get<double>()))
      bad_field(field_of(path, "loss"), "expected a finite number");
    s.loss = loss.get<double>();
  }
  return s;
}

json to_json(const RankDevice& d) {
  return {{"name", d.name},
          {"ordinal", d.ordinal},
          {"memory_bytes", d.memory_bytes},
          {"driver", d.driver},
          {"peak_bytes", d.peak_bytes},
          {"allocations", d.allocations},
          {"bus_location", d.bus_location},
          {"uuid", d.uuid},
          {"sm_count", d.sm_count},
          {"compute_major", d.compute_major},
          {"compute_minor", d.compute_minor},
          {"clock_rate_khz", d.clock_rate_khz},
          {"memory_bandwidth_bytes_s", d.memory_bandwidth_bytes_s},
          {"l2_cache_bytes", d.l2_cache_bytes},
          {"comm_library", d.comm_library}};
}

// The GPU properties added in issue 15: absent from older results, checked when present.
void gpu_properties_from_json(const json& j, const std::string& path, RankDevice& d) {
  const auto opt_string = [&](const char* key, std::string& out) {
    if (j.contains(key)) out = get_string(j, path, key);
  };
  const auto opt_int = [&](const char* key, auto& out) {
    if (!j.contains(key)) return;
    const std::int64_t v = get_int(j, path, key);
    if (v < 0 || v > std::numeric_limits<std::remove_reference_t<decltype(out)>>::max())
      bad_field(field_of(path, key), "must be >= 0 and fit");
    out = static_cast<std::remove_reference_t<decltype(out)>>(v);
  };
  opt_string("bus_location", d.bus_location);
  opt_string("uuid", d.uuid);
  opt_int("sm_count", d.sm_count);
  opt_int("compute_major", d.compute_major);
  opt_int("compute_minor", d.compute_minor);
  opt_int("clock_rate_khz", d.clock_rate_khz);
  opt_int("memory_bandwidth_bytes_s", d.memory_bandwidth_bytes_s);
  opt_int("l2_cache_bytes", d.l2_cache_bytes);
  opt_string("comm_library", d.comm_library);
}

RankDevice device_from_json(const json& j, const std::string& path) {
  RankDevice d;
  d.name = get_string(j, path, "name");
  const std::int64_t ordinal = get_int(j, path, "ordinal");
  if (ordinal < -1 || ordinal > 1'000'000)
    bad_field(field_of(path, "ordinal"), "must be -1 (host) or a device");
  d.ordinal = static_cast<int>(ordinal);
  d.memory_bytes = get_int(j, path, "memory_bytes");
  d.driver = get_string(j, path, "driver");
  d.peak_bytes = get_int(j, path, "peak_bytes");
  d.allocations = get_int(j, path, "allocations");
  if (d.memory_bytes < 0 || d.peak_bytes < 0 || d.allocations < 0) bad_field(path, "counts must be >= 0");
  gpu_properties_from_json(j, path, d);
  return d;
}

RankRunResult rank_from_json(const json& j, const std::string& path) {
  RankRunResult r;
  const std::int64_t rank = get_int(j, path, "rank");
  if (rank < 0) bad_field(field_of(path, "rank"), "must be >= 0");
  r.rank = static_cast<int>(rank);
  r.host = get_string(j, path, "host");
  const json& schedules = get_array(j, path, "schedules");
  for (std::size_t i = 0; i < schedules.size(); ++i)
    r.schedules.push_back(schedule_from_json(schedules[i], indexed(path, "schedules", i)));
  if (j.contains("device")) r.device = device_from_json(j["device"], field_of(path, "device"));
  return r;
}

const RankScheduleResult* find_schedule(const RankRunResult& r, ScheduleKind kind) {
  for (const auto& s : r.schedules)
    if (s.kind == kind) return &s;
  return nullptr;
}

// MP and ESP groups stay inside a node by construction; EP spans nodes (spec section 1).
bool is_inter_group(const std::string& group) {
  return group.rfind("EP", 0) == 0;
}

}  // namespace

std::vector<ScheduleSummary> summarize(const RunResult& result) {
  std::vector<ScheduleSummary> rows;
  if (result.ranks.empty()) return rows;
  // Rank 0 lists the schedules in run order; every rank runs the same list.
  for (const RankScheduleResult& first : result.ranks.front().schedules) {
    ScheduleSummary row;
    row.kind = first.kind;
    std::vector<const RankScheduleResult*> per_rank;
    std::size_t iterations = first.forward_s.size();
    for (const RankRunResult& r : result.ranks) {
      const RankScheduleResult* s = find_schedule(r, first.kind);
      if (!s) continue;
      per_rank.push_back(s);
      iterations = std::min({iterations, s->forward_s.size(), s->backward_s.size()});
    }
    // An iteration lasts as long as its slowest rank: max over ranks first, then the median over iterations.
    std::vector<double> fwd, bwd, total;
    for (std::size_t it = 0; it < iterations; ++it) {
      double f = 0, b = 0, t = 0;
      for (const RankScheduleResult* s : per_rank) {
        f = std::max(f, s->forward_s[it]);
        b = std::max(b, s->backward_s[it]);
        t = std::max(t, s->forward_s[it] + s->backward_s[it]);
      }
      fwd.push_back(f);
      bwd.push_back(b);
      total.push_back(t);
    }
    std::vector<double> exposed, sync;
    for (std::size_t it = 0; it < iterations; ++it) {
      double e = 0, y = 0;
      for (const RankScheduleResult* s : per_rank) {
        if (it < s->exposed_sync_s.size()) e = std::max(e, s->exposed_sync_s[it]);
        if (it < s->sync_s.size()) y = std::max(y, s->sync_s[it]);
      }
      exposed.push_back(e);
      sync.push_back(y);
    }
    if (!first.exposed_sync_s.empty()) {
      row.exposed_sync_ms = 1e3 * profiler::median(exposed);
      row.sync_ms = 1e3 * profiler::median(sync);
    }
    row.loss = first.loss;
    row.forward_ms = 1e3 * profiler::median(fwd);
    row.backward_ms = 1e3 * profiler::median(bwd);
    row.total_ms = 1e3 * profiler::median(total);
    for (const CommCounter& c : first.counters)
      (is_inter_group(c.group) ? row.inter_bytes : row.intra_bytes) += c.bytes;
    rows.push_back(row);
  }
  const auto bds = std::find_if(rows.begin(), rows.end(),
                                [](const ScheduleSummary& s) { return s.kind == kSpeedupBaseline; });
  if (bds != rows.end())
    for (ScheduleSummary& row : rows)
      if (row.total_ms > 0) row.speedup_vs_bds = bds->total_ms / row.total_ms;
  return rows;
}

nlohmann::json to_json(const RankRunResult& r) {
  json schedules = json::array();
  for (const auto& s : r.schedules) schedules.push_back(to_json(s));
  return {{"rank", r.rank}, {"host", r.host}, {"schedules", schedules}, {"device", to_json(r.device)}};
}

RankRunResult rank_run_result_from_json(const nlohmann::json& j) {
  return rank_from_json(j, "");
}

nlohmann::json to_json(const RunResult& r) {
  json ranks = json::array();
  for (const auto& rank : r.ranks) ranks.push_back(to_json(rank));
  json out = {{"config", config_to_json(r.config)}, {"backend", r.backend}, {"ranks", ranks}};
  if (r.model) out["unit"] = "model";
  return out;
}

RunResult run_result_from_json(const nlohmann::json& j) {
  RunResult r;
  const json& config = member(j, "", "config");
  if (!config.is_object()) bad_field("config", "expected an object");
  const ConfigLoad load = config_from_json_text(config.dump());
  // Validation warnings are fine here (the run already happened); only unreadable fields are fatal.
  if (!load.config) {
    const auto errors = load.issues.errors();
    bad_field("config", errors.empty() ? "unreadable" : errors.front().line());
  }
  r.config = *load.config;
  r.backend = get_string(j, "", "backend");
  if (j.contains("unit")) {
    const std::string unit = get_string(j, "", "unit");
    if (unit != "model" && unit != "layer") bad_field("unit", "expected \"layer\" or \"model\"");
    r.model = unit == "model";
  }
  const json& ranks = get_array(j, "", "ranks");
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    r.ranks.push_back(rank_from_json(ranks[i], indexed("", "ranks", i)));
    if (r.ranks.back().rank != static_cast<int>(i))
      bad_field(indexed("", "ranks", i) + ".rank", "must equal its index " + std::to_string(i));
  }
  return r;
}

}  // namespace parm
