// The CUDA experts (engine/backend/cuda/cuda_experts.cpp on kernels/cuda) against the CPU expert FFN
// (kernels/cpu/expert_ffn, fp64) on the presets' expert shapes and odd ones, GELU and SwiGLU, bias on and
// off, both GEMM paths (PARM_EXPERT_GEMM=grouped|loop): fp32 within 1e-5, bf16 and fp16 within 2e-2, fp64
// within 1e-12, with the verify rule's metric (max |got - want| / max |want| per tensor). Every input is
// representable in bf16, so all types see the same inputs as the reference. Outputs are poisoned before the
// last pass (gradients OVERWRITE), which must allocate nothing. Exits 77 without a device.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/counting_device_allocator.h"
#include "bench/expert_shapes.h"
#include "engine/backend/cuda/cuda_experts.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/expert_ffn.h"
#include "kernels/cuda/device_info.h"
#include "kernels/half_types.h"
#include "kernels/layout_index.h"
#include "tests/support/gpu_check.h"

using namespace parm;
using backend::Buffer;
using backend::View;
using bench::ExpertShape;

namespace {

struct Problem {
  ExpertShape shape;
  bool bias = true;
  std::string label() const {
    return shape.name + (shape.swiglu ? " swiglu" : " gelu") + (bias ? " bias" : " no-bias");
  }
};

struct Tensors {  // inputs, or results: (outer,E,c,M) activations, per-expert parameters
  std::vector<double> x, w1, b1, w3, b3, w2, b2, dy;
  std::vector<double> y, dx, dw1, db1, dw3, db3, dw2, db2;
};

double bf16_representable(double v) {
  return static_cast<double>(static_cast<float>(Bf16(static_cast<float>(v))));
}

std::vector<double> random_tensor(std::int64_t n, std::uint64_t seed, double scale) {
  std::vector<double> v(static_cast<std::size_t>(n));
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
  for (double& x : v) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    const double u = static_cast<double>(s >> 11) * 0x1.0p-53;
    x = bf16_representable(scale * (2 * u - 1));
  }
  return v;
}

Tensors make_inputs(const Problem& p) {
  const ExpertShape& s = p.shape;
  const std::int64_t e = s.experts, m = s.hidden, hs = s.shard, act = s.outer * e * s.slots * m;
  Tensors t;
  t.x = random_tensor(act, 1, 1.0);
  t.dy = random_tensor(act, 2, 1.0);
  t.w1 = random_tensor(e * m * hs, 3, 1.0 / std::sqrt(double(m)));
  t.w2 = random_tensor(e * hs * m, 4, 1.0 / std::sqrt(double(hs)));
  if (s.swiglu) t.w3 = random_tensor(e * m * hs, 5, 1.0 / std::sqrt(double(m)));
  if (p.bias) {
    t.b1 = random_tensor(e * hs, 6, 0.2);
    t.b2 = random_tensor(e * m, 7, 0.2);
    if (s.swiglu) t.b3 = random_tensor(e * hs, 8, 0.2);
  }
  return t;
}

void copy_blocks(const double* src, double* dst, const layout::BlockCopy& map) {
  for (std::int64_t i = 0; i < map.blocks; ++i)
    std::copy_n(src + map.src_offset(i), map.length, dst + map.dst_offset(i));
}

template <typename V>
auto at(V& v, std::int64_t offset) {
  return v.empty() ? nullptr : v.data() + offset;
}

// The cpu backend's experts_forward/experts_backward, in fp64.
void reference(const Problem& p, Tensors& t) {
  const ExpertShape& s = p.shape;
  const std::int64_t el = s.experts, m = s.hidden, hs = s.shard, c = s.slots, rows = s.rows();
  t.y.assign(t.x.size(), 0);
  t.dx.assign(t.x.size(), 0);
  t.dw1.assign(t.w1.size(), 0);
  t.dw2.assign(t.w2.size(), 0);
  t.dw3.assign(t.w3.size(), 0);
  t.db1.assign(t.b1.size(), 0);
  t.db2.assign(t.b2.size(), 0);
  t.db3.assign(t.b3.size(), 0);
  std::vector<double> xe(static_cast<std::size_t>(rows * m)), ye(xe.size()), dye(xe.size()), dxe(xe.size());
  for (std::int64_t e = 0; e < el; ++e) {
    kernels::cpu::ExpertFfnParams<double> f;
    f.activation = s.swiglu ? kernels::cpu::FfnActivation::Swiglu : kernels::cpu::FfnActivation::Gelu;
    f.hidden = m;
    f.ffn_hidden = hs;
    f.w1 = at(t.w1, e * m * hs);
    f.b1 = at(t.b1, e * hs);
    f.w3 = at(t.w3, e * m * hs);
    f.b3 = at(t.b3, e * hs);
    f.w2 = at(t.w2, e * hs * m);
    f.b2 = at(t.b2, e * m);
    kernels::cpu::ExpertFfnSaved<double> saved;
    copy_blocks(t.x.data(), xe.data(), layout::pack_expert(s.outer, el, e, c, m));
    kernels::cpu::expert_ffn_forward(f, xe.data(), rows, ye.data(), &saved);
    copy_blocks(ye.data(), t.y.data(), layout::unpack_expert(s.outer, el, e, c, m));
    kernels::cpu::ExpertFfnGrads<double> g{at(t.dw1, e * m * hs), at(t.db1, e * hs),
                                           at(t.dw3, e * m * hs), at(t.db3, e * hs),
                                           at(t.dw2, e * hs * m), at(t.db2, e * m)};
    copy_blocks(t.dy.data(), dye.data(), layout::pack_expert(s.outer, el, e, c, m));
    kernels::cpu::expert_ffn_backward(f, xe.data(), rows, saved, dye.data(), g, dxe.data());
    copy_blocks(dxe.data(), t.dx.data(), layout::unpack_expert(s.outer, el, e, c, m));
  }
}

template <typename T>
T from_double(double v) {
  if constexpr (std::is_same_v<T, double>)
    return v;
  else if constexpr (std::is_same_v<T, float>)
    return static_cast<float>(v);
  else
    return T(static_cast<float>(v));
}

// A device tensor, empty for an absent one.
template <typename T>
struct DeviceTensor {
  Buffer<T> buffer;
  DeviceTensor(backend::Allocator& a, const std::vector<double>& host) : buffer(a, host.size()) {
    std::vector<T> converted(host.size());
    for (std::size_t i = 0; i < host.size(); ++i) converted[i] = from_double<T>(host[i]);
    if (!host.empty()) a.copy_from_host(buffer.data(), converted.data(), host.size() * sizeof(T));
  }
  View<T> view() const { return buffer.view(); }
  std::vector<double> download(backend::Allocator& a) const {
    std::vector<T> host(buffer.size());
    if (!host.empty()) a.copy_to_host(host.data(), buffer.data(), host.size() * sizeof(T));
    std::vector<double> out(host.size());
    for (std::size_t i = 0; i < host.size(); ++i) out[i] = to_double(host[i]);
    return out;
  }
  void poison(cudaStream_t stream) const {
    if (!buffer.empty()) cudaMemsetAsync(buffer.data(), 0x7f, buffer.size() * sizeof(T), stream);
  }
};

struct CudaHandles {
  cublasHandle_t cublas = nullptr;
  cudaStream_t stream = nullptr;
  CudaHandles() {
    require_ok(cudaSetDevice(0) == cudaSuccess, "cudaSetDevice");
    require_ok(cublasCreate(&cublas) == CUBLAS_STATUS_SUCCESS, "cublasCreate");
    require_ok(cudaStreamCreate(&stream) == cudaSuccess, "cudaStreamCreate");
  }
  ~CudaHandles() {
    if (stream) cudaStreamDestroy(stream);
    if (cublas) cublasDestroy(cublas);
  }
  static void require_ok(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string(what) + " failed");
  }
};

// Three passes (the first grows the buffers), the last on poisoned outputs; returns the results and the
// allocations the last pass made.
template <typename T>
Tensors run_device(const Problem& p, const Tensors& in, const char* path,
                   std::int64_t& last_pass_allocations) {
  setenv("PARM_EXPERT_GEMM", path, 1);
  const ExpertShape& s = p.shape;
  bench::CountingDeviceAllocator alloc;
  CudaHandles handles;
  backend::cuda::CudaContext context;
  context.cublas = handles.cublas;
  context.allocator = &alloc;
  Tensors out;
  {
    auto experts = backend::cuda::make_cuda_experts<T>(context);
    auto state = experts->make_state();
    const DeviceTensor<T> x(alloc, in.x), dy(alloc, in.dy), w1(alloc, in.w1), b1(alloc, in.b1),
        w3(alloc, in.w3), b3(alloc, in.b3), w2(alloc, in.w2), b2(alloc, in.b2);
    const std::vector<double> act(in.x.size());
    const DeviceTensor<T> y(alloc, act), dx(alloc, act), dw1(alloc, in.w1), db1(alloc, in.b1),
        dw3(alloc, in.w3), db3(alloc, in.b3), dw2(alloc, in.w2), db2(alloc, in.b2);
    backend::ExpertWeights<T> w;
    w.activation = s.swiglu ? backend::ExpertActivation::Swiglu : backend::ExpertActivation::Gelu;
    w.hidden = s.hidden;
    w.shard = s.shard;
    w.experts = s.experts;
    w.w1 = w1.view();
    w.b1 = b1.view();
    w.w3 = w3.view();
    w.b3 = b3.view();
    w.w2 = w2.view();
    w.b2 = b2.view();
    const backend::ExpertGrads<T> g{dw1.view(), db1.view(), dw3.view(), db3.view(), dw2.view(), db2.view()};
    const backend::DispatchShape shape{s.outer, s.experts, s.slots, s.hidden};
    for (int pass = 0; pass < 3; ++pass) {
      if (pass == 2) {
        if (cudaStreamSynchronize(handles.stream) != cudaSuccess) throw std::runtime_error("pass failed");
        last_pass_allocations = alloc.allocations();
        for (const DeviceTensor<T>* t : {&y, &dx, &dw1, &db1, &dw3, &db3, &dw2, &db2})
          t->poison(handles.stream);
      }
      experts->forward(handles.stream, w, shape, x.view(), *state, y.view());
      experts->backward(handles.stream, w, shape, dy.view(), *state, g, dx.view());
    }
    const cudaError_t done = cudaStreamSynchronize(handles.stream);
    if (done != cudaSuccess)
      throw std::runtime_error(std::string("experts passes: ") + cudaGetErrorString(done));
    last_pass_allocations = alloc.allocations() - last_pass_allocations;
    out.y = y.download(alloc);
    out.dx = dx.download(alloc);
    out.dw1 = dw1.download(alloc);
    out.db1 = db1.download(alloc);
    out.dw3 = dw3.download(alloc);
    out.db3 = db3.download(alloc);
    out.dw2 = dw2.download(alloc);
    out.db2 = db2.download(alloc);
  }
  return out;
}

// The verify rule's metric: max |got - want| / max |want| (NaN counts as failure).
double verify_error(const std::vector<double>& got, const std::vector<double>& want) {
  if (got.size() != want.size()) return 1e300;
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double d = std::fabs(got[i] - want[i]);
    diff = std::isnan(d) ? 1e300 : std::max(diff, d);
    scale = std::max(scale, std::fabs(want[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

template <typename T>
void check_against_reference(const Problem& p, const Tensors& in, const Tensors& want, const char* type_name,
                             double tolerance) {
  for (const char* path : {"grouped", "loop"}) {
    std::int64_t allocations = -1;
    const Tensors got = run_device<T>(p, in, path, allocations);
    const std::string label = p.label() + " " + type_name + " " + path;
    const struct {
      const char* name;
      const std::vector<double>& got;
      const std::vector<double>& want;
    } outputs[] = {{"y", got.y, want.y},       {"dx", got.dx, want.dx},    {"dW1", got.dw1, want.dw1},
                   {"db1", got.db1, want.db1}, {"dW3", got.dw3, want.dw3}, {"db3", got.db3, want.db3},
                   {"dW2", got.dw2, want.dw2}, {"db2", got.db2, want.db2}};
    double worst = 0;
    for (const auto& o : outputs) {
      const double err = verify_error(o.got, o.want);
      worst = std::max(worst, err);
      PARM_CHECK(err <= tolerance, label + ": " + o.name + " error " + std::to_string(err));
    }
    PARM_CHECK(allocations == 0,
               label + ": the last pass allocated " + std::to_string(allocations) + " times");
    std::printf("  %s: worst error %.3g\n", label.c_str(), worst);
  }
}

std::vector<Problem> odd_problems() {
  std::vector<Problem> problems;
  const ExpertShape shapes[] = {{"odd outer3 E2 c13 M40 Hs72", 3, 2, 13, 40, 72, false},
                                {"odd outer1 E3 c7 M24 Hs40", 1, 3, 7, 24, 40, false},
                                {"odd outer5 E4 c3 M33 Hs17", 5, 4, 3, 33, 17, false}};
  for (ExpertShape s : shapes)
    for (bool swiglu : {false, true})
      for (bool bias : {true, false}) {
        s.swiglu = swiglu;
        problems.push_back({s, bias});
      }
  return problems;
}

}  // namespace

PARM_GPU_CASE(oddShapesFp32Bf16) {
  for (const Problem& p : odd_problems()) {
    Tensors in = make_inputs(p);
    Tensors want = in;
    reference(p, want);
    check_against_reference<float>(p, in, want, "fp32", 1e-5);
    check_against_reference<Bf16>(p, in, want, "bf16", 2e-2);
  }
}

PARM_GPU_CASE(oddShapesFp64Fp16) {
  for (const Problem& p : odd_problems()) {
    Tensors in = make_inputs(p);
    Tensors want = in;
    reference(p, want);
    check_against_reference<double>(p, in, want, "fp64", 1e-12);
    check_against_reference<F16>(p, in, want, "fp16", 2e-2);
  }
}

PARM_GPU_CASE(presetShapesFp32Bf16) {
  std::vector<Problem> problems;
  for (const ExpertShape& s : bench::preset_expert_shapes()) problems.push_back({s, true});
  ExpertShape swiglu = bench::preset_expert_shape("default");
  swiglu.swiglu = true;
  problems.push_back({swiglu, false});
  for (const Problem& p : problems) {
    std::printf("  %s: outer %lld, E_loc %lld, c %lld, M %lld, Hs %lld\n", p.shape.name.c_str(),
                static_cast<long long>(p.shape.outer), static_cast<long long>(p.shape.experts),
                static_cast<long long>(p.shape.slots), static_cast<long long>(p.shape.hidden),
                static_cast<long long>(p.shape.shard));
    Tensors in = make_inputs(p);
    Tensors want = in;
    reference(p, want);
    check_against_reference<float>(p, in, want, "fp32", 1e-5);
    check_against_reference<Bf16>(p, in, want, "bf16", 2e-2);
  }
}

PARM_GPU_CASE(plainGemmMatchesHost) {
  const std::int64_t m = 37, n = 50, k = 29;
  const std::vector<double> a = random_tensor(m * k, 11, 1.0), b = random_tensor(k * n, 12, 1.0);
  std::vector<double> want(static_cast<std::size_t>(m * n));
  kernels::cpu::gemm<double>(kernels::cpu::Trans::No, kernels::cpu::Trans::No, m, n, k, 1.0, a.data(),
                             b.data(), 0.0, want.data());
  bench::CountingDeviceAllocator alloc;
  CudaHandles handles;
  backend::cuda::CudaContext context;
  context.cublas = handles.cublas;
  context.allocator = &alloc;
  auto experts = backend::cuda::make_cuda_experts<float>(context);
  const DeviceTensor<float> da(alloc, a), db(alloc, b), dc(alloc, want);
  dc.poison(handles.stream);
  experts->gemm(handles.stream, da.view(), db.view(), m, n, k, dc.view());
  PARM_CHECK(cudaStreamSynchronize(handles.stream) == cudaSuccess, "gemm");
  const double err = verify_error(dc.download(alloc), want);
  PARM_CHECK(err <= 1e-6, "gemm error " + std::to_string(err));
}

PARM_GPU_CASE(backwardRefusesAnotherShape) {
  Problem p{{"odd", 2, 2, 3, 8, 16, false}, true};
  const Tensors in = make_inputs(p);
  bench::CountingDeviceAllocator alloc;
  CudaHandles handles;
  backend::cuda::CudaContext context;
  context.cublas = handles.cublas;
  context.allocator = &alloc;
  auto experts = backend::cuda::make_cuda_experts<float>(context);
  auto state = experts->make_state();
  const DeviceTensor<float> x(alloc, in.x), w1(alloc, in.w1), w2(alloc, in.w2), dx(alloc, in.x);
  backend::ExpertWeights<float> w;
  w.hidden = 8;
  w.shard = 16;
  w.experts = 2;
  w.w1 = w1.view();
  w.w2 = w2.view();
  bool threw = false;
  try {  // no forward ran on this state
    experts->backward(handles.stream, w, {2, 2, 3, 8}, x.view(), *state, {}, dx.view());
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  PARM_CHECK(threw, "backward without a forward must throw");
}

int main() {
  const kernels::cuda::DeviceProbe probe = kernels::cuda::probe_devices();
  return parm_gpu_test::run_all(probe.devices.empty() ? probe.error : std::string());
}
