// Compute<T> of the cuda backend: every local op enqueued on its lane's CUDA stream through the host API of
// kernels/cuda. Routing lives on the device (choices, slots, loads and, for the 16-bit types, the fp32
// logits/probabilities top-k is decided on); the host sees it only through expert_loads() / host_routing()
// after the caller synchronised. The expert FFN and the plain GEMM go to CudaExperts<T>. Same contracts as
// engine/backend/cpu/cpu_compute.cpp (OVERWRITE / ACCUMULATE, zeroing, dropped choices).
#include <algorithm>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/backend/cuda/cuda_experts.h"
#include "engine/backend/cuda/cuda_parts.h"
#include "kernels/cuda/elementwise_cuda.h"
#include "kernels/cuda/gate_cuda.h"
#include "kernels/cuda/gather_cuda.h"
#include "kernels/cuda/math_type.h"
#include "kernels/cuda/routing_cuda.h"

namespace parm::backend::cuda {
namespace {

namespace kc = parm::kernels::cuda;

// Device bytes that grow with the shape and never shrink. A replaced allocation stays alive until the owner
// dies, because work enqueued earlier may still read it (no synchronisation on growth); shapes are fixed per
// layer, so this happens once.
class GrowingBytes {
 public:
  void* reserve(Allocator& allocator, std::size_t bytes) {
    if (current_.size() < bytes) {
      if (!current_.empty()) retired_.push_back(std::move(current_));
      current_ = Buffer<std::byte>(allocator, bytes);
    }
    return current_.data();
  }
  void* data() const { return current_.data(); }
  std::size_t size() const { return current_.size(); }

 private:
  Buffer<std::byte> current_;
  std::vector<Buffer<std::byte>> retired_;
};

template <typename T>
constexpr bool kIs16Bit = !std::is_same_v<T, kc::math_t<T>>;

template <typename T>
struct CudaRouting final : RoutingState {
  using S = kc::math_t<T>;
  kc::DeviceRouting device;
  GrowingBytes expert, position, loads, math_probs, position_scratch;
  mutable GrowingBytes backward_scratch;  // gate_backward takes the routing const

  void shape(Allocator& a, std::int64_t tokens, std::int64_t experts, std::int64_t top_k) {
    const auto choices = static_cast<std::size_t>(tokens * top_k);
    device.tokens = tokens;
    device.experts = experts;
    device.top_k = top_k;
    device.capacity = 0;
    device.expert = static_cast<std::int32_t*>(expert.reserve(a, choices * sizeof(std::int32_t)));
    device.position = static_cast<std::int64_t*>(position.reserve(a, choices * sizeof(std::int64_t)));
    device.loads = static_cast<std::int64_t*>(
        loads.reserve(a, static_cast<std::size_t>(experts) * sizeof(std::int64_t)));
    if constexpr (kIs16Bit<T>) math_probs.reserve(a, static_cast<std::size_t>(tokens * experts) * sizeof(S));
    position_scratch.reserve(a, kc::position_scratch_bytes(tokens, experts, top_k));
  }
};

template <typename T>
CudaRouting<T>& routing_of(RoutingState& r) {
  return dynamic_cast<CudaRouting<T>&>(r);
}
template <typename T>
const CudaRouting<T>& routing_of(const RoutingState& r) {
  return dynamic_cast<const CudaRouting<T>&>(r);
}

template <typename T>
class CudaCompute final : public Compute<T> {
  using S = kc::math_t<T>;

 public:
  explicit CudaCompute(CudaContext& context) : context_(context), experts_(make_cuda_experts<T>(context)) {}

  std::unique_ptr<RoutingState> make_routing() override { return std::make_unique<CudaRouting<T>>(); }
  std::unique_ptr<ExpertState> make_expert_state() override { return experts_->make_state(); }

  void gate_forward(Stream& s, View<const T> x, View<const T> wg, std::int64_t tokens, std::int64_t hidden,
                    std::int64_t experts, std::int64_t top_k, View<T> probs, RoutingState& routing) override {
    CudaRouting<T>& r = routing_of<T>(routing);
    r.shape(allocator(), tokens, experts, top_k);
    const cudaStream_t stream = cuda_stream_of(s);
    // The 16-bit types get fp32 logits from cuBLAS and keep the fp32 probabilities; float and double
    // compute the softmax in the layer's probs buffer itself.
    S* values = nullptr;
    T* rounded = nullptr;
    if constexpr (kIs16Bit<T>) {
      values = static_cast<S*>(r.math_probs.data());
      rounded = probs.data();
    } else {
      values = probs.data();
    }
    kc::gate_logits<T>(context_.cublas, stream, x.data(), wg.data(), tokens, hidden, experts, values);
    kc::softmax_top_k<T>(stream, values, r.device, rounded);
    kc::count_expert_loads(stream, r.device);
  }

  void route(Stream& s, RoutingState& routing, std::int64_t capacity, View<const T> probs,
             View<T> combine_weights) override {
    CudaRouting<T>& r = routing_of<T>(routing);
    const cudaStream_t stream = cuda_stream_of(s);
    kc::assign_positions(stream, r.device, capacity, r.position_scratch.data(), r.position_scratch.size());
    zero_beyond(stream, combine_weights, r.device.tokens * r.device.top_k);
    kc::combine_weights<T>(stream, r.device, math_probs(r, probs), combine_weights.data());
  }

  std::vector<std::int64_t> expert_loads(const RoutingState& routing) const override {
    const CudaRouting<T>& r = routing_of<T>(routing);
    return to_host(r.device.loads, r.device.experts);
  }

  HostRouting host_routing(const RoutingState& routing) const override {
    const kc::DeviceRouting& d = routing_of<T>(routing).device;
    const std::int64_t choices = d.tokens * d.top_k;
    return {d.tokens,
            d.experts,
            d.top_k,
            d.capacity,
            to_host(d.expert, choices),
            to_host(d.position, choices),
            to_host(d.loads, d.experts)};
  }

  void gate_backward(Stream& s, const RoutingState& routing, View<const T> x, View<const T> wg,
                     View<const T> probs, View<const T> combine_weights, View<const T> dweights,
                     std::int64_t hidden, View<T> dwg, View<T> dx) override {
    const CudaRouting<T>& r = routing_of<T>(routing);
    const std::size_t bytes = kc::gate_backward_scratch_bytes<T>(r.device.tokens, r.device.experts);
    void* scratch = r.backward_scratch.reserve(allocator(), bytes);
    kc::gate_backward<T>(context_.cublas, cuda_stream_of(s), r.device, x.data(), wg.data(),
                         math_probs(r, probs), combine_weights.data(), dweights.data(), hidden, dwg.data(),
                         dx.data(), scratch, bytes);
  }

  void dispatch(Stream& s, const RoutingState& routing, View<const T> x, std::int64_t hidden,
                View<T> out) override {
    kc::dispatch<T>(cuda_stream_of(s), routing_of<T>(routing).device, x.data(), hidden, out.data());
  }

  void dispatch_backward(Stream& s, const RoutingState& routing, View<const T> d_dispatched,
                         std::int64_t hidden, View<T> dx) override {
    const cudaStream_t stream = cuda_stream_of(s);
    const kc::DeviceRouting& d = routing_of<T>(routing).device;
    zero_beyond(stream, dx, d.tokens * hidden);
    kc::dispatch_backward<T>(stream, d, d_dispatched.data(), hidden, dx.data());
  }

  void combine(Stream& s, const RoutingState& routing, View<const T> weights, View<const T> y,
               std::int64_t hidden, View<T> out) override {
    kc::combine<T>(cuda_stream_of(s), routing_of<T>(routing).device, weights.data(), y.data(), hidden,
                   out.data());
  }

  void combine_backward(Stream& s, const RoutingState& routing, View<const T> weights, View<const T> y,
                        View<const T> dout, std::int64_t hidden, View<T> dy, View<T> dweights) override {
    const cudaStream_t stream = cuda_stream_of(s);
    const kc::DeviceRouting& d = routing_of<T>(routing).device;
    zero_beyond(stream, dweights, d.tokens * d.top_k);
    kc::combine_backward<T>(stream, d, weights.data(), y.data(), dout.data(), hidden, dy.data(),
                            dweights.data());
  }

  void experts_forward(Stream& s, const ExpertWeights<T>& w, DispatchShape shape, View<const T> in,
                       ExpertState& saved, View<T> out) override {
    experts_->forward(cuda_stream_of(s), w, shape, in, saved, out);
  }

  void experts_backward(Stream& s, const ExpertWeights<T>& w, DispatchShape shape, View<const T> dy,
                        const ExpertState& saved, const ExpertGrads<T>& grads, View<T> dx) override {
    experts_->backward(cuda_stream_of(s), w, shape, dy, saved, grads, dx);
  }

  void copy_expert_state(Stream& s, const ExpertState& from, ExpertState& to,
                         const ExpertStateSlots& slots) override {
    experts_->copy_state(cuda_stream_of(s), from, to, slots);
  }

  void gemm(Stream& s, View<const T> a, View<const T> b, std::int64_t m, std::int64_t n, std::int64_t k,
            View<T> c) override {
    experts_->gemm(cuda_stream_of(s), a, b, m, n, k, c);
  }

  void scale(Stream& s, View<T> values, T factor) override {
    kc::scale<T>(cuda_stream_of(s), values.data(), static_cast<std::int64_t>(values.size()), factor);
  }

  void accumulate(Stream& s, View<const T> part, View<T> into) override {
    kc::accumulate<T>(cuda_stream_of(s), part.data(), into.data(),
                      static_cast<std::int64_t>(std::min(part.size(), into.size())));
  }

  void copy_blocks(Stream& s, View<const T> src, View<T> dst, const layout::BlockCopy& map) override {
    if (static_cast<std::size_t>(map.elements()) > dst.size())
      throw std::logic_error("copy_blocks: the map writes past its destination");
    kc::copy_blocks<T>(cuda_stream_of(s), src.data(), dst.data(), map);
  }

  void copy(Stream& s, View<const T> src, View<T> dst) override {
    kc::copy<T>(cuda_stream_of(s), src.data(), dst.data(),
                static_cast<std::int64_t>(std::min(src.size(), dst.size())));
  }

 private:
  Allocator& allocator() const {
    if (context_.allocator == nullptr) throw std::logic_error("cuda compute: the context has no allocator");
    return *context_.allocator;
  }

  // The probabilities routing and the gate backward read: the fp32 copy for the 16-bit types.
  const S* math_probs(const CudaRouting<T>& r, View<const T> probs) const {
    if constexpr (kIs16Bit<T>)
      return static_cast<const S*>(r.math_probs.data());
    else
      return probs.data();
  }

  // Zeroes view[written, size): the kernels overwrite the first `written` elements, the cpu contract
  // zeroes the whole view.
  static void zero_beyond(cudaStream_t stream, View<T> view, std::int64_t written) {
    if (static_cast<std::int64_t>(view.size()) <= written) return;
    check_cuda(cudaMemsetAsync(view.data() + written, 0,
                               (view.size() - static_cast<std::size_t>(written)) * sizeof(T), stream),
               "cuda compute: cudaMemsetAsync");
  }

  template <typename U>
  std::vector<U> to_host(const U* device, std::int64_t count) const {
    std::vector<U> host(static_cast<std::size_t>(count));
    if (count > 0) allocator().copy_to_host(host.data(), device, host.size() * sizeof(U));
    return host;
  }

  CudaContext& context_;
  std::unique_ptr<CudaExperts<T>> experts_;
};

}  // namespace

template <typename T>
std::unique_ptr<Compute<T>> make_cuda_compute(CudaContext& context) {
  return std::make_unique<CudaCompute<T>>(context);
}

template std::unique_ptr<Compute<float>> make_cuda_compute<float>(CudaContext&);
template std::unique_ptr<Compute<double>> make_cuda_compute<double>(CudaContext&);
template std::unique_ptr<Compute<Bf16>> make_cuda_compute<Bf16>(CudaContext&);
template std::unique_ptr<Compute<F16>> make_cuda_compute<F16>(CudaContext&);

}  // namespace parm::backend::cuda
