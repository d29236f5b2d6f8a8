// The recommendation for one layer configuration (spec parm.md section 6): every schedule's predicted
// timeline with a calibration, the argmin (select_by_time's tie rule) and the reason it wins. `parm predict`,
// `parm recommend`, `parm sweep` and the GUI share it, so the reason text and the JSON are the same
// everywhere.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/core/config.h"
#include "engine/core/sizes.h"
#include "engine/model/calibration.h"
#include "engine/model/timeline_model.h"
#include "engine/schedules/alltoall_algorithm.h"

namespace parm {

// How much faster (relative) than the best r = 1 schedule a pipelined variant must be predicted to be chosen.
inline constexpr double kPipelinedMargin = 0.05;

// What a selection runs over (issue 19): every registered schedule at each pair of pipeline degrees listed,
// forward x backward (chunk_plan.h; only equal pairs without separate_degrees), with each AlltoAll algorithm
// listed (alltoall_algorithm.h); {1} x {flat} = Parm's space: the schedules as the paper runs them.
struct SelectionSpace {
  std::vector<int> degrees{1};
  std::vector<AlltoAllAlgorithm> algorithms{AlltoAllAlgorithm::Flat};
  bool separate_degrees = true;
  bool widened() const {
    return degrees.size() != 1 || degrees.front() != 1 || algorithms.size() != 1 ||
           algorithms.front() != AlltoAllAlgorithm::Flat;
  }
  // The options on `parallel`, registry order, degree-major: 2DH only where it differs from flat
  // (hierarchical_alltoall_applies), so a layout without it offers no duplicate of each flat option.
  std::vector<ScheduleKind> candidates(const ParallelConfig& parallel) const;
  // `kinds` widened the same way (a model's run.schedules).
  std::vector<ScheduleKind> widen(const std::vector<ScheduleKind>& kinds,
                                  const ParallelConfig& parallel) const;
};

struct Recommendation {
  Config config;
  DerivedSizes sizes;
  std::vector<TimelinePrediction> timelines;  // registry order (all_schedules()), each at the space's degrees
  ScheduleKind chosen = ScheduleKind::B_DS;
  ScheduleKind parm_best = ScheduleKind::S1;  // the fastest of Parm's schedules at r = 1 (S1/S2/S1F/S2F)

  const TimelinePrediction& of(ScheduleKind k) const;
  double speedup(ScheduleKind k) const;          // predicted B_DS time / k's time
  double speedup_vs_parm(ScheduleKind k) const;  // predicted parm_best time / k's time
  // Of the chosen schedule's base at the space's degrees and the chosen AlltoAll algorithm: the degree with
  // the fastest forward / backward (the two FSMoE would pick apart), and the layer time that pair would give.
  int best_degree(Direction d) const;
  double separate_degrees_ms() const;
};

// select_by_time over (kind, ms), except that a pipelined variant is chosen only when it is predicted
// kPipelinedMargin faster than the best schedule at r = 1 among `times`.
ScheduleKind select_with_margin(const std::vector<std::pair<ScheduleKind, double>>& times);

// Throws std::runtime_error naming a missing fit.
Recommendation recommend(const Config& config, const Calibration& calib, const SelectionSpace& space = {});

// Which term decides: the chosen schedule's structure, its dominant term, what B_DS pays instead, and where
// 2DH was in the space, the message counts that decided for or against it.
std::string recommendation_reason(const Recommendation& r);

// One layer of `parm recommend --json`: config, chosen, predicted_ms per schedule, speedup_vs_B_DS, reason;
// also the chosen schedule, pipeline degree and AlltoAll algorithm, parm_best and speedup_vs_parm_best, and
// the degrees forward and backward would pick apart.
nlohmann::json recommendation_layer_json(const Recommendation& r);

// The whole `parm recommend --json` document: {"calibration": id, "layers": [layer]}.
nlohmann::json recommendation_json(const Recommendation& r, const Calibration& calib);

}  // namespace parm
