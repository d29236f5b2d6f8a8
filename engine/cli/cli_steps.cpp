// `parm steps --db P [--run N] [--schedule S2F] [--rank R] [--json]`: the step timeline of a run's fused
// pipelines (engine/model/pipeline_steps.h): per pipeline, stage and step the measured start and end (median
// over the measured iterations, from the pipeline's first step, on one rank: the slowest by default) next to
// the prediction `parm validate --db` stored for the same run, each step's position on its lane (measured,
// predicted, issued), and whether every rank ran, and the model simulated, each lane in issue order. --json
// has every rank. Exit 0: shown; 2: bad input (project, run, schedule or rank), one line.
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "db/database.h"
#include "engine/cli/arg_rules.h"
#include "engine/cli/commands.h"
#include "engine/cli/db_option.h"
#include "engine/model/pipeline_steps_load.h"

namespace parm::cli {
namespace {

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

[[noreturn]] void refuse(const std::string& line) {
  std::cerr << "parm steps: " << line << '\n';
  throw CLI::RuntimeError(2);
}

struct StepsArgs {
  std::string db_path;
  std::int64_t run = 0;  // 0: the newest (pipeline_steps_load.h)
  std::string schedule;
  std::int64_t rank = -1;  // -1: the slowest
  bool json = false;
};

const char* phase_text(int phase) {
  return phase == 0 ? "fwd" : "bwd";
}

nlohmann::json spread_json(const Spread& s) {
  if (s.n == 0) return nullptr;
  return {{"p10", s.p10}, {"p50", s.p50}, {"p90", s.p90}, {"n", s.n}};
}

nlohmann::json optional_json(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json timeline_json(const StepTimeline& t) {
  nlohmann::json pipelines = nlohmann::json::array();
  for (std::size_t pi = 0; pi < t.pipelines.size(); ++pi) {
    const PipelineOp& p = t.pipelines[pi];
    nlohmann::json ranks = nlohmann::json::array(), steps = nlohmann::json::array();
    std::optional<double> predicted_span;
    std::optional<bool> predicted_in_order;
    std::string predicted_disorder;
    for (const PipelineCheck& c : t.checks) {
      if (c.pipeline != pi) continue;
      predicted_span = c.predicted_span_ms;
      predicted_in_order = c.predicted_in_order;
      predicted_disorder = c.predicted_disorder;
      ranks.push_back({{"rank", c.rank},
                       {"measured_span_ms", spread_json(c.measured_span_ms)},
                       {"iterations", c.iterations},
                       {"iterations_in_order", c.iterations_in_order},
                       {"first_disorder", c.first_disorder}});
    }
    for (const StepRow& r : t.rows) {
      if (r.pipeline != pi) continue;
      steps.push_back({{"rank", r.rank},
                       {"stage", r.stage},
                       {"stage_name", p.stages[r.stage]},
                       {"step", r.step},
                       {"lane", std::string(to_string(r.lane))},
                       {"measured_start_ms", spread_json(r.measured_start_ms)},
                       {"measured_end_ms", spread_json(r.measured_end_ms)},
                       {"predicted_start_ms", optional_json(r.predicted_start_ms)},
                       {"predicted_end_ms", optional_json(r.predicted_end_ms)},
                       {"issue_position", r.issue_position},
                       {"measured_position", r.measured_position},
                       {"predicted_position", r.predicted_position}});
    }
    pipelines.push_back({{"phase", phase_text(p.phase)},
                         {"op_index", p.index},
                         {"name", p.name},
                         {"purpose", p.purpose},
                         {"occurrence", p.occurrence},
                         {"stages", p.stages},
                         {"predicted_span_ms", optional_json(predicted_span)},
                         {"predicted_in_order",
                          predicted_in_order ? nlohmann::json(*predicted_in_order) : nlohmann::json(nullptr)},
                         {"predicted_disorder", predicted_disorder},
                         {"ranks", ranks},
                         {"steps", steps}});
  }
  return {{"schedule", t.schedule},
          {"steps", t.steps},
          {"slowest_rank", t.slowest_rank},
          {"pipelines", pipelines}};
}

std::string cell(const Spread& s) {
  if (s.n == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s.p50);
  return buf;
}

std::string cell(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", *v);
  return buf;
}

std::string position(int p) {
  return p < 0 ? "-" : std::to_string(p);
}

void print_timeline(const StepTimeline& t, int rank) {
  for (std::size_t pi = 0; pi < t.pipelines.size(); ++pi) {
    const PipelineOp& p = t.pipelines[pi];
    const PipelineCheck* shown = nullptr;
    int iterations = 0, in_order = 0;
    std::string disorder;
    for (const PipelineCheck& c : t.checks) {
      if (c.pipeline != pi) continue;
      if (c.rank == rank) shown = &c;
      iterations += c.iterations;
      in_order += c.iterations_in_order;
      if (disorder.empty()) disorder = c.first_disorder;
    }
    if (!shown) continue;
    const Spread& span = shown->measured_span_ms;
    std::printf("\n%s %s %s (%s)%s: span measured %s", t.schedule.c_str(), phase_text(p.phase),
                p.name.c_str(), p.purpose.c_str(),
                p.occurrence > 0 ? (" #" + std::to_string(p.occurrence + 1)).c_str() : "",
                cell(span).c_str());
    if (span.n > 0) std::printf(" (%.3f-%.3f)", span.p10, span.p90);
    std::printf(", predicted %s\n", cell(shown->predicted_span_ms).c_str());
    std::printf("  lanes in issue order: measured %d/%d rank-iterations, model %s\n", in_order, iterations,
                !shown->predicted_in_order   ? "-"
                : *shown->predicted_in_order ? "yes"
                                             : "no");
    if (!disorder.empty()) std::printf("  measured: %s\n", disorder.c_str());
    if (!shown->predicted_disorder.empty()) std::printf("  model: %s\n", shown->predicted_disorder.c_str());
    std::printf("  %-14s %4s %-5s %10s %10s %10s %10s  %s\n", "stage", "step", "lane", "meas start",
                "meas end", "pred start", "pred end", "lane pos meas/pred/issue");
    for (const StepRow& r : t.rows) {
      if (r.pipeline != pi || r.rank != rank) continue;
      std::printf("  %-14s %4lld %-5s %10s %10s %10s %10s  %s/%s/%d\n", p.stages[r.stage].c_str(),
                  (long long)r.step, std::string(to_string(r.lane)).c_str(),
                  cell(r.measured_start_ms).c_str(), cell(r.measured_end_ms).c_str(),
                  cell(r.predicted_start_ms).c_str(), cell(r.predicted_end_ms).c_str(),
                  position(r.measured_position).c_str(), position(r.predicted_position).c_str(),
                  r.issue_position);
    }
  }
}

void run_steps(const StepsArgs& a) {
  StoredSteps stored;
  try {
    const db::Database d = db::Database::open(a.db_path, false);
    stored = load_stored_steps(d, a.run > 0 ? std::optional<std::int64_t>(a.run) : std::nullopt);
  } catch (const std::exception& e) {  // DbError (file, missing run) and the loader's refusals
    refuse(e.what());
  }
  std::vector<std::string> names = stored.schedules;
  if (!a.schedule.empty()) {
    bool known = false;
    for (const std::string& n : names) known = known || n == a.schedule;
    std::string list;
    for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
    if (!known)
      refuse("--schedule " + a.schedule + ": not a schedule with fused pipelines in run " +
             std::to_string(stored.run) + " (it has: " + (list.empty() ? "none" : list) + ")");
    names = {a.schedule};
  }
  if (names.empty()) refuse("run " + std::to_string(stored.run) + " ran no schedule with fused pipelines");
  std::vector<StepTimeline> timelines;
  for (const std::string& n : names) timelines.push_back(stored_step_timeline(stored, n));
  const std::int64_t ranks = stored.config.parallel.ranks;
  if (a.rank >= ranks)
    refuse("--rank " + std::to_string(a.rank) + ": run " + std::to_string(stored.run) + " has ranks 0-" +
           std::to_string(ranks - 1));
  const bool predicted = !stored.predicted.empty();
  if (a.json) {
    nlohmann::json out{
        {"run", stored.run},     {"config", stored.config.name}, {"ranks", ranks},
        {"steps", stored.steps}, {"has_prediction", predicted},  {"schedules", nlohmann::json::array()}};
    for (const StepTimeline& t : timelines) out["schedules"].push_back(timeline_json(t));
    std::cout << out.dump(2) << '\n';
    return;
  }
  std::printf(
      "run %lld (%s, %lld ranks, W = %lld steps per stage); ms from the pipeline's first step start\n",
      (long long)stored.run, stored.config.name.c_str(), (long long)ranks, (long long)stored.steps);
  std::printf(
      "measured: median over the measured iterations of one rank; predicted: %s\n",
      predicted ? "the prediction stored with the run" : "none stored (`parm validate --db` stores one)");
  for (const StepTimeline& t : timelines) {
    const int rank = a.rank >= 0 ? static_cast<int>(a.rank) : std::max(0, t.slowest_rank);
    std::printf("\n== %s, rank %d%s\n", t.schedule.c_str(), rank,
                a.rank >= 0 ? "" : " (the slowest in its pipelines; --rank picks another)");
    print_timeline(t, rank);
  }
}

}  // namespace

void add_steps_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "steps", "A run's fused-pipeline steps: measured vs predicted start/end and lane order per step");
  auto a = std::make_shared<StepsArgs>();
  cmd->add_option("--db", a->db_path, "project database file")->required()->check(db_path_check("steps"));
  cmd->add_option("--run", a->run, "measured run, or a validation run of one layer (default: the newest)")
      ->check(integer_in(1, kMaxId));
  cmd->add_option("--schedule", a->schedule, "one fused schedule (default: every one the run has)");
  cmd->add_option("--rank", a->rank, "the rank the table shows (default: the slowest)")
      ->check(integer_in(0, std::numeric_limits<std::int32_t>::max()));
  cmd->add_flag("--json", a->json, "machine-readable output, every rank");
  cmd->callback([a] { run_steps(*a); });
}

}  // namespace parm::cli
