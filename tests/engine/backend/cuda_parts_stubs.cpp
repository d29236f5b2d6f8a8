// Test-only stand-ins for the cuda backend's compute and communication parts, so the shell links on its own
// before they land; compiled away once the engine has them (PARM_CUDA_ENGINE). Each refuses loudly.
#ifndef PARM_CUDA_ENGINE
#include <stdexcept>

#include "engine/backend/cuda/cuda_parts.h"

namespace parm::backend::cuda {

template <typename T>
std::unique_ptr<Compute<T>> make_cuda_compute(CudaContext&) {
  throw std::logic_error("test stub: the cuda compute part is not in this build");
}
template std::unique_ptr<Compute<float>> make_cuda_compute<float>(CudaContext&);
template std::unique_ptr<Compute<double>> make_cuda_compute<double>(CudaContext&);
template std::unique_ptr<Compute<Bf16>> make_cuda_compute<Bf16>(CudaContext&);
template std::unique_ptr<Compute<F16>> make_cuda_compute<F16>(CudaContext&);

StreamGroups make_nccl_groups(const comm::CommGroups&, CudaContext&) {
  throw std::logic_error("test stub: the NCCL part is not in this build");
}
StreamGroups make_staged_groups(const comm::CommGroups&, CudaContext&) {
  throw std::logic_error("test stub: the host-staged MPI part is not in this build");
}

}  // namespace parm::backend::cuda
#endif
