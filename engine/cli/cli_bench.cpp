// `parm bench layer [CONFIG]`: how close the reference layer's forward + backward gets to the machine's GEMM
// speed on the expert shape (C x M times M x H), both measured in this process with the same dtype.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/cli/arg_rules.h"
#include "engine/cli/commands.h"
#include "engine/reference/reference_layer.h"
#include "engine/run/tensor_init.h"
#include "kernels/cpu/blas.h"
#include "profiler/phase_timer.h"

namespace parm::cli {
namespace {

struct BenchReport {
  std::int64_t warmup = 0;
  std::int64_t iterations = 0;
  std::int64_t capacity = 0;
  LayerFlops flops;
  double layer_ms = 0;
  double gemm_ms = 0;
  std::int64_t gemm_repeats = 1;  // GEMMs per timed sample (a single small GEMM is below clock resolution)
  double gemm_flops = 0;
  double layer_gflops() const { return layer_ms > 0 ? flops.total() / (layer_ms * 1e6) : 0.0; }
  double gemm_gflops() const { return gemm_ms > 0 ? gemm_flops / (gemm_ms * 1e6) : 0.0; }
  double ratio() const { return gemm_gflops() > 0 ? layer_gflops() / gemm_gflops() : 0.0; }
};

double seconds_since(profiler::Clock::time_point start) {
  return std::chrono::duration<double>(profiler::Clock::now() - start).count();
}

template <typename T>
BenchReport bench_layer(const Config& c, std::int64_t iterations) {
  const LayerConfig& l = c.layer;
  const std::int64_t groups = 1;
  BenchReport rep;
  rep.warmup = std::max<std::int64_t>(0, c.run.warmup);
  rep.iterations = iterations;

  const LayerWeights<T> w = make_weights<T>(l, c.run.seed);
  const std::vector<T> x = make_input<T>(l, groups, c.run.seed);
  const std::vector<T> dout = make_output_grad<T>(l, groups, c.run.seed);
  std::vector<double> layer_s;
  for (std::int64_t i = 0; i < rep.warmup + iterations; ++i) {
    const auto start = profiler::Clock::now();
    const ReferenceResult<T> r = run_reference_layer<T>(l, groups, w, x, dout);
    if (i >= rep.warmup) layer_s.push_back(seconds_since(start));
    rep.capacity = r.capacity;
  }
  rep.layer_ms = 1e3 * profiler::median(layer_s);
  rep.flops = layer_flops(l, groups, rep.capacity);

  // The expert's first GEMM: dispatched rows (C,M) times W1 (M,H).
  const std::int64_t m = l.hidden, h = l.ffn_hidden, cap = rep.capacity;
  std::vector<T> a(static_cast<std::size_t>(cap * m)), b(static_cast<std::size_t>(m * h)),
      out(static_cast<std::size_t>(cap * h));
  fill(a.data(), cap * m, c.run.seed, TensorId::Input, 0, 1.0);
  fill(b.data(), m * h, c.run.seed, TensorId::W1, 0, tensor_scale(TensorId::W1, m, h));
  auto gemm_once = [&] {
    kernels::cpu::gemm<T>(kernels::cpu::Trans::No, kernels::cpu::Trans::No, cap, h, m, T(1), a.data(),
                          b.data(), T(0), out.data());
  };
  rep.gemm_flops = 2.0 * static_cast<double>(cap) * static_cast<double>(m) * static_cast<double>(h);
  // Repeat the GEMM inside a sample until the sample lasts about a millisecond.
  const auto probe = profiler::Clock::now();
  gemm_once();
  const double one = std::max(seconds_since(probe), 1e-9);
  rep.gemm_repeats = std::clamp<std::int64_t>(static_cast<std::int64_t>(1e-3 / one), 1, 10000);
  std::vector<double> gemm_s;
  for (std::int64_t i = 0; i < rep.warmup + iterations; ++i) {
    const auto start = profiler::Clock::now();
    for (std::int64_t r = 0; r < rep.gemm_repeats; ++r) gemm_once();
    if (i >= rep.warmup) gemm_s.push_back(seconds_since(start) / static_cast<double>(rep.gemm_repeats));
  }
  rep.gemm_ms = 1e3 * profiler::median(gemm_s);
  return rep;
}

void print_text(const Config& c, const BenchReport& r) {
  const LayerConfig& l = c.layer;
  std::printf("parm bench layer: config %s, cpu %s, S=%lld M=%lld H=%lld E=%lld k=%lld %s, capacity %lld\n",
              c.name.c_str(), std::string(to_string(l.dtype)).c_str(), (long long)l.tokens(),
              (long long)l.hidden, (long long)l.ffn_hidden, (long long)l.num_experts, (long long)l.top_k,
              std::string(to_string(l.activation)).c_str(), (long long)r.capacity);
  std::printf("%lld warm-up + %lld measured iterations, medians\n\n", (long long)r.warmup,
              (long long)r.iterations);
  std::printf("%-22s %12s %14s %10s\n", "", "median ms", "GFLOP", "GFLOP/s");
  std::printf("%-22s %12.4f %14.4f %10.2f\n", "layer fwd+bwd", r.layer_ms, r.flops.total() / 1e9,
              r.layer_gflops());
  const std::string gemm_name = "GEMM " + std::to_string(r.capacity) + "x" + std::to_string(l.hidden) + "x" +
                                std::to_string(l.ffn_hidden);
  std::printf("%-22s %12.4f %14.4f %10.2f\n", gemm_name.c_str(), r.gemm_ms, r.gemm_flops / 1e9,
              r.gemm_gflops());
  std::printf("\nlayer / GEMM: %.3f\n", r.ratio());
}

nlohmann::json to_json(const Config& c, const BenchReport& r) {
  const LayerConfig& l = c.layer;
  return {{"config", c.name},
          {"backend", "cpu"},
          {"dtype", to_string(l.dtype)},
          {"capacity", r.capacity},
          {"warmup", r.warmup},
          {"iterations", r.iterations},
          {"layer",
           {{"median_ms", r.layer_ms},
            {"forward_flops", r.flops.forward},
            {"backward_flops", r.flops.backward},
            {"gflops_per_s", r.layer_gflops()}}},
          {"gemm",
           {{"m", r.capacity},
            {"k", l.hidden},
            {"n", l.ffn_hidden},
            {"repeats_per_sample", r.gemm_repeats},
            {"median_ms", r.gemm_ms},
            {"flops", r.gemm_flops},
            {"gflops_per_s", r.gemm_gflops()}}},
          {"ratio", r.ratio()}};
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Microbenchmarks of the local compute");
  bench->require_subcommand(1);
  auto* layer =
      bench->add_subcommand("layer", "Layer forward+backward GFLOP/s against a GEMM of the expert shape");
  auto path = std::make_shared<std::string>();
  auto iterations = std::make_shared<std::int64_t>(0);
  auto json = std::make_shared<bool>(false);
  layer->add_option("config", *path,
                    "configuration JSON file or embedded preset name (default: embedded default)");
  layer->add_option("--iterations", *iterations, "measured iterations (default: the config's run.iterations)")
      ->check(integer_in(1));
  layer->add_flag("--json", *json, "machine-readable output");
  layer->callback([path, iterations, json] {
    const Config c = load_config_or_exit(*path);
    const std::int64_t n = *iterations > 0 ? *iterations : std::max<std::int64_t>(1, c.run.iterations);
    BenchReport report;
    switch (c.layer.dtype) {
      case DType::Fp32:
        report = bench_layer<float>(c, n);
        break;
      case DType::Fp64:
        report = bench_layer<double>(c, n);
        break;
      default:
        std::cerr << "parm bench layer: dtype " << to_string(c.layer.dtype)
                  << " is not supported by the cpu reference\n";
        throw CLI::RuntimeError(2);
    }
    if (*json)
      std::cout << to_json(c, report).dump(2) << '\n';
    else
      print_text(c, report);
  });
}

}  // namespace parm::cli
