// The CUDA experts in bf16 on the presets' and three paper-grid expert shapes (bench/expert_shapes.h): for
// each, one forward + backward over the rank's local experts through both GEMM paths (PARM_EXPERT_GEMM =
// grouped, loop), and a dense cuBLAS GEMM of the same total FLOPs measured in the same run. Prints per shape
// the fwd+bwd ms of each path, the rate of the experts' fwd+bwd (GEMMs plus pack, bias + activation and bias
// gradients) as % of the dense rate, the loop / grouped ratio, the path the rule picks and the allocations
// of the timed passes; --json PATH writes the same numbers. Exits 77 with one line without a device.
//   build/bench/parm_bench_gpu_experts --json $OUT/gpu_experts.json
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/counting_device_allocator.h"
#include "bench/expert_shapes.h"
#include "engine/backend/cuda/cuda_experts.h"
#include "engine/run/tensor_init.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_info.h"
#include "kernels/cuda/expert_gemm_choice.h"
#include "kernels/cuda/gemm.h"
#include "kernels/half_types.h"

namespace {

using namespace parm;
using backend::Buffer;
using kernels::cuda::check_status;

// Uniform values in [-scale, scale), the engine's counter-based tensors (tensor_init.h), uploaded once.
Buffer<Bf16> random_device(backend::Allocator& a, std::int64_t n, std::uint64_t seed, double scale) {
  std::vector<Bf16> host(static_cast<std::size_t>(n));
  fill(host.data(), n, seed, TensorId::Input, 0, scale);
  Buffer<Bf16> b(a, host.size());
  if (n) a.copy_from_host(b.data(), host.data(), host.size() * sizeof(Bf16));
  return b;
}

struct Timer {
  cudaEvent_t start = nullptr, stop = nullptr;
  Timer() {
    check_status(cudaEventCreate(&start), "cudaEventCreate");
    check_status(cudaEventCreate(&stop), "cudaEventCreate");
  }
  ~Timer() {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
  }
  // Mean ms of `iterations` runs of op on the stream, after `warmup` runs.
  template <typename F>
  double mean_ms(cudaStream_t stream, int warmup, int iterations, F&& op) {
    for (int i = 0; i < warmup; ++i) op();
    check_status(cudaEventRecord(start, stream), "cudaEventRecord");
    for (int i = 0; i < iterations; ++i) op();
    check_status(cudaEventRecord(stop, stream), "cudaEventRecord");
    check_status(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    check_status(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    return ms / iterations;
  }
};

struct PathResult {
  double ms = 0;
  std::int64_t timed_allocations = 0;
};

PathResult time_experts(const bench::ExpertShape& s, const char* path, cublasHandle_t cublas,
                        cudaStream_t stream, int warmup, int iterations) {
  setenv("PARM_EXPERT_GEMM", path, 1);
  bench::CountingDeviceAllocator alloc;
  backend::cuda::CudaContext context;
  context.cublas = cublas;
  context.allocator = &alloc;
  const std::int64_t e = s.experts, m = s.hidden, hs = s.shard, act = s.outer * e * s.slots * m;
  PathResult r;
  {
    auto experts = backend::cuda::make_cuda_experts<Bf16>(context);
    auto state = experts->make_state();
    const Buffer<Bf16> x = random_device(alloc, act, 1, 1.0), dy = random_device(alloc, act, 2, 1.0);
    const Buffer<Bf16> w1 = random_device(alloc, e * m * hs, 3, 0.03),
                       w2 = random_device(alloc, e * hs * m, 4, 0.03);
    const Buffer<Bf16> w3 = s.swiglu ? random_device(alloc, e * m * hs, 5, 0.03) : Buffer<Bf16>();
    const Buffer<Bf16> b1 = random_device(alloc, e * hs, 6, 0.1), b2 = random_device(alloc, e * m, 7, 0.1);
    const Buffer<Bf16> b3 = s.swiglu ? random_device(alloc, e * hs, 8, 0.1) : Buffer<Bf16>();
    const Buffer<Bf16> y(alloc, static_cast<std::size_t>(act)), dx(alloc, static_cast<std::size_t>(act));
    const Buffer<Bf16> dw1(alloc, w1.size()), dw2(alloc, w2.size()), dw3(alloc, w3.size());
    const Buffer<Bf16> db1(alloc, b1.size()), db2(alloc, b2.size()), db3(alloc, b3.size());
    backend::ExpertWeights<Bf16> w;
    w.activation = s.swiglu ? backend::ExpertActivation::Swiglu : backend::ExpertActivation::Gelu;
    w.hidden = m;
    w.shard = hs;
    w.experts = e;
    w.w1 = w1.view();
    w.b1 = b1.view();
    w.w3 = w3.view();
    w.b3 = b3.view();
    w.w2 = w2.view();
    w.b2 = b2.view();
    const backend::ExpertGrads<Bf16> g{dw1.view(), db1.view(), dw3.view(),
                                       db3.view(), dw2.view(), db2.view()};
    const backend::DispatchShape shape{s.outer, e, s.slots, m};
    const auto pass = [&] {
      experts->forward(stream, w, shape, x.view(), *state, y.view());
      experts->backward(stream, w, shape, dy.view(), *state, g, dx.view());
    };
    pass();  // grows the state and scratch
    check_status(cudaStreamSynchronize(stream), "first pass");
    const std::int64_t before = alloc.allocations();
    Timer timer;
    r.ms = timer.mean_ms(stream, warmup, iterations, pass);
    r.timed_allocations = alloc.allocations() - before;
  }
  return r;
}

// One dense GEMM with the experts' fwd+bwd FLOPs: (E_loc * rows * G) x Hs x M, G the number of products.
double time_dense(const bench::ExpertShape& s, cublasHandle_t cublas, cudaStream_t stream, int warmup,
                  int iterations) {
  bench::CountingDeviceAllocator alloc;
  const std::int64_t m = s.experts * s.rows() * (s.swiglu ? 9 : 6), n = s.shard, k = s.hidden;
  const Buffer<Bf16> a = random_device(alloc, m * k, 9, 1.0), b = random_device(alloc, k * n, 10, 0.03);
  const Buffer<Bf16> c(alloc, static_cast<std::size_t>(m * n));
  const auto shape = kernels::cuda::packed_gemm(kernels::cuda::Op::N, kernels::cuda::Op::N, m, n, k);
  Timer timer;
  return timer.mean_ms(stream, warmup, iterations, [&] {
    kernels::cuda::gemm(cublas, stream, kernels::cuda::ElementType::BF16, shape, a.data(), b.data(), 0,
                        c.data());
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"CUDA experts (bf16): fwd+bwd ms, % of a dense cuBLAS GEMM, grouped vs per-expert loop"};
  std::string json_path;
  int iterations = 20, warmup = 3;
  app.add_option("--json", json_path, "write the results as JSON to this path");
  app.add_option("-n,--iterations", iterations, "timed passes per measurement");
  app.add_option("-w,--warmup", warmup, "untimed passes before each measurement");
  CLI11_PARSE(app, argc, argv);

  const kernels::cuda::DeviceProbe probe = kernels::cuda::probe_devices();
  if (probe.devices.empty()) {
    std::printf("SKIP: no CUDA device (%s)\n", probe.error.c_str());
    return 77;
  }
  try {
    check_status(cudaSetDevice(0), "cudaSetDevice");
    cublasHandle_t cublas = nullptr;
    check_status(cublasCreate(&cublas), "cublasCreate");
    cudaStream_t stream = nullptr;
    check_status(cudaStreamCreate(&stream), "cudaStreamCreate");

    std::vector<bench::ExpertShape> shapes = bench::preset_expert_shapes();
    for (const bench::ExpertShape& s : bench::paper_grid_expert_shapes()) shapes.push_back(s);
    nlohmann::json results = nlohmann::json::array();
    std::printf("device: %s\n", probe.devices.front().name.c_str());
    std::printf("%-40s %6s %5s %5s %5s %5s %9s %9s %9s %7s %7s %6s %5s\n", "shape (bf16)", "outer", "E_loc",
                "c", "M", "Hs", "grouped", "loop", "dense", "grp%", "loop%", "l/g", "auto");
    for (const bench::ExpertShape& s : shapes) {
      const PathResult grouped = time_experts(s, "grouped", cublas, stream, warmup, iterations);
      const PathResult loop = time_experts(s, "loop", cublas, stream, warmup, iterations);
      const double dense = time_dense(s, cublas, stream, warmup, iterations);
      const auto chosen = kernels::cuda::choose_expert_gemm_path(s.experts, s.rows(), s.shard);
      const char* chosen_name = kernels::cuda::expert_gemm_path_name(chosen);
      std::printf("%-40s %6lld %5lld %5lld %5lld %5lld %8.3fms %8.3fms %8.3fms %6.1f%% %6.1f%% %6.2f %5s\n",
                  s.name.c_str(), static_cast<long long>(s.outer), static_cast<long long>(s.experts),
                  static_cast<long long>(s.slots), static_cast<long long>(s.hidden),
                  static_cast<long long>(s.shard), grouped.ms, loop.ms, dense, 100 * dense / grouped.ms,
                  100 * dense / loop.ms, loop.ms / grouped.ms, chosen_name);
      const double best = chosen == kernels::cuda::ExpertGemmPath::Grouped ? grouped.ms : loop.ms;
      results.push_back({{"shape", s.name},
                         {"outer", s.outer},
                         {"experts", s.experts},
                         {"slots", s.slots},
                         {"hidden", s.hidden},
                         {"shard", s.shard},
                         {"activation", s.swiglu ? "swiglu" : "gelu"},
                         {"fwd_bwd_flops", s.fwd_bwd_flops()},
                         {"grouped_ms", grouped.ms},
                         {"loop_ms", loop.ms},
                         {"dense_gemm_ms", dense},
                         {"grouped_pct_of_dense", 100 * dense / grouped.ms},
                         {"loop_pct_of_dense", 100 * dense / loop.ms},
                         {"loop_over_grouped", loop.ms / grouped.ms},
                         {"auto_path", chosen_name},
                         {"auto_ms", best},
                         {"dense_tflops", s.fwd_bwd_flops() / dense * 1e-9},
                         {"timed_allocations", grouped.timed_allocations + loop.timed_allocations}});
    }
    cudaStreamDestroy(stream);
    cublasDestroy(cublas);
    if (!json_path.empty()) {
      std::ofstream out(json_path);
      out << nlohmann::json{{"benchmark", "gpu_experts"},
                            {"dtype", "bf16"},
                            {"device", probe.devices.front().name},
                            {"iterations", iterations},
                            {"shapes", results}}
                 .dump(2)
          << "\n";
      if (!out) throw std::runtime_error("cannot write " + json_path);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parm_bench_gpu_experts: %s\n", e.what());
    return 1;
  }
  return 0;
}
