#include "engine/cli/summary_table.h"

#include <cstdio>

#include "engine/cli/spread_format.h"

namespace parm::cli {

std::string format_speedup(const std::optional<double>& speedup) {
  if (!speedup) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", *speedup);
  return buf;
}

// The spread when known, else the bare median (a result without per-iteration samples).
std::string time_cell(double median_ms, const Spread* spread) {
  if (spread && spread->n > 0) return format_spread_ms(*spread);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", median_ms);
  return buf;
}

void print_summary_table(const Config& c, const std::vector<ScheduleSummary>& rows,
                         const std::map<ScheduleKind, ScheduleSpreads>& spreads) {
  std::printf(
      "%lld warm-up + %lld measured iterations; per iteration the slowest rank, median [p10-p90] over "
      "iterations\n\n",
      (long long)c.run.warmup, (long long)c.run.iterations);
  std::printf("%-8s %20s %20s %20s %8s %9s %9s\n", "schedule", "fwd ms", "bwd ms", "total ms", "vs B_DS",
              "intra MB", "inter MB");
  for (const ScheduleSummary& r : rows) {
    const auto it = spreads.find(r.kind);
    const ScheduleSpreads* s = it == spreads.end() ? nullptr : &it->second;
    std::printf("%-8s %20s %20s %20s %8s %9.3f %9.3f\n", std::string(to_string(r.kind)).c_str(),
                time_cell(r.forward_ms, s ? &s->forward_ms : nullptr).c_str(),
                time_cell(r.backward_ms, s ? &s->backward_ms : nullptr).c_str(),
                time_cell(r.total_ms, s ? &s->layer_ms : nullptr).c_str(),
                format_speedup(r.speedup_vs_bds).c_str(), double(r.intra_bytes) / 1e6,
                double(r.inter_bytes) / 1e6);
  }
}

nlohmann::json summary_row_json(const ScheduleSummary& r,
                                const std::map<ScheduleKind, ScheduleSpreads>& spreads) {
  nlohmann::json row{{"schedule", to_string(r.kind)},
                     {"forward_ms", r.forward_ms},
                     {"backward_ms", r.backward_ms},
                     {"total_ms", r.total_ms},
                     {"speedup_vs_bds", r.speedup_vs_bds ? nlohmann::json(*r.speedup_vs_bds) : nullptr},
                     {"intra_bytes", r.intra_bytes},
                     {"inter_bytes", r.inter_bytes}};
  if (const auto it = spreads.find(r.kind); it != spreads.end()) {
    row["forward_ms_spread"] = spread_json(it->second.forward_ms);
    row["backward_ms_spread"] = spread_json(it->second.backward_ms);
    row["total_ms_spread"] = spread_json(it->second.layer_ms);
  }
  return row;
}

}  // namespace parm::cli
