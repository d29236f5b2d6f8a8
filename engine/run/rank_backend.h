// The backend one rank of `parm worker` or `parm calibrate` runs on: run.backend placed on this rank's
// device by its local rank (the launcher's, else an MPI shared-memory split), with the collective bound.
#pragma once

#include <chrono>
#include <memory>

#include "engine/backend/backend.h"
#include "engine/core/config.h"

namespace parm {

// Collective over the world for a CUDA backend without launcher variables (the split): every rank calls it.
backend::BackendOptions rank_backend_options(const Config& config, int rank,
                                             std::chrono::milliseconds timeout);

// make_backend(rank_backend_options(...)).
std::unique_ptr<backend::Backend> make_rank_backend(const Config& config, int rank,
                                                    std::chrono::milliseconds timeout);

}  // namespace parm
