// One stored run compared schedule by schedule and op by op (what `parm validate --db` reports and the GUI's
// comparison page shows): per schedule the measured layer time (engine summarize: slowest rank, median over
// iterations), the predicted one (the stored predicted intervals' last end), the error, the measured speedup
// vs B_DS and the bytes rank 0 moved intra (MP/ESP) and inter (EP) node; per (schedule, phase, op, purpose)
// the measured time (the slowest rank's summed duration per iteration, median over iterations), optionally
// restricted to the events overlapping a time range, and the predicted one.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "db/database.h"
#include "engine/core/config.h"
#include "engine/model/calibration.h"
#include "engine/model/spread.h"

namespace parm {

using OpKey = std::tuple<std::string, int, std::string, std::string>;  // schedule, phase, op, purpose

// [start_ns, end_ns) in run-origin ns (db::EventRow times); an event is in it when it overlaps it.
struct TimeRange {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
};

// A run's measured intervals (measured iterations only), names resolved once so the per-op aggregation can be
// redone for every time range without touching the database.
struct MeasuredOps {
  struct Interval {
    std::uint32_t key = 0;  // index into keys
    std::int32_t iteration = 0;
    std::int32_t rank = 0;
    std::int64_t start_ns = 0;
    std::int64_t end_ns = 0;
    std::int64_t wait_ns = 0;  // a collective's wait for its last member (collective_matching.h), else 0
  };
  std::vector<OpKey> keys;
  std::vector<Interval> intervals;
};

MeasuredOps load_measured_ops(const db::Database& db, std::int64_t run);
// The same from events already read (db.events(run)); `db` only resolves their names.
MeasuredOps load_measured_ops(const db::Database& db, const std::vector<db::EventRow>& events);

// A timeline selection: per schedule, the run-origin range it covers. In one-iteration mode each schedule's
// chosen iteration is shifted to 0, so one drawn range is a different run-origin range per schedule; a
// schedule absent from the map has nothing in the selection.
using ScheduleRanges = std::map<std::string, TimeRange>;

// Per (schedule, phase, op, purpose): the slowest rank's summed duration (ms) per iteration, median over
// iterations. With a range, only the intervals overlapping it count (whole durations).
std::map<OpKey, double> aggregate_measured_ops(const MeasuredOps& ops,
                                               const std::optional<TimeRange>& range = std::nullopt);
// The same with one range per schedule (keys of schedules absent from `ranges` are left out).
std::map<OpKey, double> aggregate_measured_ops(const MeasuredOps& ops, const ScheduleRanges& ranges);
std::map<OpKey, double> measured_ops(const db::Database& db, std::int64_t run);

// The predicted interval's name as the trace writes it: "SAA/AlltoAll" -> "SAA:AlltoAll", "AlltoAll(EP)" ->
// "AlltoAll" (the trace keeps the group in its own column); local ops such as "Split(MP,tokens)" keep theirs.
std::string traced_name(std::string name);

// Per key, the summed predicted duration (ms) of the intervals stored against `run`, named as traced.
std::map<OpKey, double> predicted_ops(const db::Database& db, std::int64_t run);

struct ScheduleComparison {
  std::string schedule;
  std::optional<double> measured_ms;
  std::optional<double> predicted_ms;
  std::optional<double> error_pct;       // |predicted - measured| / measured
  std::optional<double> speedup_vs_bds;  // measured B_DS / measured this
  Spread measured_spread;                // layer ms over iterations (layer_time_spreads); n = 0: not measured
  Spread speedup_spread;                 // speedup_spread(B_DS, this); n = 0 without both
  std::int64_t intra_bytes = 0;          // rank 0, MP/ESP groups, fwd + bwd
  std::int64_t inter_bytes = 0;          // rank 0, EP group, fwd + bwd
};

struct RunComparison {
  std::int64_t run = 0;
  std::vector<ScheduleComparison> schedules;  // registry order, those with a measurement or prediction
  std::optional<std::string> predicted_best;  // argmin of the predicted times (when every one is predicted)
  std::optional<std::string> measured_best;   // measured_best's noise rule (engine/model/measured_best.h)
  std::vector<std::string> measured_tied;     // tied within noise with it (it included); one: a clear winner
};

// Throws db::DbError for a missing run, std::runtime_error for an unreadable result.
RunComparison compare_run(const db::Database& db, std::int64_t run);

// The layer of a stored validation report (run of kind "validation") whose measured_run is `run`, with the
// report's calibration id added as "calibration"; nullopt when no report references the run.
std::optional<nlohmann::json> validation_layer_for(const db::Database& db, std::int64_t run);

// A validation report's layers as a recommendation document in `parm recommend --json`'s shape (calibration,
// layers[{config, chosen, predicted_ms, speedup_vs_B_DS, reason}] plus measured_best and measured_run), so
// a validated grid exports the same way as a single recommendation.
nlohmann::json recommendation_from_validation(const nlohmann::json& report);

// The recommendation for a stored run in `parm recommend --json`'s shape, with "source" naming where it came
// from: a validation run's own report; the report of the validation that measured this run; else computed
// from the run's configuration with `calib` (recommend). Throws std::runtime_error (one line) when none
// applies: no report and no calibration, a calibration of another layout, a missing fit.
nlohmann::json recommendation_for_run(const db::Database& db, std::int64_t run, const Calibration* calib);

}  // namespace parm
