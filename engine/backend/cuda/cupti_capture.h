// The cuda backend's ActivityCapture: profiler/cupti's process-wide collector behind the engine's interface.
#pragma once

#include <memory>

#include "engine/backend/activity_capture.h"

namespace parm::backend::cuda {

// Never throws for a missing driver or device: the capture then says why in unavailable().
std::unique_ptr<ActivityCapture> make_cupti_capture();

}  // namespace parm::backend::cuda
