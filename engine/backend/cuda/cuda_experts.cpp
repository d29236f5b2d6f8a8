// CudaExperts<T>: every local expert's FFN on the device, with the contract of the cpu backend's
// experts_forward / experts_backward / gemm (engine/backend/cpu/cpu_compute.cpp), on kernels/cuda.
//
// Forward: pack all experts' rows in one transform (outer, E, c, M) -> (E, rows, M); h = X W1 [v = X W3] as
// one set of E products; the fused bias + activation kernel (h += b1 [v += b3], z = act); y = b2 broadcast
// (or zero) then y += z W2; unpack y. The packed X, h, v and z stay in the ExpertState for the backward.
// Backward: pack dY; {dW2 = z^T dY, dz = dY W2^T} in one grouped call; db2; dz -> dh [dv] in place;
// db1 [db3]; {dW1 = X^T dh [dW3 = X^T dv], dX = dh W1^T} in one call; [dX += dv W3^T]; unpack dX.
// Gradients OVERWRITE. Device memory comes from the context's allocator and grows only when a shape needs
// more, so a steady iteration loop allocates nothing. One experts op at a time per instance (the executor
// runs the experts on its compute lane): the scratch and the grouped call's pointer arrays are shared.
#include "engine/backend/cuda/cuda_experts.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cuda/bias_activation.h"
#include "kernels/cuda/bias_rows.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/elementwise_cuda.h"
#include "kernels/cuda/expert_gemm.h"
#include "kernels/cuda/expert_gemm_choice.h"
#include "kernels/cuda/expert_pack.h"

namespace parm::backend::cuda {
namespace {

namespace kc = parm::kernels::cuda;
using kc::Op;

// Device memory that only grows. Before an old buffer is released the stream is drained, since kernels
// already enqueued may still use it (growth happens on the first calls of a shape, never in a steady loop).
template <typename T>
class GrowingBuffer {
 public:
  T* ensure(Allocator& allocator, cudaStream_t stream, std::int64_t count) {
    const auto n = static_cast<std::size_t>(count);
    if (buffer_.size() < n) {
      if (!buffer_.empty()) kc::check_status(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
      buffer_ = Buffer<T>();
      buffer_ = Buffer<T>(allocator, n);
    }
    return buffer_.data();
  }
  T* data() const { return buffer_.data(); }

 private:
  Buffer<T> buffer_;
};

template <typename T>
struct CudaExpertState final : ExpertState {
  GrowingBuffer<T> x, h, v, z;  // packed (E, rows, M) input; (E, rows, Hs) projections and activation
  DispatchShape shape{0, 0, 0, 0};
  std::int64_t shard = 0;
  bool swiglu = false;
  bool filled = false;
};

template <typename T>
const T* or_null(View<const T> v) {
  return v.empty() ? nullptr : v.data();
}

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

template <typename T>
void require_size(View<const T> v, std::int64_t want, const char* what, bool optional = false) {
  if (optional && v.empty()) return;
  require(static_cast<std::int64_t>(v.size()) >= want,
          std::string("cuda experts: ") + what + " has " + std::to_string(v.size()) +
              " elements, fewer than the " + std::to_string(want) + " of its shape");
}

template <typename T>
void check_weights(const ExpertWeights<T>& w, DispatchShape shape) {
  require(w.experts == shape.experts && w.hidden == shape.width,
          "cuda experts: weights are for another number of experts or hidden size");
  const std::int64_t e = w.experts, m = w.hidden, hs = w.shard;
  require_size(w.w1, e * m * hs, "w1");
  require_size(w.b1, e * hs, "b1", true);
  require_size(w.w2, e * hs * m, "w2");
  require_size(w.b2, e * m, "b2", true);
  if (w.activation == ExpertActivation::Swiglu) {
    require_size(w.w3, e * m * hs, "w3");
    require_size(w.b3, e * hs, "b3", true);
  }
}

template <typename T>
class CudaExpertsImpl final : public CudaExperts<T> {
 public:
  explicit CudaExpertsImpl(CudaContext& context)
      : context_(context), forced_path_(kc::parse_expert_gemm_override(std::getenv("PARM_EXPERT_GEMM"))) {}

  std::unique_ptr<ExpertState> make_state() override { return std::make_unique<CudaExpertState<T>>(); }

  void forward(cudaStream_t stream, const ExpertWeights<T>& w, DispatchShape shape, View<const T> in,
               ExpertState& saved, View<T> out) override {
    auto& st = dynamic_cast<CudaExpertState<T>&>(saved);
    check_weights(w, shape);
    const std::int64_t el = shape.experts, m = shape.width, hs = w.shard;
    const std::int64_t rows = shape.outer * shape.slot_count;
    require_size(in, shape.outer * el * shape.slot_count * m, "experts_forward input");
    require_size(View<const T>(out), shape.outer * el * shape.slot_count * m, "experts_forward output");
    const bool swiglu = w.activation == ExpertActivation::Swiglu;
    Allocator& a = *context_.allocator;
    T* x = st.x.ensure(a, stream, el * rows * m);
    T* h = st.h.ensure(a, stream, el * rows * hs);
    T* v = swiglu ? st.v.ensure(a, stream, el * rows * hs) : nullptr;
    T* z = st.z.ensure(a, stream, el * rows * hs);
    st.shape = shape;
    st.shard = hs;
    st.swiglu = swiglu;
    st.filled = true;
    if (rows == 0 || el == 0) return;

    const kc::ExpertGemmPath path = path_for(el, rows, hs);
    kc::copy_blocks<T>(stream, in.data(), x, kc::pack_all_experts(shape.outer, el, shape.slot_count, m));
    std::vector<kc::StridedGemmSet> first = {
        {kc::packed_gemm(Op::N, Op::N, rows, hs, m), el, x, rows * m, w.w1.data(), m * hs, h, rows * hs, 0}};
    if (swiglu)
      first.push_back({kc::packed_gemm(Op::N, Op::N, rows, hs, m), el, x, rows * m, w.w3.data(), m * hs, v,
                       rows * hs, 0});
    gemms(path, stream, first);
    kc::bias_activation_forward(stream, kType, {activation_of(w), el, rows, hs}, h, or_null(w.b1), v,
                                swiglu ? or_null(w.b3) : nullptr, z);

    T* y = io_.ensure(a, stream, el * rows * m);
    double beta = 0;
    if (!w.b2.empty()) {
      kc::broadcast_bias_rows(stream, kType, el, rows, m, w.b2.data(), y);
      beta = 1;
    }
    const std::vector<kc::StridedGemmSet> second = {{kc::packed_gemm(Op::N, Op::N, rows, m, hs), el, z,
                                                     rows * hs, w.w2.data(), hs * m, y, rows * m, beta}};
    gemms(path, stream, second);
    kc::copy_blocks<T>(stream, y, out.data(), kc::unpack_all_experts(shape.outer, el, shape.slot_count, m));
  }

  void backward(cudaStream_t stream, const ExpertWeights<T>& w, DispatchShape shape, View<const T> dy,
                const ExpertState& saved, const ExpertGrads<T>& g, View<T> dx) override {
    const auto& st = dynamic_cast<const CudaExpertState<T>&>(saved);
    check_weights(w, shape);
    const bool swiglu = w.activation == ExpertActivation::Swiglu;
    require(st.filled && st.shape.outer == shape.outer && st.shape.experts == shape.experts &&
                st.shape.slot_count == shape.slot_count && st.shape.width == shape.width &&
                st.shard == w.shard && st.swiglu == swiglu,
            "experts_backward: the saved state is from another shape (or no forward ran)");
    const std::int64_t el = shape.experts, m = shape.width, hs = w.shard;
    const std::int64_t rows = shape.outer * shape.slot_count;
    require_size(dy, shape.outer * el * shape.slot_count * m, "experts_backward dy");
    require_size(View<const T>(dx), shape.outer * el * shape.slot_count * m, "experts_backward dx");
    require_size(View<const T>(g.w1), el * m * hs, "dw1", true);
    require_size(View<const T>(g.w2), el * hs * m, "dw2", true);
    require_size(View<const T>(g.w3), el * m * hs, "dw3", true);
    require_size(View<const T>(g.b1), el * hs, "db1", true);
    require_size(View<const T>(g.b2), el * m, "db2", true);
    require_size(View<const T>(g.b3), el * hs, "db3", true);
    if (el == 0) return;
    if (rows == 0) {  // no rows: every gradient is zero (all-zero bits are 0.0 in every type)
      const std::pair<View<T>, std::int64_t> zeroed[] = {{g.w1, el * m * hs}, {g.b1, el * hs},
                                                         {g.w3, el * m * hs}, {g.b3, el * hs},
                                                         {g.w2, el * hs * m}, {g.b2, el * m}};
      for (const auto& [grad, count] : zeroed)
        if (!grad.empty())
          kc::check_status(
              cudaMemsetAsync(grad.data(), 0, static_cast<std::size_t>(count) * sizeof(T), stream),
              "cudaMemsetAsync");
      return;
    }

    const kc::ExpertGemmPath path = path_for(el, rows, hs);
    Allocator& a = *context_.allocator;
    T* dyp = io_.ensure(a, stream, el * rows * m);
    T* dh = dz_.ensure(a, stream, el * rows * hs);  // dz, then dh in place
    T* dv = swiglu ? dv_.ensure(a, stream, el * rows * hs) : nullptr;
    T* dxp = dx_.ensure(a, stream, el * rows * m);
    kc::copy_blocks<T>(stream, dy.data(), dyp, kc::pack_all_experts(shape.outer, el, shape.slot_count, m));

    // dW2 (Hs,M) = z^T dY and dz (rows,Hs) = dY W2^T: independent, one call.
    std::vector<kc::StridedGemmSet> second;
    if (!g.w2.empty())
      second.push_back({kc::packed_gemm(Op::T, Op::N, hs, m, rows), el, st.z.data(), rows * hs, dyp, rows * m,
                        g.w2.data(), hs * m, 0});
    second.push_back({kc::packed_gemm(Op::N, Op::T, rows, hs, m), el, dyp, rows * m, w.w2.data(), hs * m, dh,
                      rows * hs, 0});
    gemms(path, stream, second);
    if (!g.b2.empty()) kc::bias_gradient(stream, kType, el, rows, m, dyp, g.b2.data());

    kc::bias_activation_backward(stream, kType, {activation_of(w), el, rows, hs}, st.h.data(),
                                 swiglu ? st.v.data() : nullptr, dh, dv);
    if (!g.b1.empty()) kc::bias_gradient(stream, kType, el, rows, hs, dh, g.b1.data());
    if (swiglu && !g.b3.empty()) kc::bias_gradient(stream, kType, el, rows, hs, dv, g.b3.data());

    // dW1 (M,Hs) = X^T dh [dW3 = X^T dv] and dX (rows,M) = dh W1^T: independent, one call.
    std::vector<kc::StridedGemmSet> first;
    if (!g.w1.empty())
      first.push_back({kc::packed_gemm(Op::T, Op::N, m, hs, rows), el, st.x.data(), rows * m, dh, rows * hs,
                       g.w1.data(), m * hs, 0});
    if (swiglu && !g.w3.empty())
      first.push_back({kc::packed_gemm(Op::T, Op::N, m, hs, rows), el, st.x.data(), rows * m, dv, rows * hs,
                       g.w3.data(), m * hs, 0});
    first.push_back({kc::packed_gemm(Op::N, Op::T, rows, m, hs), el, dh, rows * hs, w.w1.data(), m * hs, dxp,
                     rows * m, 0});
    gemms(path, stream, first);
    if (swiglu) {  // dX += dv W3^T, after dX = dh W1^T (same output)
      const std::vector<kc::StridedGemmSet> third = {{kc::packed_gemm(Op::N, Op::T, rows, m, hs), el, dv,
                                                      rows * hs, w.w3.data(), m * hs, dxp, rows * m, 1}};
      gemms(path, stream, third);
    }
    kc::copy_blocks<T>(stream, dxp, dx.data(), kc::unpack_all_experts(shape.outer, el, shape.slot_count, m));
  }

  void gemm(cudaStream_t stream, View<const T> a, View<const T> b, std::int64_t m, std::int64_t n,
            std::int64_t k, View<T> c) override {
    require(static_cast<std::int64_t>(a.size()) >= m * k && static_cast<std::int64_t>(b.size()) >= k * n &&
                static_cast<std::int64_t>(c.size()) >= m * n,
            "cuda gemm: a view is smaller than its matrix");
    kc::gemm(context_.cublas, stream, kType, kc::packed_gemm(Op::N, Op::N, m, n, k), a.data(), b.data(), 0,
             c.data());
  }

  // x is (E, rows, M), h / v / z (E, rows, Hs): E x row_blocks blocks of slots in each.
  void copy_state(cudaStream_t stream, const ExpertState& from, ExpertState& to,
                  const ExpertStateSlots& slots) override {
    const auto& src = dynamic_cast<const CudaExpertState<T>&>(from);
    auto& dst = dynamic_cast<CudaExpertState<T>&>(to);
    const DispatchShape& f = src.shape;
    require(src.filled && f.width == slots.to_shape.width && f.experts == slots.to_shape.experts &&
                f.outer * f.slot_count == slots.row_blocks * slots.from_slots,
            "copy_expert_state: the saved state is from another shape (or no forward ran)");
    const std::int64_t el = f.experts, m = f.width, hs = src.shard;
    const std::int64_t rows = slots.to_shape.outer * slots.to_shape.slot_count;
    require(rows == slots.row_blocks * slots.to_slots, "copy_expert_state: to_shape does not hold its slots");
    Allocator& a = *context_.allocator;
    const std::int64_t blocks = el * slots.row_blocks;
    const auto move = [&](const GrowingBuffer<T>& x, GrowingBuffer<T>& y, std::int64_t width) {
      T* out = y.ensure(a, stream, el * rows * width);
      if (blocks > 0 && slots.count > 0)
        kc::copy_blocks<T>(stream, x.data(), out, expert_state_copy(slots, blocks, width));
    };
    move(src.x, dst.x, m);
    move(src.h, dst.h, hs);
    if (src.swiglu) move(src.v, dst.v, hs);
    move(src.z, dst.z, hs);
    dst.shape = slots.to_shape;
    dst.shard = hs;
    dst.swiglu = src.swiglu;
    dst.filled = true;
  }

 private:
  static constexpr kc::ElementType kType = kc::element_type_of<T>();

  static kernels::shared::FfnActivation activation_of(const ExpertWeights<T>& w) {
    return w.activation == ExpertActivation::Swiglu ? kernels::shared::FfnActivation::Swiglu
                                                    : kernels::shared::FfnActivation::Gelu;
  }

  kc::ExpertGemmPath path_for(std::int64_t experts, std::int64_t rows, std::int64_t shard) const {
    return forced_path_ ? *forced_path_ : kc::choose_expert_gemm_path(experts, rows, shard);
  }

  void gemms(kc::ExpertGemmPath path, cudaStream_t stream, const std::vector<kc::StridedGemmSet>& sets) {
    kc::GemmPointerSpace space;
    if (path == kc::ExpertGemmPath::Grouped) {
      const std::int64_t needed = kc::product_count(sets);
      // Sized for the largest call (three sets of E_loc products), so it is allocated once per expert count.
      const std::int64_t capacity = std::max(needed, 3 * sets.front().count);
      if (pointer_capacity_ < needed) pointer_capacity_ = capacity;
      space = {pointers_.ensure(*context_.allocator, stream, 3 * pointer_capacity_), pointer_capacity_};
    }
    kc::expert_gemm(path, context_.cublas, stream, kType, sets, space);
  }

  CudaContext& context_;
  std::optional<kc::ExpertGemmPath> forced_path_;
  GrowingBuffer<T> io_, dz_, dv_, dx_;  // packed y / dY, dz -> dh, dv, dX
  GrowingBuffer<void*> pointers_;
  std::int64_t pointer_capacity_ = 0;
};

}  // namespace

template <typename T>
std::unique_ptr<CudaExperts<T>> make_cuda_experts(CudaContext& context) {
  if (!context.allocator || !context.cublas)
    throw std::invalid_argument("make_cuda_experts: the context has no allocator or cuBLAS handle");
  return std::make_unique<CudaExpertsImpl<T>>(context);
}

template std::unique_ptr<CudaExperts<float>> make_cuda_experts<float>(CudaContext&);
template std::unique_ptr<CudaExperts<double>> make_cuda_experts<double>(CudaContext&);
template std::unique_ptr<CudaExperts<Bf16>> make_cuda_experts<Bf16>(CudaContext&);
template std::unique_ptr<CudaExperts<F16>> make_cuda_experts<F16>(CudaContext&);

}  // namespace parm::backend::cuda
