#include "engine/calibrate/compute.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "engine/backend/buffer.h"

namespace parm::calibrate {
namespace {

// Every op here is the backend's own (Compute<T> on device Buffers, enqueued on the compute stream), timed by
// the events around it: what the executor runs, on whichever backend the config names.
template <typename T>
void time_compute_in(const Config& config, backend::Backend& backend, const Harness& harness,
                     std::vector<Measurement>& fits, std::ostream& table) {
  // More iterations than quick collectives and at least one warm-up: kernels are short and cache-sensitive.
  const int iters = std::max(3, harness.sweep().iters), warmup = std::max(1, harness.sweep().warmup);
  const bool quick = harness.sweep().quick;
  const LayerConfig& l = config.layer;
  const std::int64_t M = std::max<std::int64_t>(l.hidden, 64);
  const std::int64_t H =
      std::max<std::int64_t>(l.ffn_hidden / std::max<std::int64_t>(1, config.parallel.esp), 64);
  const std::int64_t E = std::max<std::int64_t>(l.num_experts, 2);
  const std::int64_t k = std::clamp<std::int64_t>(l.top_k, 1, E);
  const auto pow2_below = [](double v, std::int64_t lo, std::int64_t hi) {
    std::int64_t p = lo;
    while (p * 2 <= hi && double(p * 2) <= v) p *= 2;
    return p;
  };
  std::mt19937 rng(1234);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  backend::Allocator& memory = backend.allocator();
  backend::Compute<T>& compute = backend.compute<T>();
  backend::Stream& stream = backend.stream(Lane::Compute);
  const auto time = [&](const std::function<void()>& enqueue) {
    return harness.time_enqueued(backend, stream, enqueue, iters, warmup);
  };
  // A device buffer of `count` elements, uniform in [-scale, scale] (zeros when scale is 0).
  const auto filled = [&](std::int64_t count, double scale = 1.0) {
    backend::Buffer<T> b(memory, std::size_t(count));
    std::vector<T> host(b.size());
    for (auto& x : host) x = static_cast<T>(scale * dist(rng));
    memory.copy_from_host(b.data(), host.data(), host.size() * sizeof(T));
    return b;
  };
  char line[1024];

  // Expert GEMM: (m, M) x (M, H), n = m*M*H multiply-adds; m swept like an expert's capacity.
  {
    const std::int64_t m_hi = pow2_below(double(1 << 26) / double(M * H), 16, 2048);
    std::vector<std::int64_t> ms;
    for (std::int64_t m = std::max<std::int64_t>(1, m_hi / (quick ? 16 : 32)); m <= m_hi; m *= quick ? 4 : 2)
      ms.push_back(m);
    const backend::Buffer<T> a = filled(m_hi * M), b = filled(M * H), c = filled(m_hi * H, 0);
    Measurement meas = measurement("gemm", "local", 1);
    std::snprintf(line, sizeof line,
                  "#\n# gemm (local, each rank): (m x %lld) * (%lld x %lld), n = m*M*H multiply-adds\n"
                  "# %10s %14s %12s %12s\n# %10s %14s %12s %12s\n",
                  (long long)M, (long long)M, (long long)H, "m", "n", "time", "rate", "(rows)", "(MACs)",
                  "(us)", "(GMAC/s)");
    table << line;
    for (std::int64_t m : ms) {
      const double ms_t = time([&] { compute.gemm(stream, a.view(), b.view(), m, H, M, c.view()); });
      const double n = double(m * M * H);
      meas.samples.push_back({n, ms_t});
      std::snprintf(line, sizeof line, "  %10lld %14.0f %12.2f %12.3f\n", (long long)m, n, ms_t * 1e3,
                    n / (ms_t * 1e-3) / 1e9);
      table << line;
      harness.progress("gemm m=" + std::to_string(m));
    }
    meas.fit = fit_measured(meas.samples);
    write_fit_line(table, meas);
    fits.push_back(meas);
  }

  // The experts op as the executor runs it: each of the rank's E_loc experts in turn runs its FFN (the
  // layer's activation and bias) on `rows` packed rows, forward (keeping what backward needs) and backward
  // (every parameter gradient and dX), with the packing copies. Timing the op itself rather than one bare
  // GEMM is what the layer sees: bias, the activation, backward's extra GEMMs, the copies, and weights that
  // are cold because the other experts ran in between (a bare, cache-warm GEMM fit under-predicted the
  // experts about 2x). The fit is per expert call: t = (op time) / E_loc, n = rows*M*Hs*G multiply-adds, G =
  // 2 GEMMs per pass (3 with SwiGLU).
  {
    const bool swiglu = l.activation == Activation::Swiglu;
    const std::int64_t gemms = swiglu ? 3 : 2;
    const std::int64_t el =
        std::max<std::int64_t>(1, l.num_experts / std::max<std::int64_t>(1, config.parallel.ep()));
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
    const std::unique_ptr<backend::ExpertState> saved = compute.make_expert_state();
    Measurement fwd = measurement("experts", "local", 1),
                bwd{"experts_bwd", "local", 1, {}, false, {}, false};
    std::snprintf(line, sizeof line,
                  "#\n# experts (local, each rank): %lld experts' FFN in turn, M %lld, Hs %lld, %s%s, with "
                  "packing; time per expert; n = rows*M*Hs*%lld multiply-adds\n# %10s %14s %12s %12s\n# %10s "
                  "%14s %12s %12s\n",
                  (long long)el, (long long)M, (long long)H, swiglu ? "SwiGLU" : "GELU",
                  l.bias ? ", bias" : "", (long long)gemms, "rows", "n", "forward", "backward", "", "(MACs)",
                  "(us)", "(us)");
    table << line;
    for (std::int64_t r : rs) {
      const backend::DispatchShape shape{1, el, r, M};
      const std::int64_t len = el * r * M;
      const double f = time([&] {
                         compute.experts_forward(stream, weights, shape, xin.view().slice(0, len), *saved,
                                                 out.view().slice(0, len));
                       }) /
                       double(el);
      // Backward of the forward just timed (its saved activations), the output standing in for dY.
      const double b = time([&] {
                         compute.experts_backward(stream, weights, shape, out.view().slice(0, len), *saved,
                                                  grads, dx.view().slice(0, len));
                       }) /
                       double(el);
      const double n = double(r * M * H * gemms);
      fwd.samples.push_back({n, f});
      bwd.samples.push_back({n, b});
      std::snprintf(line, sizeof line, "  %10lld %14.0f %12.2f %12.2f\n", (long long)r, n, f * 1e3, b * 1e3);
      table << line;
      harness.progress("experts rows=" + std::to_string(r));
    }
    for (Measurement* m : {&fwd, &bwd}) {
      m->fit = fit_measured(m->samples);
      write_named_fit_line(table, *m);
      fits.push_back(*m);
    }
  }

  // Local data movement as the executor does it around collectives and splits: Compute::copy into a buffer
  // allocated before (the executor reuses its buffers from pass to pass, so steady-state copies no longer
  // fault fresh pages in); n = bytes written. Prices Split, groups of one rank and the local reshuffles of
  // capacity-dimension AllGather/ReduceScatter.
  {
    std::vector<std::int64_t> sizes_b;
    for (std::int64_t b = quick ? (1 << 16) : (1 << 14); b <= (1 << 24); b *= quick ? 16 : 4)
      sizes_b.push_back(b);
    const backend::Buffer<T> src = filled(sizes_b.back() / std::int64_t(sizeof(T))),
                             dst = filled(sizes_b.back() / std::int64_t(sizeof(T)), 0);
    Measurement copy = measurement("copy", "local", 1);
    std::snprintf(line, sizeof line,
                  "#\n# copy (local, each rank): copy into an allocated buffer; n = bytes\n"
                  "# %12s %12s %10s\n# %12s %12s %10s\n",
                  "size", "time", "rate", "(B)", "(us)", "(GB/s)");
    table << line;
    for (std::int64_t b : sizes_b) {
      const std::int64_t count = b / std::int64_t(sizeof(T));
      const double t =
          time([&] { compute.copy(stream, src.view().slice(0, count), dst.view().slice(0, count)); });
      copy.samples.push_back({double(b), t});
      std::snprintf(line, sizeof line, "  %12lld %12.2f %10.3f\n", (long long)b, t * 1e3,
                    double(b) / (t * 1e-3) / 1e9);
      table << line;
    }
    harness.progress("copy");
    copy.fit = fit_measured(copy.samples);
    write_fit_line(table, copy);
    fits.push_back(copy);
  }

  // Gate, order (dispatch) and combine over token counts T; n = elements touched (gate: T*M inputs, order and
  // combine: T*k*M copied rows). The gate is the executor's (softmax GEMM, top-k choices and loads); order
  // and combine run on its routing, slotted with about one token of headroom per expert.
  const std::int64_t t_hi = pow2_below(double(1 << 24) / double(M * k), 64, 16384);
  std::vector<std::int64_t> ts;
  for (std::int64_t t = std::max<std::int64_t>(16, t_hi / (quick ? 16 : 32)); t <= t_hi; t *= quick ? 4 : 2)
    ts.push_back(t);
  const backend::Buffer<T> x = filled(t_hi * M), wg = filled(M * E), probs = filled(t_hi * E, 0),
                           weights = filled(t_hi * k, 0);
  Measurement gate = measurement("gate", "local", 1), order{"order", "local", 1, {}, false, {}, false},
              combine{"combine", "local", 1, {}, false, {}, false};
  std::snprintf(
      line, sizeof line,
      "#\n# gate, order, combine (local, each rank): M %lld, E %lld, k %lld; n = elements touched "
      "(gate T*M, order and combine T*k*M)\n# %10s %14s %12s %12s %12s\n# %10s %14s %12s %12s %12s\n",
      (long long)M, (long long)E, (long long)k, "tokens", "n(gate)", "gate", "order", "combine", "(T)",
      "(elements)", "(us)", "(us)", "(us)");
  table << line;
  for (std::int64_t T_ : ts) {
    const std::unique_ptr<backend::RoutingState> routing = compute.make_routing();
    const auto tokens = x.view().slice(0, T_ * M);
    const auto token_probs = probs.view().slice(0, T_ * E);
    const double g =
        time([&] { compute.gate_forward(stream, tokens, wg.view(), T_, M, E, k, token_probs, *routing); });
    const std::int64_t capacity = (T_ * k + E - 1) / E + 1;
    compute.route(stream, *routing, capacity, token_probs, weights.view().slice(0, T_ * k));
    const backend::Buffer<T> dispatched(memory, std::size_t(E * capacity * M)),
        out(memory, std::size_t(T_ * M));
    const double o = time([&] { compute.dispatch(stream, *routing, tokens, M, dispatched.view()); });
    const double c = time([&] {
      compute.combine(stream, *routing, weights.view().slice(0, T_ * k), dispatched.view(), M, out.view());
    });
    gate.samples.push_back({double(T_ * M), g});
    order.samples.push_back({double(T_ * k * M), o});
    combine.samples.push_back({double(T_ * k * M), c});
    std::snprintf(line, sizeof line, "  %10lld %14lld %12.2f %12.2f %12.2f\n", (long long)T_,
                  (long long)(T_ * M), g * 1e3, o * 1e3, c * 1e3);
    table << line;
    harness.progress("gate/order/combine T=" + std::to_string(T_));
  }
  for (Measurement* m : {&gate, &order, &combine}) {
    m->fit = fit_measured(m->samples);
    write_named_fit_line(table, *m);
    fits.push_back(*m);
  }
}

}  // namespace

void time_compute(const Config& config, backend::Backend& backend, const Harness& harness,
                  std::vector<Measurement>& fits, std::ostream& table) {
  if (config.layer.dtype == DType::Fp64)
    time_compute_in<double>(config, backend, harness, fits, table);
  else
    time_compute_in<float>(config, backend, harness, fits, table);
}

}  // namespace parm::calibrate
