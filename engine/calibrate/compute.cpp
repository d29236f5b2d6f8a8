#include "engine/calibrate/compute.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/expert_ffn.h"
#include "kernels/cpu/gate.h"
#include "kernels/cpu/routing.h"

namespace parm::calibrate {
namespace {

template <typename T>
void time_compute_in(const Config& config, const Harness& harness, std::vector<Measurement>& fits,
                     std::ostream& table) {
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
  const auto fill = [&](std::vector<T>& v) {
    for (auto& x : v) x = static_cast<T>(dist(rng));
  };
  char line[1024];

  // Expert GEMM: (m, M) x (M, H), n = m*M*H multiply-adds; m swept like an expert's capacity.
  {
    const std::int64_t m_hi = pow2_below(double(1 << 26) / double(M * H), 16, 2048);
    std::vector<std::int64_t> ms;
    for (std::int64_t m = std::max<std::int64_t>(1, m_hi / (quick ? 16 : 32)); m <= m_hi; m *= quick ? 4 : 2)
      ms.push_back(m);
    std::vector<T> a(std::size_t(m_hi * M)), b(std::size_t(M * H)), c(std::size_t(m_hi * H));
    fill(a);
    fill(b);
    Measurement meas = measurement("gemm", "local", 1);
    std::snprintf(line, sizeof line,
                  "#\n# gemm (local, each rank): (m x %lld) * (%lld x %lld), n = m*M*H multiply-adds\n"
                  "# %10s %14s %12s %12s\n# %10s %14s %12s %12s\n",
                  (long long)M, (long long)M, (long long)H, "m", "n", "time", "rate", "(rows)", "(MACs)",
                  "(us)", "(GMAC/s)");
    table << line;
    for (std::int64_t m : ms) {
      const double ms_t = harness.time_op(
          [&] {
            kernels::cpu::gemm<T>(kernels::cpu::Trans::No, kernels::cpu::Trans::No, m, H, M, T(1), a.data(),
                                  b.data(), T(0), c.data());
          },
          iters, warmup);
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
    const std::size_t mh = static_cast<std::size_t>(M * H), ne = static_cast<std::size_t>(el);
    std::vector<T> w1(ne * mh), w3(swiglu ? ne * mh : 0), w2(ne * mh), b1(ne * static_cast<std::size_t>(H)),
        b3(swiglu ? b1.size() : 0), b2(ne * static_cast<std::size_t>(M));
    for (auto* v : {&w1, &w3, &w2, &b1, &b3, &b2}) fill(*v);
    for (auto* v : {&w1, &w3, &w2})
      for (T& x : *v) x = static_cast<T>(x * T(0.05));
    std::vector<T> gw1(w1.size()), gw3(w3.size()), gw2(w2.size()), gb1(b1.size()), gb3(b3.size()),
        gb2(b2.size());
    auto at = [](std::vector<T>& v, std::size_t offset) { return v.empty() ? nullptr : v.data() + offset; };
    std::vector<kernels::cpu::ExpertFfnParams<T>> prm(ne);
    std::vector<kernels::cpu::ExpertFfnGrads<T>> grads(ne);
    for (std::size_t e = 0; e < ne; ++e) {
      auto& p = prm[e];
      p.activation = swiglu ? kernels::cpu::FfnActivation::Swiglu : kernels::cpu::FfnActivation::Gelu;
      p.hidden = M;
      p.ffn_hidden = H;
      p.w1 = at(w1, e * mh);
      p.w2 = at(w2, e * mh);
      p.w3 = at(w3, e * mh);
      auto& g = grads[e];
      g.w1 = at(gw1, e * mh);
      g.w2 = at(gw2, e * mh);
      g.w3 = at(gw3, e * mh);
      if (l.bias) {
        p.b1 = at(b1, e * std::size_t(H));
        p.b3 = at(b3, e * std::size_t(H));
        p.b2 = at(b2, e * std::size_t(M));
        g.b1 = at(gb1, e * std::size_t(H));
        g.b3 = at(gb3, e * std::size_t(H));
        g.b2 = at(gb2, e * std::size_t(M));
      }
    }
    std::vector<T> xin(ne * std::size_t(r_hi * M)), packed(std::size_t(r_hi * M)), y(packed.size()),
        out(xin.size()), dxd(packed.size()), dx_all(xin.size());
    fill(xin);
    std::vector<kernels::cpu::ExpertFfnSaved<T>> saved(ne);
    std::vector<std::vector<T>> inputs(ne);
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
      const std::size_t len = std::size_t(r * M);
      const double f =
          harness.time_op(
              [&] {
                for (std::size_t e = 0; e < ne; ++e) {
                  inputs[e].resize(len);
                  std::copy_n(xin.data() + e * len, len, inputs[e].data());
                  kernels::cpu::expert_ffn_forward(prm[e], inputs[e].data(), r, y.data(), &saved[e]);
                  std::copy_n(y.data(), len, out.data() + e * len);
                }
              },
              iters, warmup) /
          double(el);
      const double b = harness.time_op(
                           [&] {
                             for (std::size_t e = 0; e < ne; ++e) {
                               std::copy_n(out.data() + e * len, len, y.data());
                               kernels::cpu::expert_ffn_backward(prm[e], inputs[e].data(), r, saved[e],
                                                                 y.data(), grads[e], dxd.data());
                               std::copy_n(dxd.data(), len, dx_all.data() + e * len);
                             }
                           },
                           iters, warmup) /
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

  // Local data movement as the executor does it around collectives and splits: a fresh buffer (zero-filled
  // by std::vector) and a copy into it; n = bytes written. Prices Split, groups of one rank and the local
  // reshuffles of capacity-dimension AllGather/ReduceScatter.
  {
    std::vector<std::int64_t> sizes_b;
    for (std::int64_t b = quick ? (1 << 16) : (1 << 14); b <= (1 << 24); b *= quick ? 16 : 4)
      sizes_b.push_back(b);
    std::vector<char> src(std::size_t(sizes_b.back()), 3);
    Measurement copy = measurement("copy", "local", 1);
    std::snprintf(line, sizeof line,
                  "#\n# copy (local, each rank): allocate a buffer and copy into it; n = bytes\n"
                  "# %12s %12s %10s\n# %12s %12s %10s\n",
                  "size", "time", "rate", "(B)", "(us)", "(GB/s)");
    table << line;
    for (std::int64_t b : sizes_b) {
      volatile char sink = 0;
      const double t = harness.time_op(
          [&] {
            std::vector<char> dst(static_cast<std::size_t>(b));
            std::copy_n(src.data(), b, dst.data());
            sink = dst[static_cast<std::size_t>(b - 1)];
          },
          iters, warmup);
      (void)sink;
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
  // combine: T*k*M copied rows).
  const std::int64_t t_hi = pow2_below(double(1 << 24) / double(M * k), 64, 16384);
  std::vector<std::int64_t> ts;
  for (std::int64_t t = std::max<std::int64_t>(16, t_hi / (quick ? 16 : 32)); t <= t_hi; t *= quick ? 4 : 2)
    ts.push_back(t);
  std::vector<T> x(std::size_t(t_hi * M)), wg(std::size_t(M * E)), probs(std::size_t(t_hi * E));
  fill(x);
  fill(wg);
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
    std::vector<std::int32_t> choices(std::size_t(T_ * k));
    for (std::int64_t t = 0; t < T_; ++t)
      for (std::int64_t j = 0; j < k; ++j) choices[std::size_t(t * k + j)] = std::int32_t((t * 7 + j) % E);
    const std::int64_t capacity = (T_ * k + E - 1) / E + 1;
    const kernels::cpu::Routing routing = kernels::cpu::route_choices(choices, T_, E, k, capacity);
    std::vector<T> dispatched(std::size_t(E * capacity * M)), weights(std::size_t(T_ * k), T(0.5)),
        out(std::size_t(T_ * M));
    const double g = harness.time_op(
        [&] { kernels::cpu::gate_forward<T>(x.data(), wg.data(), T_, M, E, probs.data()); }, iters, warmup);
    const double o = harness.time_op(
        [&] { kernels::cpu::dispatch<T>(routing, x.data(), M, dispatched.data()); }, iters, warmup);
    const double c = harness.time_op(
        [&] { kernels::cpu::combine<T>(routing, weights.data(), dispatched.data(), M, out.data()); }, iters,
        warmup);
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

void time_compute(const Config& config, const Harness& harness, std::vector<Measurement>& fits,
                  std::ostream& table) {
  if (config.layer.dtype == DType::Fp64)
    time_compute_in<double>(config, harness, fits, table);
  else
    time_compute_in<float>(config, harness, fits, table);
}

}  // namespace parm::calibrate
