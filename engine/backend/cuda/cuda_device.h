// The device a cuda backend runs on, as `parm run` prints it: name, ordinal, memory, driver and runtime.
#pragma once

#include "engine/backend/backend.h"

namespace parm::backend::cuda {

// Throws std::runtime_error (one line) when the runtime cannot answer for `ordinal`.
DeviceDescription describe_cuda_device(int ordinal);

// cudaGetDeviceCount, or std::runtime_error "backend <kind>: no CUDA device answers (...); use backend cpu".
int cuda_device_count(parm::Backend kind);

}  // namespace parm::backend::cuda
