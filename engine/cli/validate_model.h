// `parm validate CONFIG --model` (issue 18, item 5): the whole model's training step run for real under every
// schedule (parm run --model) beside its prediction (engine/model/model_prediction.h): per schedule the
// predicted and measured iteration (median [p10-p90]) and exposed sync, the error; the mean error, whether
// the model's choice (auto) is the measured best under the noise rule (measured_best.h), and its regret.
#pragma once

#include <optional>

#include "engine/cli/commands.h"
#include "engine/core/config.h"
#include "engine/model/calibration.h"

namespace parm::cli {

// `config` is validated and every schedule is in config.run.schedules. Exit 3 (CLI::RuntimeError) when the
// mean iteration error exceeds `max_error` percent.
void validate_model(const Config& config, const Calibration& calib, const RunLaunch& launch, bool json,
                    std::optional<double> max_error);

}  // namespace parm::cli
