#include "engine/cli/summary_table.h"

#include <cstdio>

namespace parm::cli {

std::string format_speedup(const std::optional<double>& speedup) {
  if (!speedup) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", *speedup);
  return buf;
}

void print_summary_table(const Config& c, const std::vector<ScheduleSummary>& rows) {
  std::printf(
      "%lld warm-up + %lld measured iterations; per iteration the slowest rank, median over iterations\n\n",
      (long long)c.run.warmup, (long long)c.run.iterations);
  std::printf("%-8s %10s %10s %10s %8s %10s %10s\n", "schedule", "fwd ms", "bwd ms", "total ms", "vs B_DS",
              "intra MB", "inter MB");
  for (const ScheduleSummary& r : rows)
    std::printf("%-8s %10.3f %10.3f %10.3f %8s %10.3f %10.3f\n", std::string(to_string(r.kind)).c_str(),
                r.forward_ms, r.backward_ms, r.total_ms, format_speedup(r.speedup_vs_bds).c_str(),
                double(r.intra_bytes) / 1e6, double(r.inter_bytes) / 1e6);
}

}  // namespace parm::cli
