#include "engine/run/rank_backend.h"

#include "engine/comm/mpi_world.h"

namespace parm {

backend::BackendOptions rank_backend_options(const Config& config, int rank,
                                             std::chrono::milliseconds timeout) {
  backend::BackendOptions options;
  options.kind = config.run.backend;
  options.rank = rank;
  options.timeout = timeout;
  // Only a device backend needs the placement (the cpu backend's lanes are threads of this process).
  if (options.kind != Backend::Cpu) {
    const comm::LocalPlacement placement = comm::local_placement();
    options.local_rank = placement.local_rank;
    options.local_size = placement.local_size;
  }
  return options;
}

std::unique_ptr<backend::Backend> make_rank_backend(const Config& config, int rank,
                                                    std::chrono::milliseconds timeout) {
  return backend::make_backend(rank_backend_options(config, rank, timeout));
}

}  // namespace parm
