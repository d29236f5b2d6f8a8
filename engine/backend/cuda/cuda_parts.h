// The seams between the parts of the cuda backend (engine/backend/cuda, built with PARM_WITH_CUDA): the
// backend shell (allocator, streams, events: cuda_backend.cpp, cuda_streams.cpp, cuda_allocator.cpp) owns the
// device context; the local ops (cuda_compute.cpp, on kernels/cuda) and the communicators (NCCL for `cuda`,
// host-staged MPI for `cuda+mpi`) are made from it. Host code only: CUDA runtime and library headers, no
// kernels (those are .cu files in kernels/cuda).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdint>
#include <memory>

#include "engine/backend/backend.h"

namespace parm::backend::cuda {

// One rank's device and its long-lived handles, made once by the backend and alive as long as it is.
struct CudaContext {
  int device = 0;                   // the CUDA ordinal this rank uses (cudaSetDevice done on every thread)
  cublasHandle_t cublas = nullptr;  // stream set per call by the compute side
  Allocator* allocator = nullptr;   // the caching device allocator: scratch must come from here, never
                                    // cudaMalloc in the iteration loop
  parm::Backend kind = parm::Backend::Cuda;  // Cuda (NCCL) or CudaMpi (host-staged MPI)
  int local_rank = 0, local_size = 1;
  std::chrono::milliseconds timeout{60'000};
};

// The CUDA stream behind a stream of this backend; std::logic_error for another backend's stream.
cudaStream_t cuda_stream_of(Stream& stream);

// Throws std::runtime_error "<what>: <cudaGetErrorString>" unless status is cudaSuccess.
void check_cuda(cudaError_t status, const char* what);
void check_cublas(cublasStatus_t status, const char* what);

// Every local op of Compute<T> on kernels/cuda, for T in float, double, Bf16, F16 (16-bit storage, fp32
// accumulation).
template <typename T>
std::unique_ptr<Compute<T>> make_cuda_compute(CudaContext& context);

// A whole model's Transformer blocks on kernels/cuda (fp32, fp64).
template <typename T>
std::unique_ptr<BlockCompute<T>> make_cuda_blocks(CudaContext& context);

// The rank's groups for `cuda`: NCCL communicators (world from an id rank 0 sends over the transport world,
// the others by ncclCommSplit, a second communicator per group for the fused pipelines) on this backend's
// streams; refuses with one line when two ranks share a device.
StreamGroups make_nccl_groups(const comm::CommGroups& transport, CudaContext& context);

// The rank's groups for `cuda+mpi`: the transport's MPI communicators, with device buffers staged through
// pinned host memory on the lane's stream (device pointers straight to MPI only where
// MPIX_Query_cuda_support() says so).
StreamGroups make_staged_groups(const comm::CommGroups& transport, CudaContext& context);

// DeviceDescription::comm_library: "NCCL 2.28.9" for `cuda` (ncclGetVersion), "" for `cuda+mpi`.
std::string comm_library_text(parm::Backend kind);

}  // namespace parm::backend::cuda
