#include "engine/calibrate/compute.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

#include "engine/backend/buffer.h"

namespace parm::calibrate {
namespace {

std::int64_t pow2_below(double v, std::int64_t lo, std::int64_t hi) {
  std::int64_t p = lo;
  while (p * 2 <= hi && double(p * 2) <= v) p *= 2;
  return p;
}

// Every op here is the backend's own (Compute<T> on device Buffers, enqueued on the compute stream), timed by
// the events around it: what the executor runs, on whichever backend the config names, at one dtype T.
template <typename T>
class ComputeTimer {
 public:
  ComputeTimer(const Config& config, backend::Backend& backend, const Harness& harness,
               std::vector<Measurement>& fits, std::ostream& table)
      : config_(config),
        backend_(backend),
        harness_(harness),
        fits_(fits),
        table_(table),
        memory_(backend.allocator()),
        compute_(backend.compute<T>()),
        stream_(backend.stream(Lane::Compute)) {}

  // Expert GEMM: (m, M) x (M, H), n = m*M*H multiply-adds; m swept like an expert's capacity.
  void gemm(const std::string& op, const char* dtype) {
    const std::int64_t m_hi = pow2_below(double(1 << 26) / double(M * H), 16, 2048);
    std::vector<std::int64_t> ms;
    for (std::int64_t m = std::max<std::int64_t>(1, m_hi / (quick ? 16 : 32)); m <= m_hi; m *= quick ? 4 : 2)
      ms.push_back(m);
    const backend::Buffer<T> a = filled(m_hi * M), b = filled(M * H), c = filled(m_hi * H, 0);
    Measurement meas = measurement(op, "local", 1);
    meas.shape = "M " + std::to_string(M) + ", H " + std::to_string(H);
    std::snprintf(line_, sizeof line_,
                  "#\n# %s (local, each rank, %s): (m x %lld) * (%lld x %lld), n = m*M*H multiply-adds\n"
                  "# %10s %14s %12s %12s\n# %10s %14s %12s %12s\n",
                  op.c_str(), dtype, (long long)M, (long long)M, (long long)H, "m", "n", "time", "rate",
                  "(rows)", "(MACs)", "(us)", "(GMAC/s)");
    table_ << line_;
    for (std::int64_t m : ms) {
      const double ms_t = time([&] { compute_.gemm(stream_, a.view(), b.view(), m, H, M, c.view()); });
      const double n = double(m * M * H);
      meas.samples.push_back({n, ms_t});
      std::snprintf(line_, sizeof line_, "  %10lld %14.0f %12.2f %12.3f\n", (long long)m, n, ms_t * 1e3,
                    n / (ms_t * 1e-3) / 1e9);
      table_ << line_;
      harness_.progress(op + " m=" + std::to_string(m));
    }
    finish(meas, false);
  }

  // The experts op as the executor runs it: each of the rank's E_loc experts in turn runs its FFN (the
  // layer's activation and bias) on `rows` packed rows, forward (keeping what backward needs) and backward
  // (every parameter gradient and dX), with the packing copies. Timing the op itself rather than one bare
  // GEMM is what the layer sees: bias, the activation, backward's extra GEMMs, the copies, and weights that
  // are cold because the other experts ran in between (a bare, cache-warm GEMM fit under-predicted the
  // experts about 2x). The fit is per expert call: t = (op time) / E_loc, n = rows*M*Hs*G multiply-adds, G =
  // 2 GEMMs per pass (3 with SwiGLU). Its shape family, (M, Hs, E_loc, activation, bias), is the layer's:
  // the one the cost model prices the layer's experts with.
  void experts(const std::string& fwd_op, const std::string& bwd_op, const char* dtype) {
    const LayerConfig& l = config_.layer;
    const bool swiglu = l.activation == Activation::Swiglu;
    const std::int64_t gemms = swiglu ? 3 : 2;
    const std::int64_t el =
        std::max<std::int64_t>(1, l.num_experts / std::max<std::int64_t>(1, config_.parallel.ep()));
    const std::int64_t r_hi = pow2_below(double(1 << 28) / double(M * H * el), 16, 4096);
    std::vector<std::int64_t> rs;
    for (std::int64_t r = std::max<std::int64_t>(1, r_hi / (quick ? 16 : 32)); r <= r_hi; r *= quick ? 4 : 2)
      rs.push_back(r);
    // The rank's E_loc experts as the executor holds them (expert-major tensors), inputs (1, E_loc, r, M).
    const auto optional = [&](bool present, std::int64_t count, double scale) {
      return present ? filled(count, scale) : backend::Buffer<T>();
    };
    const backend::Buffer<T> w1 = filled(el * M * H, 0.05), w3 = optional(swiglu, el * M * H, 0.05),
                             w2 = filled(el * H * M, 0.05), b1 = optional(l.bias, el * H, 1),
                             b3 = optional(l.bias && swiglu, el * H, 1), b2 = optional(l.bias, el * M, 1);
    const backend::Buffer<T> gw1 = filled(el * M * H, 0), gw3 = optional(swiglu, el * M * H, 0),
                             gw2 = filled(el * H * M, 0), gb1 = optional(l.bias, el * H, 0),
                             gb3 = optional(l.bias && swiglu, el * H, 0), gb2 = optional(l.bias, el * M, 0);
    backend::ExpertWeights<T> weights;
    weights.activation = swiglu ? backend::ExpertActivation::Swiglu : backend::ExpertActivation::Gelu;
    weights.hidden = M;
    weights.shard = H;
    weights.experts = el;
    weights.w1 = w1.view();
    weights.b1 = b1.view();
    weights.w3 = w3.view();
    weights.b3 = b3.view();
    weights.w2 = w2.view();
    weights.b2 = b2.view();
    const backend::ExpertGrads<T> grads{gw1.view(), gb1.view(), gw3.view(),
                                        gb3.view(), gw2.view(), gb2.view()};
    const backend::Buffer<T> xin = filled(el * r_hi * M), out = filled(el * r_hi * M, 0),
                             dx = filled(el * r_hi * M, 0);
    const std::unique_ptr<backend::ExpertState> saved = compute_.make_expert_state();
    Measurement fwd = measurement(fwd_op, "local", 1), bwd = measurement(bwd_op, "local", 1);
    fwd.shape = bwd.shape = "M " + std::to_string(M) + ", Hs " + std::to_string(H) + ", E_loc " +
                            std::to_string(el) + ", " + (swiglu ? "SwiGLU" : "GELU") +
                            (l.bias ? ", bias" : "");
    std::snprintf(line_, sizeof line_,
                  "#\n# %s (local, each rank, %s): %lld experts' FFN in turn, M %lld, Hs %lld, %s%s, with "
                  "packing; time per expert; n = rows*M*Hs*%lld multiply-adds\n# %10s %14s %12s %12s\n# %10s "
                  "%14s %12s %12s\n",
                  fwd_op.c_str(), dtype, (long long)el, (long long)M, (long long)H,
                  swiglu ? "SwiGLU" : "GELU", l.bias ? ", bias" : "", (long long)gemms, "rows", "n",
                  "forward", "backward", "", "(MACs)", "(us)", "(us)");
    table_ << line_;
    for (std::int64_t r : rs) {
      const backend::DispatchShape shape{1, el, r, M};
      const std::int64_t len = el * r * M;
      const double f = time([&] {
                         compute_.experts_forward(stream_, weights, shape, xin.view().slice(0, len), *saved,
                                                  out.view().slice(0, len));
                       }) /
                       double(el);
      // Backward of the forward just timed (its saved activations), the output standing in for dY.
      const double b = time([&] {
                         compute_.experts_backward(stream_, weights, shape, out.view().slice(0, len), *saved,
                                                   grads, dx.view().slice(0, len));
                       }) /
                       double(el);
      const double n = double(r * M * H * gemms);
      fwd.samples.push_back({n, f});
      bwd.samples.push_back({n, b});
      std::snprintf(line_, sizeof line_, "  %10lld %14.0f %12.2f %12.2f\n", (long long)r, n, f * 1e3,
                    b * 1e3);
      table_ << line_;
      harness_.progress(fwd_op + " rows=" + std::to_string(r));
    }
    finish(fwd, true);
    finish(bwd, true);
  }

  // Local data movement as the executor does it around collectives and splits: Compute::copy into a buffer
  // allocated before (the executor reuses its buffers from pass to pass, so steady-state copies no longer
  // fault fresh pages in); n = bytes written. Prices Split and the local reshuffles of capacity-dimension
  // AllGather/ReduceScatter (a collective over a group of one rank is not executed: nothing to price).
  void copy() {
    std::vector<std::int64_t> sizes_b;
    for (std::int64_t b = quick ? (1 << 16) : (1 << 14); b <= (1 << 24); b *= quick ? 16 : 4)
      sizes_b.push_back(b);
    const backend::Buffer<T> src = filled(sizes_b.back() / std::int64_t(sizeof(T))),
                             dst = filled(sizes_b.back() / std::int64_t(sizeof(T)), 0);
    Measurement copy = measurement("copy", "local", 1);
    std::snprintf(line_, sizeof line_,
                  "#\n# copy (local, each rank): copy into an allocated buffer; n = bytes\n"
                  "# %12s %12s %10s\n# %12s %12s %10s\n",
                  "size", "time", "rate", "(B)", "(us)", "(GB/s)");
    table_ << line_;
    for (std::int64_t b : sizes_b) {
      const std::int64_t count = b / std::int64_t(sizeof(T));
      const double t =
          time([&] { compute_.copy(stream_, src.view().slice(0, count), dst.view().slice(0, count)); });
      copy.samples.push_back({double(b), t});
      std::snprintf(line_, sizeof line_, "  %12lld %12.2f %10.3f\n", (long long)b, t * 1e3,
                    double(b) / (t * 1e-3) / 1e9);
      table_ << line_;
    }
    harness_.progress("copy");
    finish(copy, false);
  }

  // Gate, order (dispatch) and combine over token counts T; n = elements touched (gate: T*M inputs, order and
  // combine: T*k*M copied rows). The gate is the executor's (softmax GEMM, top-k choices and loads); order
  // and combine run on its routing, slotted with about one token of headroom per expert.
  void routing() {
    const std::int64_t E = std::max<std::int64_t>(config_.layer.num_experts, 2);
    const std::int64_t k = std::clamp<std::int64_t>(config_.layer.top_k, 1, E);
    const std::int64_t t_hi = pow2_below(double(1 << 24) / double(M * k), 64, 16384);
    std::vector<std::int64_t> ts;
    for (std::int64_t t = std::max<std::int64_t>(16, t_hi / (quick ? 16 : 32)); t <= t_hi; t *= quick ? 4 : 2)
      ts.push_back(t);
    const backend::Buffer<T> x = filled(t_hi * M), wg = filled(M * E), probs = filled(t_hi * E, 0),
                             weights = filled(t_hi * k, 0);
    Measurement gate = measurement("gate", "local", 1), order = measurement("order", "local", 1),
                combine = measurement("combine", "local", 1);
    gate.shape = order.shape = combine.shape =
        "M " + std::to_string(M) + ", E " + std::to_string(E) + ", k " + std::to_string(k);
    std::snprintf(
        line_, sizeof line_,
        "#\n# gate, order, combine (local, each rank): M %lld, E %lld, k %lld; n = elements touched "
        "(gate T*M, order and combine T*k*M)\n# %10s %14s %12s %12s %12s\n# %10s %14s %12s %12s %12s\n",
        (long long)M, (long long)E, (long long)k, "tokens", "n(gate)", "gate", "order", "combine", "(T)",
        "(elements)", "(us)", "(us)", "(us)");
    table_ << line_;
    for (std::int64_t T_ : ts) {
      const std::unique_ptr<backend::RoutingState> routing = compute_.make_routing();
      const auto tokens = x.view().slice(0, T_ * M);
      const auto token_probs = probs.view().slice(0, T_ * E);
      const double g = time(
          [&] { compute_.gate_forward(stream_, tokens, wg.view(), T_, M, E, k, token_probs, *routing); });
      const std::int64_t capacity = (T_ * k + E - 1) / E + 1;
      compute_.route(stream_, *routing, capacity, token_probs, weights.view().slice(0, T_ * k));
      const backend::Buffer<T> dispatched(memory_, std::size_t(E * capacity * M)),
          out(memory_, std::size_t(T_ * M));
      const double o = time([&] { compute_.dispatch(stream_, *routing, tokens, M, dispatched.view()); });
      const double c = time([&] {
        compute_.combine(stream_, *routing, weights.view().slice(0, T_ * k), dispatched.view(), M,
                         out.view());
      });
      gate.samples.push_back({double(T_ * M), g});
      order.samples.push_back({double(T_ * k * M), o});
      combine.samples.push_back({double(T_ * k * M), c});
      std::snprintf(line_, sizeof line_, "  %10lld %14lld %12.2f %12.2f %12.2f\n", (long long)T_,
                    (long long)(T_ * M), g * 1e3, o * 1e3, c * 1e3);
      table_ << line_;
      harness_.progress("gate/order/combine T=" + std::to_string(T_));
    }
    for (Measurement* m : {&gate, &order, &combine}) finish(*m, true);
  }

 private:
  double time(const std::function<void()>& enqueue) const {
    return harness_.time_enqueued(backend_, stream_, enqueue, iters, warmup);
  }

  // A device buffer of `count` elements, uniform in [-scale, scale] (zeros when scale is 0).
  backend::Buffer<T> filled(std::int64_t count, double scale = 1.0) {
    backend::Buffer<T> b(memory_, std::size_t(count));
    std::vector<T> host(b.size());
    for (auto& x : host) x = static_cast<T>(scale * dist_(rng_));
    memory_.copy_from_host(b.data(), host.data(), host.size() * sizeof(T));
    return b;
  }

  void finish(Measurement& m, bool named) {
    m.fit = fit_measured(m.samples);
    if (named)
      write_named_fit_line(table_, m);
    else
      write_fit_line(table_, m);
    fits_.push_back(m);
  }

  const Config& config_;
  backend::Backend& backend_;
  const Harness& harness_;
  std::vector<Measurement>& fits_;
  std::ostream& table_;
  backend::Allocator& memory_;
  backend::Compute<T>& compute_;
  backend::Stream& stream_;
  std::mt19937 rng_{1234};
  std::uniform_real_distribution<double> dist_{-1.0, 1.0};
  char line_[1024] = {};
  // More iterations than quick collectives and at least one warm-up: kernels are short and cache-sensitive.
  const int iters = std::max(3, harness_.sweep().iters), warmup = std::max(1, harness_.sweep().warmup);
  const bool quick = harness_.sweep().quick;
  const std::int64_t M = std::max<std::int64_t>(config_.layer.hidden, 64);
  const std::int64_t H =
      std::max<std::int64_t>(config_.layer.ffn_hidden / std::max<std::int64_t>(1, config_.parallel.esp), 64);
};

// Calls `f` with a null T* for `dtype`.
template <typename F>
void with_type(DType dtype, F&& f) {
  switch (dtype) {
    case DType::Fp64:
      return f(static_cast<double*>(nullptr));
    case DType::Bf16:
      return f(static_cast<Bf16*>(nullptr));
    case DType::Fp16:
      return f(static_cast<F16*>(nullptr));
    default:
      return f(static_cast<float*>(nullptr));
  }
}

// Whether the backend computes in `dtype` (the cpu backend has no 16-bit compute and says so by throwing).
bool computes_in(backend::Backend& backend, DType dtype) {
  try {
    with_type(dtype, [&]<typename T>(T*) { (void)backend.compute<T>(); });
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

}  // namespace

DType compute_dtype(DType layer, backend::Backend& backend) {
  return computes_in(backend, layer) ? layer : DType::Fp32;
}

void time_compute(const Config& config, backend::Backend& backend, const Harness& harness,
                  std::vector<Measurement>& fits, std::ostream& table) {
  const DType layer = compute_dtype(config.layer.dtype, backend);
  if (layer != config.layer.dtype)
    table << "#\n# compute: backend " << backend.name() << " has no " << to_string(config.layer.dtype)
          << " compute; measured in " << to_string(layer) << "\n";
  with_type(layer, [&]<typename T>(T*) {
    ComputeTimer<T> timer(config, backend, harness, fits, table);
    const std::string dtype(to_string(layer));
    timer.gemm("gemm", dtype.c_str());
    timer.experts("experts", "experts_bwd", dtype.c_str());
    timer.copy();
    timer.routing();
  });
  // A GPU's GEMM rate differs by dtype (tensor cores): the GEMM at every dtype of a layer on it, the expert
  // op also at the other 16-bit one, each under its dtype's suffix.
  if (backend.name() == "cpu") return;
  for (DType d : {DType::Fp32, DType::Bf16, DType::Fp16}) {
    if (d == layer || !computes_in(backend, d)) continue;
    const std::string dtype(to_string(d));
    with_type(d, [&]<typename T>(T*) {
      ComputeTimer<T>(config, backend, harness, fits, table).gemm("gemm_" + dtype, dtype.c_str());
    });
  }
  const DType other = layer == DType::Bf16 ? DType::Fp16 : DType::Bf16;
  if (!computes_in(backend, other)) return;
  const std::string dtype(to_string(other));
  with_type(other, [&]<typename T>(T*) {
    ComputeTimer<T>(config, backend, harness, fits, table)
        .experts("experts_" + dtype, "experts_bwd_" + dtype, dtype.c_str());
  });
}

}  // namespace parm::calibrate
