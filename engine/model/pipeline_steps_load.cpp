#include "engine/model/pipeline_steps_load.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "db/run_queries.h"
#include "engine/core/config_json.h"
#include "engine/core/sizes.h"
#include "engine/schedules/schedule_registry.h"

namespace parm {
namespace {

std::string run_text(std::int64_t id) {
  return "run " + std::to_string(id);
}

// The measured run a validation run stands for: its one layer's; several layers are refused, naming them.
std::int64_t measured_run_of_validation(const db::RunInfo& info) {
  const nlohmann::json report = nlohmann::json::parse(info.result_json, nullptr, false);
  std::vector<std::int64_t> runs;
  if (report.is_object() && report.contains("layers") && report["layers"].is_array())
    for (const nlohmann::json& layer : report["layers"])
      if (layer.is_object() && layer.contains("measured_run") && layer["measured_run"].is_number_integer())
        runs.push_back(layer["measured_run"].get<std::int64_t>());
  if (runs.empty())
    throw std::runtime_error(run_text(info.id) +
                             " is a validation run without a stored measured run (it ran "
                             "without --db)");
  if (runs.size() > 1) {
    std::string list;
    for (std::int64_t r : runs) list += (list.empty() ? "" : ", ") + std::to_string(r);
    throw std::runtime_error(run_text(info.id) + " validated " + std::to_string(runs.size()) +
                             " layers: pass one of their measured runs with --run (" + list + ")");
  }
  return runs.front();
}

std::int64_t pick_run(const db::Database& db, std::optional<std::int64_t> asked) {
  if (!asked) {
    if (const auto v = db::latest_run_of_kind(db, "validation", true))
      asked = *v;
    else if (const auto m = db::latest_run_of_kind(db, "measured", true))
      asked = *m;
    else
      throw std::runtime_error(db.path() + ": no measured run (store one with `parm validate --db`)");
  }
  const std::optional<db::RunInfo> info = db.run(*asked);
  if (!info) throw db::DbError(db.path() + ": no " + run_text(*asked));
  if (info->kind == "validation") return measured_run_of_validation(*info);
  if (info->kind == "calibration" || info->kind == "prediction")
    throw std::runtime_error(run_text(*asked) + " is a " + info->kind +
                             " run, not a measured one (`parm runs` lists the measured runs)");
  return *asked;
}

std::vector<StepSample> resolve(const db::Database& db, const std::vector<db::EventRow>& rows) {
  std::vector<StepSample> out;
  out.reserve(rows.size());
  for (const db::EventRow& r : rows)
    out.push_back({db.string(r.schedule), r.rank, r.iteration, r.phase, db.string(r.op), db.string(r.purpose),
                   r.chunk, r.start_ns, r.end_ns});
  return out;
}

}  // namespace

StoredSteps load_stored_steps(const db::Database& db, std::optional<std::int64_t> run) {
  StoredSteps out;
  out.run = pick_run(db, run);
  const db::RunInfo info = *db.run(out.run);
  const ConfigLoad load = config_from_json_text(info.config_json);
  if (!load.ok())
    throw std::runtime_error(db.path() + ": " + run_text(out.run) + " has an unreadable configuration" +
                             (load.issues.items.empty() ? "" : ": " + load.issues.items.front().line()));
  out.config = *load.config;
  out.steps = derive_sizes(out.config).n_ep;
  for (const ScheduleKind kind : out.config.run.schedules)
    if (!pipelines_of(build_schedule(kind, out.config.parallel)).empty())
      out.schedules.emplace_back(to_string(kind));
  std::vector<db::EventRow> events;
  for (const db::EventRow& e : db.events(out.run))
    if (e.chunk >= 0) events.push_back(e);  // pipeline steps only: the rest is most of a run
  out.measured = resolve(db, events);
  out.predicted = resolve(db, db.predictions(out.run));
  return out;
}

StepTimeline stored_step_timeline(const StoredSteps& stored, const std::string& schedule) {
  const ScheduleSpec* spec = find_schedule(schedule);
  if (!spec) throw std::runtime_error("no schedule named '" + schedule + "'");
  return step_timeline(build_schedule(spec->kind, stored.config.parallel), stored.steps, stored.measured,
                       stored.predicted);
}

}  // namespace parm
