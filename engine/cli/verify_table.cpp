#include "engine/cli/verify_table.h"

#include <cmath>
#include <cstdio>

namespace parm::cli {
namespace {

std::string error_cell(double e) {
  if (std::isnan(e)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", e);
  return buf;
}

}  // namespace

std::vector<std::pair<ScheduleKind, VerifyReport>> verify_reports(const RunResult& result) {
  std::vector<std::pair<ScheduleKind, VerifyReport>> out;
  if (result.ranks.empty()) return out;
  for (const RankScheduleResult& s : result.ranks.front().schedules)
    if (s.verify) out.emplace_back(s.kind, *s.verify);
  return out;
}

void print_verify_table(const std::vector<std::pair<ScheduleKind, VerifyReport>>& reports) {
  if (reports.empty()) return;
  std::printf(
      "\nverify: max relative error vs the single-process reference (routing validity: a valid routing, and "
      "equal to the reference run on it)\n");
  std::printf("%-8s %-16s %9s %9s %9s %15s %9s  %-6s %s\n", "schedule", "check", "output", "dX", "dWg",
              "experts", "tolerance", "result", "routing checked");
  int failed = 0;
  for (const auto& [kind, v] : reports) {
    std::string experts = error_cell(v.expert_grads);
    if (!std::isnan(v.expert_grads) && v.expert_grads > 0)  // which parameter, when one is off at all
      experts += " " + v.worst_expert_param();
    std::string routing = "-";
    if (v.check == VerifyCheck::RoutingValidity)
      routing = "kept " + std::to_string(v.routing.kept) + ", dropped " + std::to_string(v.routing.dropped) +
                ", dropped tokens " + std::to_string(v.routing.dropped_tokens) + ", slots " +
                std::to_string(v.routing.capacity_slots);
    std::printf("%-8s %-16s %9s %9s %9s %15s %9.1e  %-6s %s\n", std::string(to_string(kind)).c_str(),
                std::string(to_string(v.check)).c_str(), error_cell(v.output).c_str(),
                error_cell(v.input_grad).c_str(), error_cell(v.router_grad).c_str(), experts.c_str(),
                v.tolerance, v.passed ? "PASS" : "FAIL", routing.c_str());
    if (!v.passed) ++failed;
  }
  const int n = static_cast<int>(reports.size());
  if (failed == 0)
    std::printf("verify: PASS (%d of %d schedules)\n", n, n);
  else
    std::printf("verify: FAIL (%d of %d schedules failed)\n", failed, n);
}

std::vector<std::string> verify_failures(const std::vector<std::pair<ScheduleKind, VerifyReport>>& reports) {
  std::vector<std::string> out;
  for (const auto& [kind, v] : reports)
    if (!v.passed)
      out.push_back(std::string(to_string(kind)) + " (" + std::string(to_string(v.check)) +
                    " check): " + v.failure());
  return out;
}

}  // namespace parm::cli
