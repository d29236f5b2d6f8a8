#include <stdexcept>
#include <type_traits>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_types.cuh"
#include "kernels/cuda/element_type.h"
#include "kernels/cuda/gate_cuda.h"
#include "kernels/cuda/gemm.h"
#include "kernels/shared/combine_weight_math.h"
#include "kernels/shared/softmax_math.h"
#include "kernels/shared/topk_math.h"

namespace parm::kernels::cuda {
namespace {

// One thread per token: E is small (tens), so a row fits one thread's loop and the order is kernels/cpu's.
template <typename T, typename S>
__global__ void softmax_top_k_kernel(S* values, std::int64_t tokens, std::int64_t experts, std::int64_t top_k,
                                     std::int32_t* choices, T* probs_out) {
  for (std::int64_t t = global_thread(); t < tokens; t += grid_threads()) {
    S* row = values + t * experts;
    shared::softmax_row(row, experts);
    shared::top_k_row(row, experts, top_k, choices + t * top_k);
    if (probs_out != nullptr)
      for (std::int64_t e = 0; e < experts; ++e) probs_out[t * experts + e] = T(row[e]);
  }
}

template <typename S>
__global__ void top_k_kernel(const S* probs, std::int64_t tokens, std::int64_t experts, std::int64_t top_k,
                             std::int32_t* choices) {
  for (std::int64_t t = global_thread(); t < tokens; t += grid_threads())
    shared::top_k_row(probs + t * experts, experts, top_k, choices + t * top_k);
}

// One thread per token: dprobs row (into dlogits, math type) from the combine-weights backward, then the
// softmax backward in place (it reads dp[c] before writing dlogits[c]); dlogits_out (storage type) for the
// 16-bit GEMMs when not null.
template <typename T, typename S>
__global__ void gate_backward_rows_kernel(const S* probs, const std::int32_t* expert,
                                          const std::int64_t* position, const T* weights, const T* dweights,
                                          std::int64_t tokens, std::int64_t experts, std::int64_t top_k,
                                          S* dlogits, T* dlogits_out) {
  for (std::int64_t t = global_thread(); t < tokens; t += grid_threads()) {
    S w[kMaxTopK], dw[kMaxTopK];
    for (std::int64_t j = 0; j < top_k; ++j) {
      w[j] = static_cast<S>(weights[t * top_k + j]);
      dw[j] = static_cast<S>(dweights[t * top_k + j]);
    }
    const S* p = probs + t * experts;
    S* row = dlogits + t * experts;
    shared::combine_weights_row_backward(p, expert + t * top_k, position + t * top_k, w, dw, top_k, experts,
                                         row);
    shared::softmax_row_backward(p, row, experts, row);
    if (dlogits_out != nullptr)
      for (std::int64_t e = 0; e < experts; ++e) dlogits_out[t * experts + e] = T(row[e]);
  }
}

template <typename T>
constexpr bool kIs16Bit = !std::is_same_v<T, math_t<T>>;

std::size_t aligned(std::size_t bytes) {
  return (bytes + 255) / 256 * 256;
}

}  // namespace

template <typename T>
void gate_logits(cublasHandle_t handle, cudaStream_t stream, const T* x, const T* wg, std::int64_t tokens,
                 std::int64_t hidden, std::int64_t experts, math_t<T>* logits) {
  gemm(handle, stream, element_type_of<T>(), element_type_of<math_t<T>>(),
       packed_gemm(Op::N, Op::N, tokens, experts, hidden), x, wg, 0, logits);
}

template <typename T>
void softmax_top_k(cudaStream_t stream, math_t<T>* values, const DeviceRouting& r, T* probs_out) {
  if (r.top_k < 1 || r.top_k > r.experts) throw std::invalid_argument("softmax_top_k: need 1 <= k <= E");
  if (r.tokens == 0) return;
  softmax_top_k_kernel<device_t<T>, math_t<T>><<<grid_for(r.tokens), kThreads, 0, stream>>>(
      values, r.tokens, r.experts, r.top_k, r.expert, device_ptr(probs_out));
  check_status(cudaGetLastError(), "softmax_top_k kernel");
}

template <typename S>
void top_k(cudaStream_t stream, const S* probs, const DeviceRouting& r) {
  if (r.top_k < 1 || r.top_k > r.experts) throw std::invalid_argument("top_k: need 1 <= k <= E");
  if (r.tokens == 0) return;
  top_k_kernel<S><<<grid_for(r.tokens), kThreads, 0, stream>>>(probs, r.tokens, r.experts, r.top_k, r.expert);
  check_status(cudaGetLastError(), "top_k kernel");
}

template void top_k<float>(cudaStream_t, const float*, const DeviceRouting&);
template void top_k<double>(cudaStream_t, const double*, const DeviceRouting&);

template <typename T>
std::size_t gate_backward_scratch_bytes(std::int64_t tokens, std::int64_t experts) {
  const auto n = static_cast<std::size_t>(tokens * experts);
  return aligned(n * sizeof(math_t<T>)) + (kIs16Bit<T> ? aligned(n * sizeof(T)) : 0);
}

template <typename T>
void gate_backward(cublasHandle_t handle, cudaStream_t stream, const DeviceRouting& r, const T* x,
                   const T* wg, const math_t<T>* probs, const T* weights, const T* dweights,
                   std::int64_t hidden, T* dwg, T* dx, void* scratch, std::size_t scratch_bytes) {
  using S = math_t<T>;
  if (r.top_k > kMaxTopK) throw std::invalid_argument("gate_backward: top_k above kMaxTopK");
  if (scratch_bytes < gate_backward_scratch_bytes<T>(r.tokens, r.experts))
    throw std::logic_error("gate_backward: scratch smaller than gate_backward_scratch_bytes");
  auto* dlogits = static_cast<S*>(scratch);
  T* dlogits_16 = nullptr;
  if constexpr (kIs16Bit<T>)
    dlogits_16 = reinterpret_cast<T*>(static_cast<char*>(scratch) +
                                      aligned(static_cast<std::size_t>(r.tokens * r.experts) * sizeof(S)));
  if (r.tokens > 0) {
    gate_backward_rows_kernel<device_t<T>, S><<<grid_for(r.tokens), kThreads, 0, stream>>>(
        probs, r.expert, r.position, device_ptr(weights), device_ptr(dweights), r.tokens, r.experts, r.top_k,
        dlogits, device_ptr(dlogits_16));
    check_status(cudaGetLastError(), "gate_backward rows kernel");
  }
  // The GEMMs take one storage type for A and B: the 16-bit types use the rounded dlogits, fp32 compute.
  const T* g = nullptr;
  if constexpr (kIs16Bit<T>)
    g = dlogits_16;
  else
    g = dlogits;
  // dWg (M,E) = X^T (M,T) * dlogits (T,E)
  gemm(handle, stream, element_type_of<T>(), packed_gemm(Op::T, Op::N, hidden, r.experts, r.tokens), x, g, 0,
       dwg);
  // dX (T,M) += dlogits (T,E) * Wg^T (E,M)
  gemm(handle, stream, element_type_of<T>(), packed_gemm(Op::N, Op::T, r.tokens, hidden, r.experts), g, wg, 1,
       dx);
}

#define PARM_INSTANTIATE_GATE_CUDA(T)                                                                        \
  template void gate_logits<T>(cublasHandle_t, cudaStream_t, const T*, const T*, std::int64_t, std::int64_t, \
                               std::int64_t, math_t<T>*);                                                    \
  template void softmax_top_k<T>(cudaStream_t, math_t<T>*, const DeviceRouting&, T*);                        \
  template std::size_t gate_backward_scratch_bytes<T>(std::int64_t, std::int64_t);                           \
  template void gate_backward<T>(cublasHandle_t, cudaStream_t, const DeviceRouting&, const T*, const T*,     \
                                 const math_t<T>*, const T*, const T*, std::int64_t, T*, T*, void*,          \
                                 std::size_t);

PARM_INSTANTIATE_GATE_CUDA(float)
PARM_INSTANTIATE_GATE_CUDA(double)
PARM_INSTANTIATE_GATE_CUDA(parm::Bf16)
PARM_INSTANTIATE_GATE_CUDA(parm::F16)
#undef PARM_INSTANTIATE_GATE_CUDA

}  // namespace parm::kernels::cuda
