// The expert FFN of the cuda backend (all local experts of a rank, forward and backward, and the plain GEMM
// calibration times), kept apart from the rest of Compute<T> because it is where the time goes: grouped
// cuBLAS GEMMs (cublasGemmGroupedBatchedEx) or a per-expert loop, whichever measures faster for the shape,
// and the fused bias + activation kernels of kernels/cuda. cuda_compute.cpp forwards Compute<T>'s
// experts_forward / experts_backward / gemm / make_expert_state / copy_expert_state here.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>

#include "engine/backend/compute.h"
#include "engine/backend/cuda/cuda_parts.h"

namespace parm::backend::cuda {

template <typename T>
class CudaExperts {
 public:
  virtual ~CudaExperts() = default;
  virtual std::unique_ptr<ExpertState> make_state() = 0;
  // Same contracts as Compute<T>::experts_forward / experts_backward / gemm, on `stream`.
  virtual void forward(cudaStream_t stream, const ExpertWeights<T>& w, DispatchShape shape, View<const T> in,
                       ExpertState& saved, View<T> out) = 0;
  virtual void backward(cudaStream_t stream, const ExpertWeights<T>& w, DispatchShape shape, View<const T> dy,
                        const ExpertState& saved, const ExpertGrads<T>& grads, View<T> dx) = 0;
  virtual void gemm(cudaStream_t stream, View<const T> a, View<const T> b, std::int64_t m, std::int64_t n,
                    std::int64_t k, View<T> c) = 0;
  virtual void copy_state(cudaStream_t stream, const ExpertState& from, ExpertState& to,
                          const ExpertStateSlots& slots) = 0;
};

// For T in float, double, Bf16, F16.
template <typename T>
std::unique_ptr<CudaExperts<T>> make_cuda_experts(CudaContext& context);

}  // namespace parm::backend::cuda
