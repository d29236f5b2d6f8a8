// The routing, gate, dispatch/combine and layout kernels of kernels/cuda against kernels/cpu on a device,
// on the presets' shapes and three odd ones: routing (choices, loads, positions) identical when both route
// the same fp32/fp64 probabilities; fp32 outputs and gradients within 1e-5 (normwise relative, the verify
// rule), fp64 within 1e-12, bf16/fp16 within 2e-2 of the fp32 reference on the same rounded inputs. Exits 77
// without a device.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/capacity.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/gate.h"
#include "kernels/cpu/routing.h"
#include "kernels/cuda/device_info.h"
#include "kernels/cuda/elementwise_cuda.h"
#include "kernels/cuda/gate_cuda.h"
#include "kernels/cuda/gather_cuda.h"
#include "kernels/cuda/routing_cuda.h"
#include "kernels/half_types.h"
#include "kernels/layout_index.h"
#include "tests/support/gpu_check.h"

namespace cpu = parm::kernels::cpu;
namespace kc = parm::kernels::cuda;
using parm::Bf16;
using parm::F16;

namespace {

struct Shape {
  const char* name;
  std::int64_t tokens, experts, top_k, hidden;
  double capacity_factor;
};

// The presets' (batch * seq_len, experts, k, M, f), then three odd shapes (T not a multiple of anything).
const Shape kShapes[] = {{"default", 256, 8, 2, 256, 1.2},     {"bert-base-moe", 4096, 16, 2, 768, 1.2},
                         {"gpt2-moe", 4096, 16, 2, 768, 1.25}, {"tc1", 4096, 8, 2, 1024, 1.2},
                         {"odd-77", 77, 6, 2, 40, 1.2},        {"odd-131-k1", 131, 5, 1, 24, 1.0},
                         {"odd-1001-k4", 1001, 12, 4, 72, 0.8}};

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

cudaStream_t test_stream() {
  static cudaStream_t stream = [] {
    cudaStream_t s = nullptr;
    check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
    return s;
  }();
  return stream;
}

cublasHandle_t test_cublas() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) throw std::runtime_error("cublasCreate failed");
    return h;
  }();
  return handle;
}

void sync() {
  check(cudaStreamSynchronize(test_stream()), "cudaStreamSynchronize");
}

// A device array of U for the test (cudaMalloc is fine here: the kernels themselves never allocate).
template <typename U>
class DeviceArray {
 public:
  explicit DeviceArray(std::size_t n) : n_(n) {
    if (n_) check(cudaMalloc(&ptr_, n_ * sizeof(U)), "cudaMalloc");
  }
  explicit DeviceArray(const std::vector<U>& host) : DeviceArray(host.size()) { upload(host); }
  ~DeviceArray() { cudaFree(ptr_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  U* get() const { return static_cast<U*>(ptr_); }
  std::size_t size() const { return n_; }
  // Copies on the test stream, then a sync: a plain cudaMemcpy from pageable memory may return before its
  // DMA lands, and the non-blocking test stream would not wait for it.
  void upload(const std::vector<U>& host) {
    if (host.size() != n_) throw std::logic_error("upload: size mismatch");
    if (n_)
      check(cudaMemcpyAsync(ptr_, host.data(), n_ * sizeof(U), cudaMemcpyHostToDevice, test_stream()),
            "cudaMemcpyAsync H2D");
    sync();
  }
  std::vector<U> download() const {
    std::vector<U> host(n_);
    if (n_)
      check(cudaMemcpyAsync(host.data(), ptr_, n_ * sizeof(U), cudaMemcpyDeviceToHost, test_stream()),
            "cudaMemcpyAsync D2H");
    sync();
    return host;
  }

 private:
  void* ptr_ = nullptr;
  std::size_t n_ = 0;
};

std::vector<float> random_floats(std::int64_t n, std::uint64_t seed, double scale) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(-scale, scale);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& x : v) x = static_cast<float>(dist(rng));
  return v;
}

// Every third token's logits rounded to integers: tied probabilities on purpose.
std::vector<float> logits_with_ties(const Shape& s, std::uint64_t seed) {
  std::vector<float> v = random_floats(s.tokens * s.experts, seed, 3.0);
  for (std::int64_t t = 0; t < s.tokens; t += 3)
    for (std::int64_t e = 0; e < s.experts; ++e) {
      float& x = v[static_cast<std::size_t>(t * s.experts + e)];
      x = std::round(x);
    }
  return v;
}

template <typename T>
std::vector<T> to_storage(const std::vector<float>& v) {
  std::vector<T> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = T(v[i]);
  return out;
}
// The values the device sees, back in the reference's type R (exact: bf16/fp16 -> float, float -> double).
template <typename R, typename T>
std::vector<R> to_reference(const std::vector<T>& v) {
  std::vector<R> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<R>(static_cast<double>(v[i]));
  return out;
}

// max |got - want| / max |want|: engine/run/verify.cpp's rule.
template <typename G, typename W>
double normwise_error(const std::vector<G>& got, const std::vector<W>& want) {
  if (got.size() != want.size()) return 1e300;
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i])));
    scale = std::max(scale, std::fabs(static_cast<double>(want[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

#define CHECK_CLOSE(got, want, tolerance, what)                                                      \
  do {                                                                                               \
    const double err_ = normwise_error((got), (want));                                               \
    PARM_CHECK(err_ <= (tolerance), std::string(what) + ": normwise error " + std::to_string(err_)); \
  } while (0)

template <typename T>
double tolerance_of() {
  if constexpr (std::is_same_v<T, double>) return 1e-12;
  if constexpr (std::is_same_v<T, float>) return 1e-5;
  return 2e-2;
}

// The reference type of storage type T: double for double, float otherwise.
template <typename T>
using ref_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

// The device routing of a shape, with its own arrays.
struct RoutingArrays {
  DeviceArray<std::int32_t> expert;
  DeviceArray<std::int64_t> position, loads;
  kc::DeviceRouting routing;

  explicit RoutingArrays(const Shape& s)
      : expert(static_cast<std::size_t>(s.tokens * s.top_k)),
        position(static_cast<std::size_t>(s.tokens * s.top_k)),
        loads(static_cast<std::size_t>(s.experts)) {
    routing.tokens = s.tokens;
    routing.experts = s.experts;
    routing.top_k = s.top_k;
    routing.expert = expert.get();
    routing.position = position.get();
    routing.loads = loads.get();
  }
  // The cpu routing as it is, for the data-path kernels.
  void upload(const cpu::Routing& r) {
    expert.upload(r.expert);
    position.upload(r.position);
    loads.upload(r.tokens_per_expert);
    routing.capacity = r.capacity;
  }
};

// A dropping capacity (the spec rule, min_capacity 8 as the presets) and the no-drop one (the largest load).
std::vector<std::int64_t> capacities_for(const Shape& s, const std::vector<std::int64_t>& loads) {
  return {parm::kernels::expert_capacity(s.tokens, s.experts, s.capacity_factor, s.top_k, 8),
          *std::max_element(loads.begin(), loads.end())};
}

// The storage value nearest a reference value (via float for the 16-bit types).
template <typename T, typename R>
std::vector<T> round_to(const std::vector<R>& v) {
  std::vector<T> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if constexpr (std::is_same_v<T, Bf16> || std::is_same_v<T, F16>)
      out[i] = T(static_cast<float>(v[i]));
    else
      out[i] = static_cast<T>(v[i]);
  }
  return out;
}

template <typename T>
std::vector<T> random_storage(std::int64_t n, std::uint64_t seed, double scale) {
  return round_to<T>(random_floats(n, seed, scale));
}

template <typename A>
std::string first_mismatch(const std::vector<A>& got, const std::vector<A>& want) {
  if (got.size() != want.size())
    return "sizes " + std::to_string(got.size()) + " vs " + std::to_string(want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i])
      return "first mismatch at " + std::to_string(i) + ": " + std::to_string(got[i]) + " vs " +
             std::to_string(want[i]);
  return "equal";
}

// Routing of the reference's own probabilities (S = float or double): choices, loads and positions must be
// the cpu's exactly, combine weights within the type's tolerance.
template <typename S>
void check_routing_of_reference_probs(const Shape& s, std::uint64_t seed) {
  const std::string where = std::string(s.name) + ": ";
  std::vector<S> probs = to_reference<S>(logits_with_ties(s, seed));
  cpu::softmax_rows(probs.data(), s.tokens, s.experts);
  const std::vector<std::int32_t> choices = cpu::top_k_choices(probs.data(), s.tokens, s.experts, s.top_k);
  const std::vector<std::int64_t> loads = cpu::expert_loads(choices, s.experts);

  DeviceArray<S> device_probs(probs);
  RoutingArrays dev(s);
  kc::top_k<S>(test_stream(), device_probs.get(), dev.routing);
  kc::count_expert_loads(test_stream(), dev.routing);
  const std::vector<std::int32_t> got_choices = dev.expert.download();
  PARM_CHECK(got_choices == choices, where + "choices: " + first_mismatch(got_choices, choices));
  const std::vector<std::int64_t> got_loads = dev.loads.download();
  PARM_CHECK(got_loads == loads, where + "loads: " + first_mismatch(got_loads, loads));

  DeviceArray<unsigned char> scratch(kc::position_scratch_bytes(s.tokens, s.experts, s.top_k));
  for (const std::int64_t capacity : capacities_for(s, loads)) {
    const cpu::Routing ref = cpu::route_choices(choices, s.tokens, s.experts, s.top_k, capacity);
    kc::assign_positions(test_stream(), dev.routing, capacity, scratch.get(), scratch.size());
    const std::vector<std::int64_t> got_positions = dev.position.download();
    PARM_CHECK(got_positions == ref.position,
               where + "capacity " + std::to_string(capacity) +
                   " positions: " + first_mismatch(got_positions, ref.position));
    std::vector<S> want_weights(static_cast<std::size_t>(s.tokens * s.top_k));
    cpu::combine_weights(ref, probs.data(), want_weights.data());
    DeviceArray<S> weights(want_weights.size());
    kc::combine_weights<S>(test_stream(), dev.routing, device_probs.get(), weights.get());
    CHECK_CLOSE(weights.download(), want_weights, tolerance_of<S>(), where + "combine weights");
    if constexpr (std::is_same_v<S, float>) {  // bf16 weights from the same fp32 probabilities
      DeviceArray<Bf16> weights_16(want_weights.size());
      kc::combine_weights<Bf16>(test_stream(), dev.routing, device_probs.get(), weights_16.get());
      CHECK_CLOSE(weights_16.download(), want_weights, tolerance_of<Bf16>(), where + "bf16 combine weights");
    }
  }
}

// gate_logits + softmax_top_k against cpu::gate_forward on the same (rounded) x and Wg. Choices may differ
// only where the reference's probabilities of the two experts are within the tolerance (a near-tie that
// summation order may flip).
template <typename T>
void check_gate_forward(const Shape& s, std::uint64_t seed) {
  using R = ref_t<T>;
  const std::string where = std::string(s.name) + ": ";
  const std::int64_t n = s.tokens * s.experts;
  const std::vector<T> x = random_storage<T>(s.tokens * s.hidden, seed + 1, 1.0);
  const std::vector<T> wg = random_storage<T>(s.hidden * s.experts, seed + 2, 0.1);
  std::vector<R> want(static_cast<std::size_t>(n));
  cpu::gate_forward(to_reference<R>(x).data(), to_reference<R>(wg).data(), s.tokens, s.hidden, s.experts,
                    want.data());
  const std::vector<std::int32_t> want_choices =
      cpu::top_k_choices(want.data(), s.tokens, s.experts, s.top_k);

  DeviceArray<T> device_x(x), device_wg(wg);
  DeviceArray<kc::math_t<T>> values(static_cast<std::size_t>(n));
  constexpr bool is_16_bit = !std::is_same_v<T, kc::math_t<T>>;
  DeviceArray<T> probs_out(is_16_bit ? static_cast<std::size_t>(n) : 0);
  RoutingArrays dev(s);
  kc::gate_logits<T>(test_cublas(), test_stream(), device_x.get(), device_wg.get(), s.tokens, s.hidden,
                     s.experts, values.get());
  kc::softmax_top_k<T>(test_stream(), values.get(), dev.routing, is_16_bit ? probs_out.get() : nullptr);
  // Same inputs, fp32 (fp64) sums in both: the math-type probabilities agree far below the 16-bit rounding.
  const double math_tolerance = is_16_bit ? 1e-4 : tolerance_of<T>();
  CHECK_CLOSE(values.download(), want, math_tolerance, where + "probabilities (math type)");
  if constexpr (is_16_bit)
    CHECK_CLOSE(probs_out.download(), want, tolerance_of<T>(), where + "probabilities");

  const std::vector<std::int32_t> got = dev.expert.download();
  std::int64_t far_mismatches = 0;
  std::string first;
  for (std::size_t c = 0; c < got.size(); ++c) {
    if (got[c] == want_choices[c]) continue;
    const std::size_t row = c / static_cast<std::size_t>(s.top_k) * static_cast<std::size_t>(s.experts);
    const double a = want[row + static_cast<std::size_t>(got[c])],
                 b = want[row + static_cast<std::size_t>(want_choices[c])];
    if (std::fabs(a - b) > math_tolerance * std::max(std::fabs(a), std::fabs(b))) {
      if (far_mismatches++ == 0)
        first = "choice " + std::to_string(c) + ": " + std::to_string(got[c]) + " vs " +
                std::to_string(want_choices[c]);
    }
  }
  PARM_CHECK(far_mismatches == 0,
             where + std::to_string(far_mismatches) + " choices differ beyond a near-tie, " + first);
}

// Dispatch, combine, their backwards and the gate backward on the cpu's routing (uploaded, so the data path
// is compared on identical slots), each output buffer pre-filled with garbage to check OVERWRITE, dx of the
// gate pre-filled with a gradient to check ACCUMULATE.
template <typename T>
void check_layer_ops(const Shape& s, std::uint64_t seed) {
  using R = ref_t<T>;
  const std::int64_t m = s.hidden, tk = s.tokens * s.top_k, te = s.tokens * s.experts;
  std::vector<R> probs = to_reference<R>(logits_with_ties(s, seed));
  cpu::softmax_rows(probs.data(), s.tokens, s.experts);
  const std::vector<std::int32_t> choices = cpu::top_k_choices(probs.data(), s.tokens, s.experts, s.top_k);
  const T garbage = round_to<T>(std::vector<float>{7.0f})[0];

  for (const std::int64_t capacity : capacities_for(s, cpu::expert_loads(choices, s.experts))) {
    const std::string where = std::string(s.name) + " capacity " + std::to_string(capacity) + ": ";
    const cpu::Routing ref = cpu::route_choices(choices, s.tokens, s.experts, s.top_k, capacity);
    const std::int64_t slot_elements = s.experts * capacity * m;
    std::vector<R> weights_ref(static_cast<std::size_t>(tk));
    cpu::combine_weights(ref, probs.data(), weights_ref.data());
    const std::vector<T> weights = round_to<T>(weights_ref);
    const std::vector<T> x = random_storage<T>(s.tokens * m, seed + 1, 1.0);
    const std::vector<T> y = random_storage<T>(slot_elements, seed + 2, 1.0);
    const std::vector<T> dout = random_storage<T>(s.tokens * m, seed + 3, 1.0);
    const std::vector<T> dweights = random_storage<T>(tk, seed + 4, 1.0);
    const std::vector<T> wg = random_storage<T>(m * s.experts, seed + 5, 0.1);
    const std::vector<T> dx0 = random_storage<T>(s.tokens * m, seed + 6, 1.0);
    const auto xr = to_reference<R>(x), yr = to_reference<R>(y), doutr = to_reference<R>(dout);
    const auto wr = to_reference<R>(weights), dwr = to_reference<R>(dweights), wgr = to_reference<R>(wg);

    std::vector<R> disp_ref(static_cast<std::size_t>(slot_elements)), dxd_ref(xr.size(), R(0)),
        out_ref(xr.size());
    std::vector<R> dy_ref(disp_ref.size()), dw_ref(static_cast<std::size_t>(tk));
    cpu::dispatch(ref, xr.data(), m, disp_ref.data());
    cpu::dispatch_backward(ref, yr.data(), m, dxd_ref.data());
    cpu::combine(ref, wr.data(), yr.data(), m, out_ref.data());
    cpu::combine_backward(ref, wr.data(), yr.data(), doutr.data(), m, dy_ref.data(), dw_ref.data());
    std::vector<R> dprobs(static_cast<std::size_t>(te)), dlogits(dprobs.size()), dwg_ref(wgr.size());
    std::vector<R> dx_ref = to_reference<R>(dx0);
    cpu::combine_weights_backward(ref, probs.data(), wr.data(), dwr.data(), dprobs.data());
    cpu::gate_backward(xr.data(), wgr.data(), probs.data(), dprobs.data(), s.tokens, m, s.experts,
                       dlogits.data(), dwg_ref.data(), dx_ref.data());

    RoutingArrays dev(s);
    dev.upload(ref);
    DeviceArray<T> d_x(x), d_y(y), d_dout(dout), d_w(weights), d_dweights(dweights), d_wg(wg);
    DeviceArray<kc::math_t<T>> d_probs(probs);
    const std::vector<T> garbage_slots(static_cast<std::size_t>(slot_elements), garbage);
    const std::vector<T> garbage_tokens(x.size(), garbage);
    DeviceArray<T> disp(garbage_slots), dxd(garbage_tokens), out(garbage_tokens), dy(garbage_slots);
    DeviceArray<T> dw(std::vector<T>(static_cast<std::size_t>(tk), garbage));
    DeviceArray<T> dwg(std::vector<T>(wg.size(), garbage)), dx(dx0);
    const std::size_t scratch_bytes = kc::gate_backward_scratch_bytes<T>(s.tokens, s.experts);
    DeviceArray<unsigned char> scratch(scratch_bytes);

    kc::dispatch<T>(test_stream(), dev.routing, d_x.get(), m, disp.get());
    kc::dispatch_backward<T>(test_stream(), dev.routing, d_y.get(), m, dxd.get());
    kc::combine<T>(test_stream(), dev.routing, d_w.get(), d_y.get(), m, out.get());
    kc::combine_backward<T>(test_stream(), dev.routing, d_w.get(), d_y.get(), d_dout.get(), m, dy.get(),
                            dw.get());
    kc::gate_backward<T>(test_cublas(), test_stream(), dev.routing, d_x.get(), d_wg.get(), d_probs.get(),
                         d_w.get(), d_dweights.get(), m, dwg.get(), dx.get(), scratch.get(), scratch_bytes);

    const double tol = tolerance_of<T>();
    CHECK_CLOSE(disp.download(), disp_ref, 0.0, where + "dispatch (a copy: exact)");
    CHECK_CLOSE(dxd.download(), dxd_ref, tol, where + "dispatch backward");
    CHECK_CLOSE(out.download(), out_ref, tol, where + "combine");
    CHECK_CLOSE(dy.download(), dy_ref, tol, where + "combine backward dy");
    CHECK_CLOSE(dw.download(), dw_ref, tol, where + "combine backward dweights");
    CHECK_CLOSE(dwg.download(), dwg_ref, tol, where + "gate backward dWg");
    CHECK_CLOSE(dx.download(), dx_ref, tol, where + "gate backward dX (accumulated)");
  }
}

// scale, copy and every layout transform: copies exact, scale within the type's rounding.
template <typename T>
void check_elementwise(std::uint64_t seed) {
  const std::int64_t outer = 3, experts = 4, c = 6, m = 37, n = 2, w = 3, chunk = 101;
  const std::int64_t size = outer * experts * c * m * n;
  const std::vector<T> src = random_storage<T>(size, seed, 1.0);
  const parm::layout::BlockCopy maps[] = {parm::layout::split_outer(2, experts * c * m, 1),
                                          parm::layout::split_capacity(outer * experts, c, n, 1, m),
                                          parm::layout::interleave_capacity(n, outer * experts, c / n, m),
                                          parm::layout::group_capacity(n, outer * experts, c, m),
                                          parm::layout::pack_expert(outer, experts, 2, c, m),
                                          parm::layout::unpack_expert(outer, experts, 1, c, m),
                                          parm::layout::pack_peer_pieces(n, w, 1, chunk),
                                          parm::layout::place_peer_pieces(n, w, 2, chunk)};
  DeviceArray<T> d_src(src);
  const auto as_double = [](const std::vector<T>& v) { return to_reference<double>(v); };
  int index = 0;
  for (const parm::layout::BlockCopy& map : maps) {
    std::vector<T> want(src.size(), T(0));
    for (std::int64_t i = 0; i < map.blocks; ++i)
      std::copy_n(src.data() + map.src_offset(i), map.length, want.data() + map.dst_offset(i));
    DeviceArray<T> dst(std::vector<T>(src.size(), T(0)));
    kc::copy_blocks<T>(test_stream(), d_src.get(), dst.get(), map);
    CHECK_CLOSE(as_double(dst.download()), as_double(want), 0.0,
                "copy_blocks map " + std::to_string(index++));
  }
  DeviceArray<T> copied(std::vector<T>(src.size(), T(0)));
  kc::copy<T>(test_stream(), d_src.get(), copied.get(), size);
  CHECK_CLOSE(as_double(copied.download()), as_double(src), 0.0, "copy");
  const T factor = round_to<T>(std::vector<float>{0.375f})[0];
  std::vector<double> want_scaled(src.size());
  for (std::size_t i = 0; i < src.size(); ++i)
    want_scaled[i] = static_cast<double>(src[i]) * static_cast<double>(factor);
  kc::scale<T>(test_stream(), d_src.get(), size, factor);
  CHECK_CLOSE(as_double(d_src.download()), want_scaled, (std::is_same_v<T, ref_t<T>> ? 1e-7 : 4e-3), "scale");
}

}  // namespace

PARM_GPU_CASE(routingOfReferenceProbsIsIdenticalFp32) {
  std::uint64_t seed = 11;
  for (const Shape& s : kShapes) check_routing_of_reference_probs<float>(s, seed++);
}
PARM_GPU_CASE(routingOfReferenceProbsIsIdenticalFp64) {
  std::uint64_t seed = 41;
  for (const Shape& s : kShapes) check_routing_of_reference_probs<double>(s, seed++);
}
PARM_GPU_CASE(gateForwardMatchesCpuFp32) {
  std::uint64_t seed = 71;
  for (const Shape& s : kShapes) check_gate_forward<float>(s, seed++);
}
PARM_GPU_CASE(gateForwardMatchesCpuFp64) {
  std::uint64_t seed = 81;
  for (const Shape& s : kShapes) check_gate_forward<double>(s, seed++);
}
PARM_GPU_CASE(gateForwardMatchesCpuBf16) {
  std::uint64_t seed = 91;
  for (const Shape& s : kShapes) check_gate_forward<Bf16>(s, seed++);
}
PARM_GPU_CASE(gateForwardMatchesCpuF16) {
  std::uint64_t seed = 95;
  for (const Shape& s : kShapes) check_gate_forward<F16>(s, seed++);
}
PARM_GPU_CASE(layerOpsMatchCpuFp32) {
  std::uint64_t seed = 101;
  for (const Shape& s : kShapes) check_layer_ops<float>(s, seed++);
}
PARM_GPU_CASE(layerOpsMatchCpuFp64) {
  std::uint64_t seed = 201;
  for (const Shape& s : kShapes) check_layer_ops<double>(s, seed++);
}
PARM_GPU_CASE(layerOpsMatchCpuBf16) {
  std::uint64_t seed = 301;
  for (const Shape& s : kShapes) check_layer_ops<Bf16>(s, seed++);
}
PARM_GPU_CASE(layerOpsMatchCpuF16) {
  std::uint64_t seed = 401;
  for (const Shape& s : kShapes) check_layer_ops<F16>(s, seed++);
}
PARM_GPU_CASE(elementwiseAndLayoutCopies) {
  check_elementwise<float>(501);
  check_elementwise<double>(502);
  check_elementwise<Bf16>(503);
  check_elementwise<F16>(504);
}

int main() {
  const parm::kernels::cuda::DeviceProbe probe = parm::kernels::cuda::probe_devices();
  return parm_gpu_test::run_all(probe.devices.empty() ? probe.error : std::string());
}
