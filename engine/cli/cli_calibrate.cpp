// `parm calibrate CONFIG --ranks N ...`: micro-benchmarks on the layout's own communicators and of the
// compute kernels, in the manner of nccl-tests (spec style.md section 2: -b/-e/-f size sweep, -w warm-up, -n
// iterations, a #-commented table with units, algbw and busbw), alpha-beta fits with r^2 per (operation,
// communicator), and a measured interference factor. `parm calibrate` validates the layout and starts `parm
// calibrate-worker` under the same launcher as `parm run` (local ranks, --hostfile-free emulated --cluster);
// rank 0 writes the Calibration JSON (--out) and, with --db, stores the fits in the project database. The
// table goes to stdout, progress to stderr.
#include <mpi.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "db/database.h"
#include "engine/backend/backend_availability.h"
#include "engine/model/calibration.h"
#include "engine/cli/arg_rules.h"
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/cli/db_option.h"
#include "engine/launch/cluster_launch.h"
#include "engine/comm/comm_mpi.h"
#include "engine/core/config_json.h"
#include "engine/model/fit.h"
#include "engine/backend/cpu/lanes.h"
#include "engine/launch/launcher.h"
#include "engine/launch/process_watch.h"
#include "engine/core/rank_layout.h"
#include "engine/launch/run_folder.h"
#include "engine/core/validation.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/expert_ffn.h"
#include "kernels/cpu/gate.h"
#include "kernels/cpu/routing.h"
#include "resources/presets.h"

namespace parm::cli {
namespace {

constexpr std::int64_t kMaxBytes = std::int64_t(1)
                                   << 40;  // calibrate-worker sizes: 1 TiB is beyond any sweep

using Clock = std::chrono::steady_clock;

[[noreturn]] void refuse(const std::string& line, int code = 2) {
  std::cerr << line << '\n';
  throw CLI::RuntimeError(code);
}

// "64K", "16M", "1G" (powers of 1024, as nccl-tests) or a plain byte count.
std::optional<std::int64_t> parse_size(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string suffix = text.substr(used);
  double scale = 1;
  if (suffix == "K" || suffix == "k")
    scale = 1024.0;
  else if (suffix == "M" || suffix == "m")
    scale = 1024.0 * 1024;
  else if (suffix == "G" || suffix == "g")
    scale = 1024.0 * 1024 * 1024;
  else if (!suffix.empty() && suffix != "B" && suffix != "b")
    return std::nullopt;
  const double bytes = v * scale;
  if (!(bytes >= 1) || bytes > 4.0 * 1024 * 1024 * 1024) return std::nullopt;
  return static_cast<std::int64_t>(bytes);
}

// The swept message sizes: b, b*f, ... up to e; quick mode: b, the geometric middle and e.
std::vector<std::int64_t> sweep_sizes(std::int64_t b, std::int64_t e, double f, bool quick) {
  std::vector<std::int64_t> out;
  if (quick) {
    out = {b, static_cast<std::int64_t>(std::sqrt(double(b) * double(e))), e};
  } else {
    for (double s = double(b); s <= double(e) * 1.0000001; s *= f)
      out.push_back(static_cast<std::int64_t>(s));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// ---------------------------------------------------------------------------------------------------------
// The worker: one rank.

struct WorkerArgs {
  std::string config_path;
  std::string out_path;    // --result: rank 0 writes the Calibration JSON here
  std::string table_path;  // rank 0 writes the nccl-tests-style table here (the parent prints it)
  std::string db_path;
  std::string cluster;
  std::int64_t begin = 64 * 1024;
  std::int64_t end = 16 * 1024 * 1024;
  double factor = 4;
  int iters = 20;
  int warmup = 5;
  bool quick = false;
  std::int64_t timeout_ms = 60'000;
};

struct Measured {
  std::string op, communicator;
  int group_size = 1;
  std::vector<FitSample> samples;
  bool fitted = false;
  LinearFit fit;
  bool through_origin = false;  // the unconstrained alpha was negative
};

class Bench {
 public:
  Bench(int rank, const WorkerArgs& args) : rank_(rank), args_(args) {}

  // warm-up calls, a world barrier, `iters` timed calls; the median call of the slowest rank, in ms. The
  // median rather than nccl-tests' mean: on a shared machine one descheduled call would otherwise move a
  // 3-size quick fit by 2x or more.
  double time_block(const std::function<void()>& op, int iters, int warmup) const {
    for (int i = 0; i < warmup; ++i) op();
    MPI_Barrier(MPI_COMM_WORLD);
    std::vector<double> calls(static_cast<std::size_t>(std::max(1, iters)));
    for (double& t : calls) {
      const auto t0 = Clock::now();
      op();
      t = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    }
    std::nth_element(calls.begin(), calls.begin() + static_cast<std::ptrdiff_t>(calls.size() / 2),
                     calls.end());
    const double mine = calls[calls.size() / 2];
    double slowest = 0;
    MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return slowest;
  }
  double time_block(const std::function<void()>& op) const {
    return time_block(op, args_.iters, args_.warmup);
  }

  void progress(const std::string& line) const {
    if (rank_ == 0) std::cerr << "parm calibrate: " << line << std::endl;
  }

 private:
  int rank_;
  const WorkerArgs& args_;
};

// A negative fixed cost (kernels that slow down per element once their data leaves the cache bend the line
// upwards) would make the model predict negative times for small sizes: the fit is then redone through the
// origin, t = beta * n, with the same 1/t^2 weights, and marked.
void fit_measured(Measured& m) {
  try {
    m.fit = fit_alpha_beta(m.samples);
    m.fitted = true;
  } catch (const std::exception&) {
    m.fitted = false;  // fewer than two sizes: reported as not fitted
    return;
  }
  if (m.fit.beta < 0) {
    // Times that shrink with size (noise on a short sweep): a negative slope would predict negative times
    // for large messages and is refused on load, so store the constant that fits best, the mean time.
    double mean = 0;
    for (const FitSample& x : m.samples) mean += x.t;
    m.fit.alpha = mean / double(m.samples.size());
    m.fit.beta = 0;
    m.fit.r2 = 0;
    return;
  }
  if (m.fit.alpha >= 0) return;
  double num = 0, den = 0, mean = 0;
  for (const FitSample& x : m.samples) {
    num += x.n / x.t;
    den += (x.n / x.t) * (x.n / x.t);
    mean += x.t;
  }
  if (den <= 0) return;
  mean /= double(m.samples.size());
  m.fit.alpha = 0;
  m.fit.beta = num / den;
  double ss_res = 0, ss_tot = 0;
  for (const FitSample& x : m.samples) {
    ss_res += (x.t - m.fit.beta * x.n) * (x.t - m.fit.beta * x.n);
    ss_tot += (x.t - mean) * (x.t - mean);
  }
  m.fit.r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0;
  m.through_origin = true;
}

void print_fit_line(std::ostream& t, const Measured& m) {
  char buf[256];
  if (m.fitted)
    std::snprintf(buf, sizeof buf, "# fit: t_ms = %.6g + %.6g * n   (r2 %.4f, %d sizes)%s\n", m.fit.alpha,
                  m.fit.beta, m.fit.r2, m.fit.samples,
                  m.through_origin ? "; through the origin (unconstrained alpha < 0)" : "");
  else
    std::snprintf(buf, sizeof buf, "# fit: none (fewer than two sizes)\n");
  t << buf;
}

struct CommOp {
  const char* op;
  const char* communicator;
  comm::Communicator* c;
  double bus_factor;     // busbw = algbw * factor (nccl-tests)
  const char* formula;   // shown in the header
  double bytes_divisor;  // the bytes timed per size (p2p: size / W)
};

template <typename T>
void time_compute(const Config& config, const Bench& bench, int iters, int warmup, bool quick,
                  std::vector<Measured>& fits, std::ostream& table) {
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
    Measured meas{"gemm", "local", 1, {}, false, {}, false};
    std::snprintf(line, sizeof line,
                  "#\n# gemm (local, each rank): (m x %lld) * (%lld x %lld), n = m*M*H multiply-adds\n"
                  "# %10s %14s %12s %12s\n# %10s %14s %12s %12s\n",
                  (long long)M, (long long)M, (long long)H, "m", "n", "time", "rate", "(rows)", "(MACs)",
                  "(us)", "(GMAC/s)");
    table << line;
    for (std::int64_t m : ms) {
      const double ms_t = bench.time_block(
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
      bench.progress("gemm m=" + std::to_string(m));
    }
    fit_measured(meas);
    print_fit_line(table, meas);
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
    Measured fwd{"experts", "local", 1, {}, false, {}, false},
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
          bench.time_block(
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
      const double b = bench.time_block(
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
      bench.progress("experts rows=" + std::to_string(r));
    }
    for (Measured* m : {&fwd, &bwd}) {
      fit_measured(*m);
      table << "# " << m->op << ' ';
      std::ostringstream fl;
      print_fit_line(fl, *m);
      table << fl.str().substr(2);
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
    Measured copy{"copy", "local", 1, {}, false, {}, false};
    std::snprintf(line, sizeof line,
                  "#\n# copy (local, each rank): allocate a buffer and copy into it; n = bytes\n"
                  "# %12s %12s %10s\n# %12s %12s %10s\n",
                  "size", "time", "rate", "(B)", "(us)", "(GB/s)");
    table << line;
    for (std::int64_t b : sizes_b) {
      volatile char sink = 0;
      const double t = bench.time_block(
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
    bench.progress("copy");
    fit_measured(copy);
    print_fit_line(table, copy);
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
  Measured gate{"gate", "local", 1, {}, false, {}, false}, order{"order", "local", 1, {}, false, {}, false},
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
    const double g = bench.time_block(
        [&] { kernels::cpu::gate_forward<T>(x.data(), wg.data(), T_, M, E, probs.data()); }, iters, warmup);
    const double o = bench.time_block(
        [&] { kernels::cpu::dispatch<T>(routing, x.data(), M, dispatched.data()); }, iters, warmup);
    const double c = bench.time_block(
        [&] { kernels::cpu::combine<T>(routing, weights.data(), dispatched.data(), M, out.data()); }, iters,
        warmup);
    gate.samples.push_back({double(T_ * M), g});
    order.samples.push_back({double(T_ * k * M), o});
    combine.samples.push_back({double(T_ * k * M), c});
    std::snprintf(line, sizeof line, "  %10lld %14lld %12.2f %12.2f %12.2f\n", (long long)T_,
                  (long long)(T_ * M), g * 1e3, o * 1e3, c * 1e3);
    table << line;
    bench.progress("gate/order/combine T=" + std::to_string(T_));
  }
  for (Measured* m : {&gate, &order, &combine}) {
    fit_measured(*m);
    table << "# " << m->op << ' ';
    std::ostringstream fl;
    print_fit_line(fl, *m);
    table << fl.str().substr(2);
    fits.push_back(*m);
  }
}

// Times the collectives of the layout's groups; returns the interference factor (1 when not measurable).
double time_collectives(const Config& config, comm::CommGroups& groups, const Bench& bench,
                        const WorkerArgs& a, std::vector<Measured>& fits, std::ostream& table) {
  const std::int64_t P = config.parallel.ranks;
  const int W = groups.ep->size();
  std::vector<std::int64_t> sizes;
  for (std::int64_t s : sweep_sizes(a.begin, a.end, a.factor, a.quick))
    sizes.push_back(std::max<std::int64_t>(4 * P, s / (4 * P) * (4 * P)));  // divisible by every group
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  const std::int64_t largest = sizes.back();
  std::vector<char> send(std::size_t(largest), 1), recv(std::size_t(largest), 0);
  std::vector<float> fsend(std::size_t(largest / 4), 0.0f), frecv(std::size_t(largest / 4), 0.0f);

  const CommOp ops[] = {
      {"alltoall", "EP", groups.ep.get(), 0, "busbw = algbw * (n-1)/n; size = send bytes per rank", 1},
      {"allgather", "MP", groups.mp.get(), 0, "busbw = algbw * (n-1)/n; size = output bytes", 1},
      {"reducescatter", "MP", groups.mp.get(), 0, "busbw = algbw * (n-1)/n; size = input bytes", 1},
      {"allreduce", "MP", groups.mp.get(), 0, "busbw = algbw * 2(n-1)/n; size = bytes", 1},
      {"p2p", "EP", groups.ep_fused.get(), 0,
       "one pairwise step (send to q+1, receive from q-1); bytes = size/W", double(W)},
  };
  char line[1024];
  for (const CommOp& op : ops) {
    const int n = op.c->size();
    const std::string name = op.op;
    const double share = double(n - 1) / double(n);
    const double factor = name == "allreduce" ? 2 * share : name == "p2p" ? 1.0 : share;
    std::snprintf(line, sizeof line, "#\n# %s on %s (%d rank%s): %s\n", op.op, op.communicator, n,
                  n == 1 ? "" : "s", op.formula);
    table << line;
    if (n == 1) {
      table
          << "# group of 1: nothing to communicate, not measured and not fitted (the cost model treats it as "
             "free)\n";
      bench.progress(name + " on " + op.communicator + ": group of 1, skipped");
      continue;
    }
    std::snprintf(line, sizeof line, "# %12s %12s %6s %12s %10s %10s\n# %12s %12s %6s %12s %10s %10s\n",
                  "size", "count", "type", "time", "algbw", "busbw", "(B)", "(elements)", "", "(us)",
                  "(GB/s)", "(GB/s)");
    table << line;
    Measured meas{name, op.communicator, n, {}, false, {}, false};
    for (std::int64_t size : sizes) {
      std::function<void()> call;
      std::int64_t bytes = size;
      if (name == "alltoall")
        call = [&] { op.c->all_to_all(send.data(), recv.data(), std::size_t(size / n)); };
      else if (name == "allgather")
        call = [&] { op.c->all_gather(send.data(), recv.data(), std::size_t(size / n)); };
      else if (name == "reducescatter")
        call = [&] {
          op.c->reduce_scatter(fsend.data(), frecv.data(), std::size_t(size / 4 / n), comm::DataType::F32);
        };
      else if (name == "allreduce")
        call = [&] {
          op.c->all_reduce(fsend.data(), std::size_t(size / 4), comm::DataType::F32, comm::ReduceOp::Sum);
        };
      else {
        bytes = size / W;
        const int me = op.c->rank();
        call = [&, bytes, me] {
          op.c->send_recv(send.data(), std::size_t(bytes), (me + 1) % n, recv.data(), std::size_t(bytes),
                          (me + n - 1) % n);
        };
      }
      const double ms = bench.time_block(call);
      meas.samples.push_back({double(bytes), ms});
      const double algbw = double(bytes) / (ms * 1e-3) / 1e9;
      std::snprintf(line, sizeof line, "  %12lld %12lld %6s %12.2f %10.3f %10.3f\n", (long long)bytes,
                    (long long)(bytes / 4), "float", ms * 1e3, algbw, algbw * factor);
      table << line;
      bench.progress(name + " on " + op.communicator + " " + std::to_string(bytes) +
                     " B: " + std::to_string(ms * 1e3) + " us");
    }
    fit_measured(meas);
    print_fit_line(table, meas);
    fits.push_back(meas);
  }

  // Interference: the EP AlltoAll of the middle size alone, then while an MP AllGather of the same size runs
  // on another thread (MPI_THREAD_MULTIPLE).
  if (groups.ep->size() < 2 || groups.mp->size() < 2) {
    table << "#\n# interference: not measured (needs EP and MP groups of 2 or more ranks); 1.0 assumed\n";
    return 1.0;
  }
  const std::int64_t mid = sizes[sizes.size() / 2];
  const int ne = groups.ep->size(), nm = groups.mp->size();
  std::vector<char> send2(std::size_t(mid), 2), recv2(std::size_t(mid), 0);
  const auto a2a = [&] { groups.ep->all_to_all(send.data(), recv.data(), std::size_t(mid / ne)); };
  const double alone = bench.time_block(a2a);
  for (int i = 0; i < a.warmup; ++i) a2a();
  MPI_Barrier(MPI_COMM_WORLD);
  std::thread other([&] {
    for (int i = 0; i < a.iters; ++i)
      groups.mp->all_gather(send2.data(), recv2.data(), std::size_t(mid / nm));
  });
  const auto t0 = Clock::now();
  for (int i = 0; i < a.iters; ++i) a2a();
  const double mine = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / a.iters;
  other.join();
  double together = 0;
  MPI_Allreduce(&mine, &together, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  const double ratio = alone > 0 ? together / alone : 1.0;
  std::snprintf(
      line, sizeof line,
      "#\n# interference: AlltoAll(EP) of %lld B alone %.2f us, with a concurrent AllGather(MP) %.2f us:"
      " factor %.3f%s\n",
      (long long)mid, alone * 1e3, together * 1e3, ratio, ratio < 1 ? " (stored as 1.0)" : "");
  table << line;
  bench.progress("interference factor " + std::to_string(ratio));
  return std::max(1.0, ratio);
}

// An ordinary least-squares line with alpha, beta >= 0, for the overhead fits ("sync", and "pipeline" when
// the weighted fit fails): their extra time can be ~0 on a quiet machine, which the 1/t^2 weights of
// fit_measured cannot take.
void fit_nonnegative_line(Measured& m) {
  const double n = double(m.samples.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const FitSample& f : m.samples) {
    sx += f.n;
    sy += f.t;
    sxx += f.n * f.n;
    sxy += f.n * f.t;
  }
  const double den = n * sxx - sx * sx;
  m.fit.beta = den > 0 ? std::max(0.0, (n * sxy - sx * sy) / den) : 0.0;
  m.fit.alpha = n > 0 ? std::max(0.0, (sy - m.fit.beta * sx) / n) : 0.0;
  double ss_res = 0, ss_tot = 0;
  for (const FitSample& f : m.samples) {
    const double r = f.t - (m.fit.alpha + m.fit.beta * f.n);
    ss_res += r * r;
    ss_tot += (f.t - sy / n) * (f.t - sy / n);
  }
  m.fit.r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0;
  m.fit.samples = static_cast<int>(n);
  m.fitted = n > 0;
}

// The cost of synchronising after compute, as the executor pays it inside a layer: a GEMM on the compute
// lane, then a small AlltoAll on the communicator's lane that waits for it, then the next GEMM waits for the
// AlltoAll (LaneSet, the executor's own lanes). Per round the extra time over GEMM + AlltoAll alone is the
// lane handoffs (and, over TCP, the slower progress of a collective driven from a lane thread) plus the wait
// for the slowest peer, which grows with the compute every rank did since the last collective (ranks drift
// apart while computing). Fitted per communicator as extra_ms = alpha + beta * compute_ms: "sync" (EP, inter
// lane) and "sync_mp" (MP, intra lane); the model charges it once per collective of that group.
template <typename T>
void time_sync(const Config& config, comm::Communicator& comm, const char* op, const char* communicator,
               Lane lane, const Bench& bench, int iters, int warmup, std::vector<Measured>& fits,
               std::ostream& table) {
  if (comm.size() < 2) {
    table << "#\n# " << op << ": not measured (a " << communicator
          << " group of one rank never synchronises)\n";
    return;
  }
  const std::int64_t M = std::max<std::int64_t>(config.layer.hidden, 64);
  const std::int64_t H = std::max<std::int64_t>(config.layer.ffn_hidden, 64);
  const int W = comm.size();
  const std::size_t chunk = 1024;  // bytes per peer: latency-bound, so the extra time is synchronisation
  std::vector<char> send(chunk * std::size_t(W), 1), recv(send.size(), 0);
  const auto a2a = [&] { comm.all_to_all(send.data(), recv.data(), chunk); };
  const double t_a = bench.time_block(a2a, iters, warmup);
  Measured sync{op, communicator, W, {}, false, {}, false};
  char line[320];
  std::snprintf(line, sizeof line,
                "#\n# %s (%s, %d ranks): GEMM on the compute lane -> AlltoAll of %zu B per peer on the %s "
                "lane -> next GEMM, as in a layer; n = GEMM ms, extra = round - GEMM - AlltoAll (%.2f us)\n"
                "# %10s %12s %12s %12s\n",
                op, communicator, W, chunk, lane == Lane::Inter ? "inter" : "intra", t_a * 1e3, "rows",
                "gemm(us)", "round(us)", "extra(us)");
  table << line;
  LaneSet lanes;
  for (std::int64_t m : {std::int64_t(32), std::int64_t(128), std::int64_t(512)}) {
    std::vector<T> x(std::size_t(m * M), T(0.5)), w(std::size_t(M * H), T(0.25)), y(std::size_t(m * H));
    const auto gemm = [&] {
      kernels::cpu::gemm<T>(kernels::cpu::Trans::No, kernels::cpu::Trans::No, m, H, M, T(1), x.data(),
                            w.data(), T(0), y.data());
    };
    const double t_c = bench.time_block(gemm, iters, warmup);
    const double round = bench.time_block(
        [&] {
          EventPtr c = lanes.submit(Lane::Compute, gemm);
          lanes.submit(lane, a2a, {c});
          lanes.synchronize();
        },
        iters, warmup);
    const double extra = std::max(0.0, round - t_c - t_a);
    sync.samples.push_back({t_c, extra});
    std::snprintf(line, sizeof line, "  %10lld %12.2f %12.2f %12.2f\n", (long long)m, t_c * 1e3, round * 1e3,
                  extra * 1e3);
    table << line;
  }
  bench.progress(op);
  fit_nonnegative_line(sync);
  print_fit_line(table, sync);
  fits.push_back(sync);
}

// The fused SAA pipeline as the executor runs it (run_pipeline): W pairwise steps, step i's exchange (one p2p
// step on the fused EP communicator, inter lane), then the MP AllGather of the received chunk and its
// placement (fused MP communicator, intra lane), stage 2 of step i waiting for stage 1 of step i only; fresh
// buffers per call. The model prices each stage-step from the p2p, AlltoAll and AllGather fits; what it does
// not see (lane handoffs per step, the placement copies, a gather over a group of one) is the extra time per
// stage-step on the critical path, fitted against the bytes of one step: "pipeline".
template <typename T>
void time_pipeline(const Config& config, comm::CommGroups& groups, const Bench& bench, const WorkerArgs& a,
                   std::vector<Measured>& fits, std::ostream& table) {
  comm::Communicator& ep = *groups.ep_fused;
  comm::Communicator& mp = *groups.mp_fused;
  const std::int64_t W = ep.size(), N = mp.size(), q = ep.rank();
  if (W < 2) {
    table << "#\n# pipeline: not measured (an EP group of one rank has no pipeline)\n";
    return;
  }
  auto fit_of = [&](const char* op) -> const LinearFit* {
    for (const Measured& m : fits)
      if (m.op == op && m.fitted) return &m.fit;
    return nullptr;
  };
  const LinearFit* p2p = fit_of("p2p");
  const LinearFit* a2a = fit_of("alltoall");
  const LinearFit* ag = fit_of("allgather");
  if (!p2p || !a2a) {
    table << "#\n# pipeline: not measured (needs the p2p and alltoall fits)\n";
    return;
  }
  // One node: the model runs every step serially (intra and inter share the link); else as a wavefront.
  const bool serial = config.parallel.nodes() <= 1;
  Measured pipe{"pipeline", "EP", int(W), {}, false, {}, false};
  char line[256];
  std::snprintf(
      line, sizeof line,
      "#\n# pipeline (SAA over %lld steps, MP %lld): n = bytes per step, extra = (measured - model) / "
      "stage-steps on the critical path\n# %12s %12s %12s %12s\n",
      (long long)W, (long long)N, "step(B)", "model(us)", "measured(us)", "extra(us)");
  table << line;
  LaneSet lanes;
  for (std::int64_t size : sweep_sizes(a.begin, a.end, a.factor, a.quick)) {
    const std::int64_t blk = std::max<std::int64_t>(1, size / W / std::int64_t(sizeof(T)));
    const std::int64_t step_bytes = blk * std::int64_t(sizeof(T));
    std::vector<T> input(std::size_t(W * blk), T(1));
    const auto run = [&] {
      std::vector<T> exchanged(std::size_t(W * blk)), gathered(std::size_t(W * N * blk)),
          output(std::size_t(W * N * blk));
      std::vector<EventPtr> exchange(static_cast<std::size_t>(W));
      for (std::int64_t i = 0; i < W; ++i) {
        const std::int64_t dst = (q + i) % W, src = (q - i + W) % W;
        exchange[std::size_t(i)] = lanes.submit(Lane::Inter, [&, dst, src] {
          ep.send_recv(input.data() + dst * blk, std::size_t(step_bytes), int(dst),
                       exchanged.data() + src * blk, std::size_t(step_bytes), int(src));
        });
        lanes.submit(Lane::Intra,
                     [&, src] {
                       T* g = gathered.data() + src * N * blk;
                       mp.all_gather(exchanged.data() + src * blk, g, std::size_t(step_bytes));
                       for (std::int64_t p = 0; p < N; ++p)
                         std::copy_n(g + p * blk, blk, output.data() + (p * W + src) * blk);
                     },
                     {exchange[std::size_t(i)]});
      }
      lanes.synchronize();
    };
    const double measured = bench.time_block(run);
    const double b = double(step_bytes);
    const double t_a = p2p->alpha + a2a->beta * b;
    const double t_g = N > 1 && ag ? ag->alpha + ag->beta * double(N - 1) / double(N) * double(N) * b : 0.0;
    const double model = serial ? double(W) * (t_a + t_g) : t_a + double(W - 1) * std::max(t_a, t_g) + t_g;
    const double stage_steps = serial ? 2.0 * double(W) : double(W + 1);
    const double extra = std::max(0.0, measured - model) / stage_steps;
    pipe.samples.push_back({b, extra});
    std::snprintf(line, sizeof line, "  %12lld %12.2f %12.2f %12.2f\n", (long long)step_bytes, model * 1e3,
                  measured * 1e3, extra * 1e3);
    table << line;
  }
  bench.progress("pipeline");
  // Relative (1/t^2) weights as for the collectives: step sizes span decades and the largest, whose fresh
  // buffers fault in, would otherwise set beta for the small steps layers make. A zero extra is floored.
  for (FitSample& f : pipe.samples) f.t = std::max(f.t, 1e-6);
  fit_measured(pipe);
  if (!pipe.fitted || pipe.fit.beta < 0) fit_nonnegative_line(pipe);
  print_fit_line(table, pipe);
  fits.push_back(pipe);
}

// What the alpha-beta terms miss, on the layout's own communicators and lanes: the sync drift of EP and MP
// collectives and the fused pipeline's per-step overhead (after the collectives, whose fits it uses).
template <typename T>
void time_overheads(const Config& config, comm::CommGroups& groups, const Bench& bench, const WorkerArgs& a,
                    std::vector<Measured>& fits, std::ostream& table) {
  // More calls than the collectives: the extra is a small difference of two medians.
  const int iters = std::max(20, a.iters), warmup = std::max(3, a.warmup);
  time_sync<T>(config, *groups.ep, "sync", "EP", Lane::Inter, bench, iters, warmup, fits, table);
  time_sync<T>(config, *groups.mp, "sync_mp", "MP", Lane::Intra, bench, iters, warmup, fits, table);
  time_pipeline<T>(config, groups, bench, a, fits, table);
}

void run_calibrate_worker(const WorkerArgs& a) {
  static char program[] = "parm";
  static char* program_argv[] = {program, nullptr};
  int argc = 1;
  char** argv = program_argv;
  comm::ensure_mpi_initialized(&argc, &argv);
  exit_when_orphaned(1);  // a killed `parm calibrate` leaves no rank behind
  int rank = 0, world = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world);

  Config config;
  std::vector<std::string> problems;
  ConfigLoad load = load_config_file(a.config_path);
  if (!load.config) {
    for (const auto& issue : load.issues.errors()) problems.push_back(a.config_path + ": " + issue.line());
    if (problems.empty()) problems.push_back(a.config_path + ": unreadable");
  } else {
    config = *load.config;
    for (const auto& issue : validate(config).errors())
      problems.push_back(a.config_path + ": " + issue.line());
    if (const auto why = backend_unavailable(config.run.backend)) problems.push_back(*why);
    if (problems.empty() && config.parallel.ranks != world)
      problems.push_back(a.config_path + ": parallel.ranks = " + std::to_string(config.parallel.ranks) +
                         ": must equal the MPI world size (" + std::to_string(world) + ")");
  }
  agree_or_exit(problems, rank, world);

  try {
    const RankLayout layout = make_rank_layout(config, rank);
    std::vector<Measured> fits;
    std::ostringstream table;
    double interference = 1.0;
    const Bench bench(rank, a);
    const ParallelConfig& p = config.parallel;
    char head[512];
    std::snprintf(
        head, sizeof head,
        "# parm calibrate: config %s, %lld ranks (%lld node%s x %lld), mp %lld esp %lld ep %lld, %s\n"
        "# sizes %lld..%lld B x%g%s, warm-up %d, iterations %d; time = median call of the slowest "
        "rank (host clock, world barrier before each block)\n",
        config.name.c_str(), (long long)p.ranks, (long long)p.nodes(), p.nodes() == 1 ? "" : "s",
        (long long)p.gpus_per_node, (long long)p.mp, (long long)p.esp, (long long)p.ep(),
        a.cluster.empty() ? "local ranks" : ("emulated cluster " + a.cluster).c_str(), (long long)a.begin,
        (long long)a.end, a.factor, a.quick ? " (quick: 3 sizes)" : "", a.warmup, a.iters);
    table << head;
    {
      comm::CommGroups groups = comm::make_mpi_groups(layout, std::chrono::milliseconds(a.timeout_ms));
      interference = time_collectives(config, groups, bench, a, fits, table);
      if (config.layer.dtype == DType::Fp64)
        time_overheads<double>(config, groups, bench, a, fits, table);
      else
        time_overheads<float>(config, groups, bench, a, fits, table);
      MPI_Barrier(MPI_COMM_WORLD);
    }
    const int citers = std::max(3, a.iters), cwarm = std::max(1, a.warmup);
    if (config.layer.dtype == DType::Fp64)
      time_compute<double>(config, bench, citers, cwarm, a.quick, fits, table);
    else
      time_compute<float>(config, bench, citers, cwarm, a.quick, fits, table);

    if (rank == 0) {
      Calibration c;
      c.created_at = utc_now();
      c.id = "calib-" + c.created_at + "-" + config.name;
      c.host = host_name();
      c.layout = config.parallel;
      c.dtype = config.layer.dtype;
      c.backend = "cpu";
      c.cluster = a.cluster;
      c.interference = interference;
      for (const Measured& m : fits) {
        if (!m.fitted) continue;
        c.fits.push_back({m.op, m.communicator, m.group_size, m.fit, m.samples});
      }
      save_calibration_file(c, a.out_path);
      {
        std::ofstream t(a.table_path, std::ios::trunc);
        t << table.str();
      }
      if (!a.db_path.empty()) {
        if (launcher_gone()) throw std::runtime_error("the launching parm is gone; nothing is stored");
        db::Database database = db::Database::open(a.db_path, true);
        db::RunInfo info;
        info.name = config.name;
        info.kind = "calibration";
        info.backend = "cpu";
        info.ranks = world;
        info.config_json = config_to_json(config).dump();
        const std::int64_t run = database.begin_run(info);
        std::vector<db::CalibrationRow> rows;
        for (const auto& f : c.fits)
          rows.push_back({f.op, f.communicator, f.fit.alpha * 1e-3, f.fit.beta * 1e-3, f.fit.r2,
                          std::int64_t(f.fit.samples)});
        database.add_calibration(run, rows);
        database.set_result(run, to_json(c).dump(1));
        database.finish_run(run);
        std::cerr << "parm calibrate: stored " << rows.size() << " fits as run " << run << " in " << a.db_path
                  << '\n';
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "parm worker: rank " << rank << ": " << e.what() << std::endl;
    MPI_Abort(MPI_COMM_WORLD, 3);
  }
  finalize_mpi();
}

// ---------------------------------------------------------------------------------------------------------
// The command.

struct CalibrateArgs {
  std::string path;
  std::int64_t ranks = 0;
  std::int64_t gpus_per_node = 0;
  std::string cluster;
  std::string db_path;
  std::string out = "calibration.json";
  bool quick = false;
  std::string begin = "64K", end = "16M";
  double factor = 4;
  int iters = 0;    // 0: 20, quick 5
  int warmup = -1;  // -1: 5, quick 1
  bool json = false;
  std::int64_t timeout_ms = 60'000;
};

void run_calibrate(const CalibrateArgs& a) {
  require_storable_db("calibrate", a.db_path);
  const auto b = parse_size(a.begin), e = parse_size(a.end);
  if (!b) refuse("parm calibrate: -b " + a.begin + ": not a size (e.g. 64K, 16M)");
  if (!e) refuse("parm calibrate: -e " + a.end + ": not a size (e.g. 64K, 16M)");
  if (*e < *b) refuse("parm calibrate: -e must not be below -b");
  if (!(a.factor > 1)) refuse("parm calibrate: -f must be above 1");
  std::string source;
  ConfigLoad load = load_unvalidated(a.path, source);
  if (!load.config) {
    for (const auto& issue : load.issues.items) std::cerr << source << ": " << issue.line() << '\n';
    throw CLI::RuntimeError(2);
  }
  Config c = *load.config;
  if (a.ranks > 0) c.parallel.ranks = a.ranks;
  if (a.gpus_per_node > 0) c.parallel.gpus_per_node = a.gpus_per_node;
  std::optional<cluster::ClusterState> cl;
  if (!a.cluster.empty()) {
    try {
      cluster::check_name(a.cluster);
      cl = cluster::require_cluster(a.cluster);
    } catch (const cluster::ClusterError& err) {
      refuse(std::string("parm calibrate: --cluster: ") + err.what(), 1);
    }
    const std::int64_t g = cl->spec.ranks_per_node;
    if (a.gpus_per_node > 0 && a.gpus_per_node != g)
      refuse("parm calibrate: --gpus-per-node " + std::to_string(a.gpus_per_node) +
             " does not match cluster '" + a.cluster + "' (" + std::to_string(g) + " ranks per node)");
    c.parallel.gpus_per_node = g;
  }
  const ConfigIssues issues = validate(c);
  for (const auto& issue : issues.items) std::cerr << source << ": " << issue.line() << '\n';
  if (issues.has_errors()) throw CLI::RuntimeError(2);
  // The fits are measured on the cpu engine: a cuda calibration would be a cpu one under a cuda label.
  if (const auto why = backend_unavailable(c.run.backend)) refuse("parm calibrate: " + *why);
  if (c.parallel.ranks < 2) refuse("parm calibrate: needs at least 2 ranks (--ranks N)");

  const int iters = a.iters > 0 ? a.iters : (a.quick ? 10 : 20);
  const int warmup = a.warmup >= 0 ? a.warmup : (a.quick ? 2 : 5);
  const EnvLookup env = process_env();
  std::unique_ptr<RunFolder> dir;
  try {
    dir = std::make_unique<RunFolder>(std::filesystem::temp_directory_path(), "parm-calibrate");
  } catch (const std::exception& err) {
    refuse(std::string("parm calibrate: ") + err.what(), 1);
  }
  const std::string config_path = (dir->path() / "config.json").string();
  const std::string table_path = (dir->path() / "table.txt").string();
  const std::string out_path = std::filesystem::absolute(a.out).string();
  save_config_file(c, config_path);

  LaunchOptions o;
  o.ranks = static_cast<int>(c.parallel.ranks);
  o.mpiexec = find_mpiexec(env);
  o.parm_exe = self_executable();
  o.config_path = config_path;
  o.result_path = out_path;
  o.subcommand = "calibrate-worker";
  o.db_path = a.db_path.empty() ? "" : std::filesystem::absolute(a.db_path).string();
  o.extra_args = {"--table",      table_path,
                  "--begin",      std::to_string(*b),
                  "--end",        std::to_string(*e),
                  "--factor",     std::to_string(a.factor),
                  "--iters",      std::to_string(iters),
                  "--warmup",     std::to_string(warmup),
                  "--timeout-ms", std::to_string(a.timeout_ms)};
  if (a.quick) o.extra_args.push_back("--quick");
  if (!a.cluster.empty()) o.extra_args.insert(o.extra_args.end(), {"--cluster-name", a.cluster});
  if (cl) {
    try {
      cluster::apply_cluster(*cl, o);
    } catch (const cluster::ClusterError& err) {
      refuse(std::string("parm calibrate: --cluster: ") + err.what());
    }
  }
  if (o.mpiexec.empty()) refuse("parm calibrate: mpirun not found: set MPIEXEC or put mpirun on PATH");
  const LaunchCommand command = build_launch_command(o, env, ::geteuid() == 0);
  std::cerr << "parm calibrate: starting " << c.parallel.ranks << " ranks (" << c.parallel.nodes() << " x "
            << c.parallel.gpus_per_node << ") with " << o.mpiexec
            << (a.cluster.empty() ? std::string() : " on emulated cluster " + a.cluster) << '\n';
  const LaunchOutcome outcome =
      run_launch(command, std::chrono::minutes(a.quick ? 5 : 30), dir->path().string());
  if (outcome.exit_code != 0 || outcome.timed_out || outcome.signal != 0)
    refuse(failure_line(outcome, "parm calibrate"), failure_exit_code(outcome));

  Calibration cal;
  try {
    cal = load_calibration_file(out_path);
  } catch (const std::exception& err) {
    refuse(std::string("parm calibrate: ") + err.what(), 1);
  }
  if (a.json) {
    std::cout << to_json(cal).dump(2) << '\n';
  } else {
    std::ifstream t(table_path);
    std::cout << t.rdbuf();
    std::cout << "# calibration " << cal.id << " written to " << out_path << '\n';
  }
}

}  // namespace

void add_calibrate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("calibrate",
                                 "Measure the layout's collectives and compute kernels (nccl-tests style "
                                 "sweep) and fit alpha-beta costs");
  auto a = std::make_shared<CalibrateArgs>();
  cmd->add_option("config", a->path, "configuration JSON file or embedded preset name (default: 'default')");
  cmd->add_option("--ranks", a->ranks, "number of ranks P (overrides parallel.ranks)")->check(integer_in(1));
  cmd->add_option("--gpus-per-node", a->gpus_per_node, "ranks per node G (overrides parallel.gpus_per_node)")
      ->check(integer_in(1));
  cmd->add_option("--cluster", a->cluster, "calibrate on the emulated cluster NAME (parm cluster up)");
  cmd->add_option("--db", a->db_path, "SQLite project file: store the fits (calibrations table)")
      ->check(db_path_check("calibrate"));
  cmd->add_option("--out", a->out, "where to write the calibration JSON (default calibration.json)")
      ->check(not_a_database_check("calibrate", "--out"));
  cmd->add_flag("--quick", a->quick, "3 sizes and fewer iterations (seconds)");
  cmd->add_option("-b,--minbytes", a->begin, "smallest message size (default 64K)");
  cmd->add_option("-e,--maxbytes", a->end, "largest message size (default 16M)");
  cmd->add_option("-f,--stepfactor", a->factor, "size multiplication factor (default 4)")
      ->check(number_above(1));
  cmd->add_option("-n,--iters", a->iters, "timed iterations per size (default 20, quick 10)")
      ->check(integer_in(1));
  cmd->add_option("-w,--warmup_iters", a->warmup, "warm-up iterations per size (default 5, quick 2)")
      ->check(integer_in(0));
  cmd->add_option("--timeout-ms", a->timeout_ms, "bound on every collective wait, in ms (default 60000)")
      ->check(integer_in(1));
  cmd->add_flag("--json", a->json, "print the calibration JSON instead of the table");
  cmd->callback([a] { run_calibrate(*a); });

  auto* w =
      app.add_subcommand("calibrate-worker", "One rank of `parm calibrate` (started by it under mpirun)");
  w->group("Cluster");
  auto wa = std::make_shared<WorkerArgs>();
  w->add_option("--config", wa->config_path, "configuration JSON file (parallel.ranks = world size)")
      ->required();
  w->add_option("--result", wa->out_path, "where rank 0 writes the calibration JSON")->required();
  w->add_option("--table", wa->table_path, "where rank 0 writes the table")
      ->required()
      ->check(not_a_database_check("calibrate-worker", "--table"));
  w->add_option("--db", wa->db_path, "SQLite project file: rank 0 stores the fits")
      ->check(db_path_check("calibrate-worker"));
  w->add_option("--cluster-name", wa->cluster, "emulated cluster name recorded in the calibration");
  w->add_option("--begin", wa->begin, "smallest size in bytes")->check(integer_in(1, kMaxBytes));
  w->add_option("--end", wa->end, "largest size in bytes")->check(integer_in(1, kMaxBytes));
  w->add_option("--factor", wa->factor, "size factor")->check(number_above(1));
  w->add_option("--iters", wa->iters, "timed iterations")->check(integer_in(1));
  w->add_option("--warmup", wa->warmup, "warm-up iterations")->check(integer_in(0));
  w->add_option("--timeout-ms", wa->timeout_ms, "bound on every collective wait, in ms")
      ->check(integer_in(1));
  w->add_flag("--quick", wa->quick, "3 sizes");
  w->callback([wa] { run_calibrate_worker(*wa); });
}

}  // namespace parm::cli
