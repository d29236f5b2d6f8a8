// `parm diff --db P RUN_A RUN_B [--json] [--fail-on-slower]`: two stored runs before (A) and after (B), per
// schedule and per op, with the spread over iterations and ranks and the one noise rule (engine/model/
// run_diff.h). Exit 0: compared; 2: bad input (missing project or run, a run without a stored result, runs
// of different layers: one line naming the first differing field); 3: with --fail-on-slower, a schedule is
// slower beyond noise.
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

#include "db/database.h"
#include "engine/cli/arg_rules.h"
#include "engine/cli/commands.h"
#include "engine/cli/db_option.h"
#include "engine/model/run_diff.h"

namespace parm::cli {
namespace {

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

[[noreturn]] void refuse(const std::string& line, int code = 2) {
  std::cerr << "parm diff: " << line << '\n';
  throw CLI::RuntimeError(code);
}

nlohmann::json spread_json(const Spread& s) {
  if (s.n == 0) return nullptr;
  return {{"p10", s.p10}, {"p50", s.p50}, {"p90", s.p90}, {"n", s.n}};
}

nlohmann::json row_json(const DiffRow& r) {
  nlohmann::json j{{"schedule", r.schedule},
                   {"before_ms", spread_json(r.before)},
                   {"after_ms", spread_json(r.after)},
                   {"change_pct", r.change_pct ? nlohmann::json(*r.change_pct) : nullptr},
                   {"verdict", verdict_text(r)}};
  if (r.verdict == DiffVerdict::Faster || r.verdict == DiffVerdict::Slower)
    j["factor"] = spread_json(r.factor);
  if (r.op) {
    j["phase"] = std::get<1>(*r.op) == 0 ? "fwd" : "bwd";
    j["op"] = std::get<2>(*r.op);
    j["purpose"] = std::get<3>(*r.op);
  }
  return j;
}

std::string ms_cell(const Spread& s) {
  if (s.n == 0) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f (%.3f-%.3f)", s.p50, s.p10, s.p90);
  return buf;
}

std::string change_cell(const DiffRow& r) {
  if (!r.change_pct) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", *r.change_pct);
  return buf;
}

void print_table(const RunDiff& diff) {
  std::printf("run %lld (before) vs run %lld (after); ms: median (p10-p90) over iterations and ranks\n\n",
              (long long)diff.before_run, (long long)diff.after_run);
  std::printf("%-8s %-26s %-26s %8s  %s\n", "schedule", "before ms", "after ms", "change", "verdict");
  for (const DiffRow& r : diff.schedules)
    std::printf("%-8s %-26s %-26s %8s  %s\n", r.schedule.c_str(), ms_cell(r.before).c_str(),
                ms_cell(r.after).c_str(), change_cell(r).c_str(), verdict_text(r).c_str());
  if (diff.ops.empty()) return;
  std::printf("\nper op (summed per iteration and rank)\n");
  std::printf("%-8s %-4s %-24s %-16s %-26s %-26s %8s  %s\n", "schedule", "pass", "op", "purpose", "before ms",
              "after ms", "change", "verdict");
  for (const DiffRow& r : diff.ops)
    std::printf("%-8s %-4s %-24s %-16s %-26s %-26s %8s  %s\n", r.schedule.c_str(),
                std::get<1>(*r.op) == 0 ? "fwd" : "bwd", std::get<2>(*r.op).c_str(),
                std::get<3>(*r.op).c_str(), ms_cell(r.before).c_str(), ms_cell(r.after).c_str(),
                change_cell(r).c_str(), verdict_text(r).c_str());
}

}  // namespace

void add_diff_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "diff", "Compare two stored runs before/after: per schedule and op, with spreads and a noise verdict");
  auto path = std::make_shared<std::string>();
  auto before = std::make_shared<std::int64_t>(0);
  auto after = std::make_shared<std::int64_t>(0);
  auto json = std::make_shared<bool>(false);
  auto fail_on_slower = std::make_shared<bool>(false);
  cmd->add_option("--db", *path, "project database file")->required()->check(db_path_check("diff"));
  cmd->add_option("before", *before, "run id before (see `parm runs`)")
      ->required()
      ->check(integer_in(1, kMaxId));
  cmd->add_option("after", *after, "run id after")->required()->check(integer_in(1, kMaxId));
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->add_flag("--fail-on-slower", *fail_on_slower, "exit 3 when a schedule is slower beyond noise");
  cmd->callback([path, before, after, json, fail_on_slower] {
    RunDiff diff;
    try {
      const db::Database d = db::Database::open(*path, false);
      diff = diff_runs(load_run_samples(d, *before), load_run_samples(d, *after));
    } catch (const std::exception& e) {  // DbError (file, missing run) and the comparison's refusals
      refuse(e.what());
    }
    if (*json) {
      nlohmann::json schedules = nlohmann::json::array(), ops = nlohmann::json::array();
      for (const DiffRow& r : diff.schedules) schedules.push_back(row_json(r));
      for (const DiffRow& r : diff.ops) ops.push_back(row_json(r));
      std::cout << nlohmann::json{{"before", diff.before_run},
                                  {"after", diff.after_run},
                                  {"schedules", schedules},
                                  {"ops", ops}}
                       .dump(2)
                << '\n';
    } else {
      print_table(diff);
    }
    if (*fail_on_slower)
      for (const DiffRow& r : diff.schedules)
        if (r.verdict == DiffVerdict::Slower) {
          std::cerr << "parm diff: " << r.schedule << " is " << verdict_text(r) << '\n';
          throw CLI::RuntimeError(3);
        }
  });
}

}  // namespace parm::cli
