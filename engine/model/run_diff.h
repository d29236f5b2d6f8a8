// Two stored runs compared before/after (`parm diff`, the GUI's "Compare two runs"): per schedule and per
// (schedule, phase, op, purpose) the before and after times with their spread over iterations and ranks, the
// change of the medians and a verdict by the one noise rule (spread.h: overlapping p10-p90 intervals are "no
// change within noise"). Runs of different configurations are compared only when their layer sizes and
// parallel degrees match.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "engine/core/config.h"
#include "engine/model/run_comparison.h"
#include "engine/model/spread.h"

namespace parm {

// What a run contributes to a diff: one sample per (rank, measured iteration).
struct RunSamples {
  std::int64_t run = 0;
  std::optional<Config> config;                            // nullopt: the run stored no result
  std::map<std::string, std::vector<double>> schedule_ms;  // forward + backward, ms
  std::map<OpKey, std::vector<double>> op_ms;              // the op's summed duration in the iteration, ms
};

// Throws db::DbError for a missing run, std::runtime_error (one line) for an unreadable result.
RunSamples load_run_samples(const db::Database& db, std::int64_t run);

// The first field whose value differs between the two configurations' layer sizes (layer.*, parallel.ranks,
// parallel.mp, parallel.esp), as "layer.hidden: 128 vs 256"; nullopt when they match. The name, the
// iteration counts, the backend and gpus_per_node may differ: that is what a before/after changes.
std::optional<std::string> layer_mismatch(const Config& before, const Config& after);

enum class DiffVerdict { NoChange, Faster, Slower, OnlyBefore, OnlyAfter };

struct DiffRow {
  std::string schedule;
  std::optional<OpKey> op;           // nullopt: the schedule's layer time
  Spread before, after;              // n = 0 where the run has no such row
  std::optional<double> change_pct;  // (after p50 - before p50) / before p50, both present
  Spread factor;                     // Faster: before/after; Slower: after/before (speedup_spread)
  DiffVerdict verdict = DiffVerdict::NoChange;
};

// The rule for one row: tied_within_noise -> NoChange, else Faster or Slower with factor's spread.
DiffRow diff_row(const Spread& before, const Spread& after);

// "no change within noise", "faster by 1.23x (1.10-1.35x)", "slower by 1.20x (1.05-1.40x)", "only before",
// "only after".
std::string verdict_text(const DiffRow& row);

struct RunDiff {
  std::int64_t before_run = 0, after_run = 0;
  std::vector<DiffRow> schedules;  // registry order, then any other name
  std::vector<DiffRow> ops;        // by (schedule, phase, op, purpose)
};

// Throws std::runtime_error with one line when the runs cannot be compared: a run without a stored
// configuration, or layer sizes that differ (layer_mismatch's field).
RunDiff diff_runs(const RunSamples& before, const RunSamples& after);

}  // namespace parm
