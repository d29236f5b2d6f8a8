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

namespace parm {

struct Recommendation {
  Config config;
  DerivedSizes sizes;
  std::vector<TimelinePrediction> timelines;  // registry order (all_schedules())
  ScheduleKind chosen = ScheduleKind::B_DS;

  const TimelinePrediction& of(ScheduleKind k) const;
  double speedup(ScheduleKind k) const;  // predicted B_DS time / k's time
};

// Throws std::runtime_error naming a missing fit.
Recommendation recommend(const Config& config, const Calibration& calib);

// Which term decides: the chosen schedule's structure, its dominant term, and what B_DS pays instead.
std::string recommendation_reason(const Recommendation& r);

// One layer of `parm recommend --json`: config, chosen, predicted_ms per schedule, speedup_vs_B_DS, reason.
nlohmann::json recommendation_layer_json(const Recommendation& r);

// The whole `parm recommend --json` document: {"calibration": id, "layers": [layer]}.
nlohmann::json recommendation_json(const Recommendation& r, const Calibration& calib);

}  // namespace parm
