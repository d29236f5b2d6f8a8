#include "engine/backend/cuda/device_selection.h"

#include <stdexcept>

namespace parm::backend::cuda {

int select_device_ordinal(const BackendOptions& options, int device_count) {
  const std::string head = "backend " + std::string(to_string(options.kind)) + ": ";
  if (device_count <= 0) throw std::runtime_error(head + "no CUDA device answers; use backend cpu");
  if (options.local_rank < 0)
    throw std::runtime_error(head + "local rank " + std::to_string(options.local_rank) + " is negative");
  if (options.kind == parm::Backend::CudaMpi) return options.local_rank % device_count;
  if (options.local_rank >= device_count)
    throw std::runtime_error(
        head + "rank " + std::to_string(options.rank) + " is local rank " +
        std::to_string(options.local_rank) + " but this host has " + std::to_string(device_count) +
        " CUDA devices; backend cuda runs one rank per GPU: use backend cuda+mpi to share "
        "a GPU");
  return options.local_rank;
}

std::string cuda_version_text(int version) {
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

std::string cuda_driver_text(int driver_version, int runtime_version) {
  return "CUDA driver " + cuda_version_text(driver_version) + ", runtime " +
         cuda_version_text(runtime_version);
}

}  // namespace parm::backend::cuda
