// `parm predict --model` (issue 18): the predicted training step of a whole model per schedule (every MoE
// block on it, engine/model/model_prediction.h), where its time goes, the model's choice ("auto": the
// schedule of the fastest iteration) and the lone layer's choice beside it.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "engine/core/config.h"
#include "engine/model/calibration.h"
#include "engine/model/model_prediction.h"

namespace parm::cli {

// Every schedule of config.run.schedules; one line naming the missing fit and exit 1 when it cannot.
std::vector<ModelPrediction> predict_model_or_exit(const Config& config, const Calibration& calib,
                                                   const std::string& who);

// The schedule of the fastest predicted iteration (select_by_time's tie rule).
ScheduleKind model_choice(const std::vector<ModelPrediction>& predictions);

nlohmann::json model_prediction_json(const Config& config, const Calibration& calib,
                                     const std::vector<ModelPrediction>& predictions);
void print_model_prediction(const Config& config, const Calibration& calib,
                            const std::vector<ModelPrediction>& predictions);

}  // namespace parm::cli
