// Before/after of two runs: samples per (rank, iteration), the noise rule of spread.h, and the one-line
// refusal of runs whose layers differ.
#include "engine/model/run_diff.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

#include "engine/core/run_result.h"

namespace parm {
namespace {

std::string text_of(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string x_of(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", v);
  return buf;
}

}  // namespace

RunSamples load_run_samples(const db::Database& db, std::int64_t run) {
  const std::optional<db::RunInfo> info = db.run(run);
  if (!info) throw db::DbError(db.path() + ": no run " + std::to_string(run));
  if (info->kind == "validation" || info->kind == "calibration")
    throw std::runtime_error("run " + std::to_string(run) + " is a " + info->kind +
                             " run, not a measured one (`parm runs` lists the measured runs)");
  RunSamples out;
  out.run = run;
  if (!info->result_json.empty()) {
    RunResult result;
    try {
      result = run_result_from_json(nlohmann::json::parse(info->result_json));
    } catch (const std::exception& e) {
      throw std::runtime_error(db.path() + ": run " + std::to_string(run) +
                               " has an unreadable result: " + e.what());
    }
    out.config = result.config;
    for (const RankRunResult& rank : result.ranks)
      for (const RankScheduleResult& s : rank.schedules) {
        std::vector<double>& samples = out.schedule_ms[std::string(to_string(s.kind))];
        for (std::size_t i = 0; i < s.forward_s.size() && i < s.backward_s.size(); ++i)
          samples.push_back(1e3 * (s.forward_s[i] + s.backward_s[i]));
      }
  }
  const MeasuredOps ops = load_measured_ops(db, run);
  std::vector<std::map<std::pair<int, int>, double>> sums(ops.keys.size());  // (iteration, rank) -> ms
  for (const MeasuredOps::Interval& iv : ops.intervals)
    sums[iv.key][{iv.iteration, iv.rank}] += 1e-6 * static_cast<double>(iv.end_ns - iv.start_ns);
  for (std::size_t k = 0; k < ops.keys.size(); ++k) {
    std::vector<double>& samples = out.op_ms[ops.keys[k]];
    for (const auto& [where, ms] : sums[k]) samples.push_back(ms);
  }
  return out;
}

std::optional<std::string> layer_mismatch(const Config& a, const Config& b) {
  const LayerConfig &x = a.layer, &y = b.layer;
  const auto differ = [](const char* field, const std::string& u, const std::string& v) {
    return std::optional<std::string>(std::string(field) + ": " + u + " vs " + v);
  };
  const auto num = [](auto v) { return text_of(static_cast<double>(v)); };
  if (x.batch != y.batch) return differ("layer.batch", num(x.batch), num(y.batch));
  if (x.seq_len != y.seq_len) return differ("layer.seq_len", num(x.seq_len), num(y.seq_len));
  if (x.hidden != y.hidden) return differ("layer.hidden", num(x.hidden), num(y.hidden));
  if (x.ffn_hidden != y.ffn_hidden) return differ("layer.ffn_hidden", num(x.ffn_hidden), num(y.ffn_hidden));
  if (x.num_experts != y.num_experts)
    return differ("layer.num_experts", num(x.num_experts), num(y.num_experts));
  if (x.top_k != y.top_k) return differ("layer.top_k", num(x.top_k), num(y.top_k));
  if (x.capacity_factor != y.capacity_factor)
    return differ("layer.capacity_factor", num(x.capacity_factor), num(y.capacity_factor));
  if (x.min_capacity != y.min_capacity)
    return differ("layer.min_capacity", num(x.min_capacity), num(y.min_capacity));
  if (x.capacity_rounding != y.capacity_rounding)
    return differ("layer.capacity_rounding", std::string(to_string(x.capacity_rounding)),
                  std::string(to_string(y.capacity_rounding)));
  if (x.drop_tokens != y.drop_tokens)
    return differ("layer.drop_tokens", x.drop_tokens ? "true" : "false", y.drop_tokens ? "true" : "false");
  if (x.activation != y.activation)
    return differ("layer.activation", std::string(to_string(x.activation)),
                  std::string(to_string(y.activation)));
  if (x.bias != y.bias) return differ("layer.bias", x.bias ? "true" : "false", y.bias ? "true" : "false");
  if (x.dtype != y.dtype)
    return differ("layer.dtype", std::string(to_string(x.dtype)), std::string(to_string(y.dtype)));
  if (a.parallel.ranks != b.parallel.ranks)
    return differ("parallel.ranks", num(a.parallel.ranks), num(b.parallel.ranks));
  if (a.parallel.mp != b.parallel.mp) return differ("parallel.mp", num(a.parallel.mp), num(b.parallel.mp));
  if (a.parallel.esp != b.parallel.esp)
    return differ("parallel.esp", num(a.parallel.esp), num(b.parallel.esp));
  return std::nullopt;
}

DiffRow diff_row(const Spread& before, const Spread& after) {
  DiffRow row;
  row.before = before;
  row.after = after;
  if (before.n == 0 || after.n == 0) {
    row.verdict = before.n == 0 ? DiffVerdict::OnlyAfter : DiffVerdict::OnlyBefore;
    return row;
  }
  if (before.p50 > 0) row.change_pct = 100.0 * (after.p50 - before.p50) / before.p50;
  if (tied_within_noise(before, after)) {
    row.verdict = DiffVerdict::NoChange;
  } else if (after.p50 < before.p50) {
    row.verdict = DiffVerdict::Faster;
    row.factor = speedup_spread(before, after);
  } else {
    row.verdict = DiffVerdict::Slower;
    row.factor = speedup_spread(after, before);
  }
  return row;
}

std::string verdict_text(const DiffRow& row) {
  switch (row.verdict) {
    case DiffVerdict::NoChange:
      return "no change within noise";
    case DiffVerdict::OnlyBefore:
      return "only before";
    case DiffVerdict::OnlyAfter:
      return "only after";
    case DiffVerdict::Faster:
    case DiffVerdict::Slower:
      break;
  }
  char spread[48];
  std::snprintf(spread, sizeof spread, " (%.2f-%.2fx)", row.factor.p10, row.factor.p90);
  return std::string(row.verdict == DiffVerdict::Faster ? "faster by " : "slower by ") +
         x_of(row.factor.p50) + spread;
}

RunDiff diff_runs(const RunSamples& before, const RunSamples& after) {
  for (const RunSamples* r : {&before, &after})
    if (!r->config)
      throw std::runtime_error("run " + std::to_string(r->run) +
                               " has no stored configuration: cannot check that the layers match");
  if (const auto field = layer_mismatch(*before.config, *after.config))
    throw std::runtime_error("runs " + std::to_string(before.run) + " and " + std::to_string(after.run) +
                             " measure different layers (" + *field + ")");
  RunDiff diff;
  diff.before_run = before.run;
  diff.after_run = after.run;
  std::vector<std::string> names;  // registry order, then names the registry does not hold
  for (ScheduleKind s : all_schedules()) names.emplace_back(to_string(s));
  for (const RunSamples* r : {&before, &after})
    for (const auto& [name, samples] : r->schedule_ms)
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  const auto samples_of = [](const auto& map, const auto& key) {
    const auto it = map.find(key);
    return it == map.end() ? std::vector<double>{} : it->second;
  };
  for (const std::string& name : names) {
    if (!before.schedule_ms.count(name) && !after.schedule_ms.count(name)) continue;
    DiffRow row = diff_row(spread_of(samples_of(before.schedule_ms, name)),
                           spread_of(samples_of(after.schedule_ms, name)));
    row.schedule = name;
    diff.schedules.push_back(std::move(row));
  }
  std::set<OpKey> keys;
  for (const RunSamples* r : {&before, &after})
    for (const auto& [key, samples] : r->op_ms) keys.insert(key);
  std::vector<OpKey> ordered(keys.begin(), keys.end());  // schedules in the order of the schedule rows
  const auto rank_of = [&](const std::string& name) {
    return std::find(names.begin(), names.end(), name) - names.begin();
  };
  std::stable_sort(ordered.begin(), ordered.end(), [&](const OpKey& a, const OpKey& b) {
    return rank_of(std::get<0>(a)) < rank_of(std::get<0>(b));
  });
  for (const OpKey& key : ordered) {
    DiffRow row = diff_row(spread_of(samples_of(before.op_ms, key)), spread_of(samples_of(after.op_ms, key)));
    row.schedule = std::get<0>(key);
    row.op = key;
    diff.ops.push_back(std::move(row));
  }
  return diff;
}

}  // namespace parm
