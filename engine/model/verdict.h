// The answer to "which schedule, why, by how much" for one stored run, kept apart as measured and predicted:
// per schedule the measured layer-time spread (layer_time_spreads) and the speedup over B_DS with its spread;
// the measured best by the noise rule (measured_best.h: "tied within noise" names the tied ones and says that
// the registry order broke the tie); the predicted best (stored predictions, else the validation report);
// and what the verdict is for, in words: layout, nodes, link, calibration and when it was made, the run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "engine/model/run_comparison.h"
#include "engine/model/spread.h"

namespace parm {

struct ScheduleVerdict {
  std::string schedule;
  Spread layer_ms;  // measured, over iterations; n = 0: not measured
  Spread speedup;   // over B_DS (speedup_spread(B_DS, this)); n = 0 without B_DS
  std::optional<double> predicted_ms;
};

// What the verdict is for.
struct VerdictScope {
  std::int64_t mp = 0, esp = 0, ep = 0, ranks = 0;
  std::int64_t nodes = 0, ranks_per_node = 0;
  int hosts = 0;     // distinct hosts the ranks ran on (0: unknown)
  std::string link;  // "local shared memory (cpu)", "emulated cluster c2 (Open MPI v4.1.4)", ...
  std::string backend;
  std::string calibration_id;        // empty: none known
  std::int64_t calibration_run = 0;  // the project's calibration run of that id, 0 when not stored
  std::string calibration_created;   // ISO 8601, from the calibration itself
  std::string run_started_at;
  std::int64_t iterations = 0;  // measured iterations (the spread's sample count)
};

struct Verdict {
  std::int64_t run = 0;
  std::vector<ScheduleVerdict> schedules;     // registry order
  std::optional<std::string> measured_best;   // the noise rule's choice
  std::vector<std::string> measured_tied;     // tied within noise (the best included); one: a clear winner
  std::optional<std::string> predicted_best;  // never merged with measured_best
  std::string predicted_source;               // "stored predictions", "validation run 5", ...
  VerdictScope scope;

  const ScheduleVerdict* of(const std::string& schedule) const;
  bool tie() const { return measured_tied.size() > 1; }
};

// The run a verdict is about: a validation report stands for its first measured run, any other run for
// itself. Reads nothing but `info`.
std::int64_t measured_run_of(const db::RunInfo& info);

// Throws db::DbError for a missing run, std::runtime_error for an unreadable result.
Verdict verdict_for_run(const db::Database& db, std::int64_t run);
// The same from compare_run(db, run) already computed for the measured run `run` (a caller showing both).
Verdict verdict_for_run(const db::Database& db, std::int64_t run, const RunComparison& comparison);

// One line: "S1 recommended: 1.42x faster than B_DS (p10-p90 1.31-1.50x) · predicted best S1 · for N_MP 2 x
// N_ESP 2 x N_EP 1 on 1 node, local shared memory, calibration #3 of 2026-12-01 14:02 · run of ..., 5
// iterations". A tie reads "S1 recommended by the registry order: tied within noise with B_DS, S2 (S1 0.94x
// the speed of B_DS (p10-p90 0.88-1.26x))"; a missing B_DS, one iteration and no measurement each say so in
// words.
std::string verdict_summary(const Verdict& v);

// "2026-12-01T14:02:33Z" -> "2026-12-01 14:02" (anything else unchanged).
std::string short_time(const std::string& iso);

}  // namespace parm
