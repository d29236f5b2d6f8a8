#include "engine/run/verify.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "engine/backend/element_type.h"
#include "engine/core/sizes.h"
#include "engine/reference/reference_layer.h"
#include "engine/run/routing_validity.h"

namespace parm {

double verify_tolerance(DType dtype) {
  switch (dtype) {
    case DType::Fp32:
      return 1e-5;
    case DType::Fp64:
      return 1e-12;
    case DType::Bf16:
      return 2e-2;  // 8 significant bits: each stored activation carries up to 2^-9 relative rounding
    case DType::Fp16:
      return 1e-2;  // 11 significant bits, but a smaller range than bf16
  }
  return 0;
}

VerifyCheck verify_check_for(const Config& config, const Schedule& schedule, std::int64_t dropped,
                             std::int64_t reference_dropped) {
  const bool same_capacity =
      schedule.capacity == CapacityRule::C0 ||
      (schedule.capacity == CapacityRule::C2 && derive_sizes(config).C0 % config.parallel.mp == 0);
  const bool nothing_dropped = dropped == 0 && reference_dropped == 0;
  return !config.layer.drop_tokens || same_capacity || nothing_dropped ? VerifyCheck::Reference
                                                                       : VerifyCheck::RoutingValidity;
}

namespace {

template <typename T>
using Ref = typename HostMath<T>::type;

// The tensors compared, in report order; the expert ones are named in the report.
enum Tensor { Output, InputGrad, RouterGrad, DW1, DB1, DW3, DB3, DW2, DB2, TensorCount };
constexpr const char* kExpertNames[] = {"dW1", "db1", "dW3", "db3", "dW2", "db2"};
using Errors = std::array<double, TensorCount>;

template <typename A, typename B>
double relative_error(const A* got, const B* want, std::size_t n) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < n; ++i) {
    diff = std::max(diff, std::fabs(to_double(got[i]) - to_double(want[i])));
    scale = std::max(scale, std::fabs(to_double(want[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

// The executor's tensor in the reference's type: a copy for fp32/fp64, widened to float for 16-bit.
template <typename T>
std::vector<Ref<T>> widened(const std::vector<T>& v) {
  if constexpr (std::is_same_v<Ref<T>, T>) {
    return v;
  } else {
    std::vector<Ref<T>> out(v.size());
    std::transform(v.begin(), v.end(), out.begin(), [](T x) { return static_cast<Ref<T>>(x); });
    return out;
  }
}

// The reference's inputs as the run holds them: for 16-bit, each fp32 value rounded to T and back, so the
// fp32 reference sees exactly the run's (rounded) inputs and weights.
template <typename T>
void round_through(std::vector<Ref<T>>& v) {
  if constexpr (!std::is_same_v<Ref<T>, T>)
    for (auto& x : v) x = static_cast<Ref<T>>(T(x));
}

template <typename T>
void round_through(LayerWeights<Ref<T>>& w) {
  for (auto* v : {&w.wg, &w.w1, &w.b1, &w.w3, &w.b3, &w.w2, &w.b2}) round_through<T>(*v);
}

// A local shard (E_loc, rows, cols_local) against columns [c0, c0+cols_local) of the reference (E, rows,
// cols).
template <typename R>
double shard_error(const std::vector<R>& local, const std::vector<R>& reference, std::int64_t first_expert,
                   std::int64_t local_experts, std::int64_t rows, std::int64_t cols, std::int64_t c0,
                   std::int64_t cols_local) {
  if (local.empty()) return 0;
  std::vector<R> want(local.size());
  for (std::int64_t e = 0; e < local_experts; ++e)
    for (std::int64_t r = 0; r < rows; ++r)
      std::copy_n(reference.data() + ((first_expert + e) * rows + r) * cols + c0, cols_local,
                  want.data() + (e * rows + r) * cols_local);
  return relative_error(local.data(), want.data(), local.size());
}

// The run's inputs and weights as the reference sees them (tensor_init.h: the same generated tensors).
template <typename T>
struct ReferenceInputs {
  LayerWeights<Ref<T>> w;
  std::vector<Ref<T>> x, dout;
};

template <typename T>
ReferenceInputs<T> reference_inputs(const Config& config) {
  const LayerConfig& l = config.layer;
  const std::int64_t group_count = config.parallel.mp_groups();
  ReferenceInputs<T> in{make_weights<Ref<T>>(l, config.run.seed),
                        make_input<Ref<T>>(l, group_count, config.run.seed),
                        make_output_grad<Ref<T>>(l, group_count, config.run.seed)};
  round_through<T>(in.w);
  round_through<T>(in.x);
  round_through<T>(in.dout);
  return in;
}

// Every tensor of the executor against `ref`, worst over the world. Collective (EP, MP and world groups).
template <typename T>
Errors compare(const Config& config, const RankLayout& layout, comm::CommGroups& groups,
               const LayerExecutor<T>& executor, const ReferenceResult<Ref<T>>& ref) {
  using R = Ref<T>;
  const LayerConfig& l = config.layer;
  const std::int64_t s = l.tokens(), m = l.hidden;
  const comm::DataType sum_type = backend::comm_data_type<R>();
  Errors e{};
  const std::size_t offset = static_cast<std::size_t>(layout.mp_group * s * m);
  e[Output] =
      relative_error(executor.output().data(), ref.out.data() + offset, static_cast<std::size_t>(s * m));
  e[InputGrad] = relative_error(executor.input_grad().data(), ref.grads.dx.data() + offset,
                                static_cast<std::size_t>(s * m));

  // Router: one copy per MP group (S1 already summed its slices inside the group), summed over the groups.
  const LocalGradients<T>& got = executor.gradients();
  std::vector<R> dwg = widened(got.dwg);
  groups.ep->all_reduce(dwg.data(), dwg.size(), sum_type, comm::ReduceOp::Sum);
  e[RouterGrad] = relative_error(dwg.data(), ref.grads.dwg.data(), dwg.size());

  // Experts: whole experts are replicated over the MP group, each replica seeing a part of the tokens.
  LocalGradients<R> g{{},
                      widened(got.dw1),
                      widened(got.dw3),
                      widened(got.db1),
                      widened(got.db3),
                      widened(got.dw2),
                      widened(got.db2)};
  if (layout.esp_size == 1 && layout.mp_size > 1)
    for (auto* v : {&g.dw1, &g.db1, &g.dw3, &g.db3, &g.dw2, &g.db2})
      if (!v->empty()) groups.mp->all_reduce(v->data(), v->size(), sum_type, comm::ReduceOp::Sum);
  const LocalWeights<T>& lw = executor.weights();
  const std::int64_t h = l.ffn_hidden, hs = lw.shard, h0 = lw.h0, fe = lw.first_expert, el = lw.local_experts;
  e[DW1] = shard_error(g.dw1, ref.grads.dw1, fe, el, m, h, h0, hs);
  e[DW3] = shard_error(g.dw3, ref.grads.dw3, fe, el, m, h, h0, hs);
  e[DB1] = shard_error(g.db1, ref.grads.db1, fe, el, 1, h, h0, hs);
  e[DB3] = shard_error(g.db3, ref.grads.db3, fe, el, 1, h, h0, hs);
  e[DB2] = shard_error(g.db2, ref.grads.db2, fe, el, 1, m, 0, m);
  // W2 shards are row ranges [h0, h0+hs) of each expert's (H, M) block.
  if (!g.dw2.empty()) {
    std::vector<R> want(g.dw2.size());
    for (std::int64_t x = 0; x < el; ++x)
      std::copy_n(ref.grads.dw2.data() + ((fe + x) * h + h0) * m, hs * m, want.data() + x * hs * m);
    e[DW2] = relative_error(g.dw2.data(), want.data(), want.size());
  }
  groups.world->all_reduce(e.data(), e.size(), comm::DataType::F64, comm::ReduceOp::Max);
  return e;
}

// Every rank routes its MP group's tokens identically except in S1, where each routes its own slice: the
// routing counted (once) is each slice's in S1 and the MP group's first rank's elsewhere.
bool owns_routing(const Schedule& schedule, const RankLayout& layout) {
  return schedule.split_tokens || layout.mp_index == 0;
}

// The first token (of the MP group's S) this rank's routing covers.
std::int64_t first_routed_token(const Config& config, const Schedule& schedule, const RankLayout& layout) {
  return schedule.split_tokens ? layout.mp_index * (config.layer.tokens() / layout.mp_size) : 0;
}

// The first rule any rank broke, as "rank R: rule: ...", the same on every rank (empty when none).
// Collective.
std::string first_rule_broken(comm::Communicator& world, const std::string& mine) {
  constexpr std::size_t kLine = 240;
  std::array<char, kLine> line{};
  std::strncpy(line.data(), mine.c_str(), kLine - 1);
  std::vector<char> all(kLine * static_cast<std::size_t>(world.size()));
  world.all_gather(line.data(), all.data(), kLine);
  for (int r = 0; r < world.size(); ++r) {
    const char* text = all.data() + static_cast<std::size_t>(r) * kLine;
    if (text[0] != '\0') return "rank " + std::to_string(r) + ": " + std::string(text, strnlen(text, kLine));
  }
  return {};
}

// Every MP group's routing as the schedule made it, assembled on every rank from the ranks that own it: S1's
// slices side by side (slice j's slots shifted by j*C1, so the group's capacity is N*C1), otherwise the
// group's one routing. Collective over the world.
std::vector<kernels::cpu::Routing> gather_routings(const Config& config, const Schedule& schedule,
                                                   const RankLayout& layout, comm::Communicator& world,
                                                   const backend::HostRouting& mine) {
  const LayerConfig& l = config.layer;
  const std::int64_t s = l.tokens(), k = l.top_k, groups = config.parallel.mp_groups();
  const std::int64_t slices = schedule.split_tokens ? layout.mp_size : 1;
  std::int64_t slice_capacity = owns_routing(schedule, layout) ? mine.capacity : 0;
  world.all_reduce(&slice_capacity, 1, comm::DataType::I64, comm::ReduceOp::Max);
  // Summed over the world, each entry written by its one owner: expert + 1, and slot + 2 (1: dropped).
  std::vector<std::int64_t> codes(static_cast<std::size_t>(2 * groups * s * k), 0);
  if (owns_routing(schedule, layout)) {
    const std::int64_t base = (layout.mp_group * s + first_routed_token(config, schedule, layout)) * k;
    const std::int64_t shift = schedule.split_tokens ? layout.mp_index * slice_capacity : 0;
    for (std::size_t c = 0; c < mine.expert.size(); ++c) {
      const auto at = static_cast<std::size_t>(2 * base) + 2 * c;
      codes[at] = mine.expert[c] + 1;
      codes[at + 1] = mine.position[c] < 0 ? 1 : mine.position[c] + shift + 2;
    }
  }
  world.all_reduce(codes.data(), codes.size(), comm::DataType::I64, comm::ReduceOp::Sum);
  std::vector<kernels::cpu::Routing> out(static_cast<std::size_t>(groups));
  for (std::int64_t g = 0; g < groups; ++g) {
    kernels::cpu::Routing& r = out[static_cast<std::size_t>(g)];
    r.tokens = s;
    r.experts = l.num_experts;
    r.top_k = k;
    r.capacity = slices * slice_capacity;
    r.tokens_per_expert.assign(static_cast<std::size_t>(l.num_experts), 0);
    for (std::int64_t c = 0; c < s * k; ++c) {
      const auto at = static_cast<std::size_t>(2 * (g * s * k + c));
      r.expert.push_back(static_cast<std::int32_t>(codes[at] - 1));
      r.position.push_back(codes[at + 1] - 2);
      if (r.expert.back() >= 0 && r.expert.back() < r.experts)
        ++r.tokens_per_expert[static_cast<std::size_t>(r.expert.back())];
    }
  }
  return out;
}

void fill_errors(const Config& config, const Errors& e, VerifyReport& v) {
  v.output = e[Output];
  v.input_grad = e[InputGrad];
  v.router_grad = e[RouterGrad];
  const bool swiglu = config.layer.activation == Activation::Swiglu, bias = config.layer.bias;
  const bool present[] = {true, bias, swiglu, swiglu && bias, true, bias};
  v.expert_grads = 0;
  for (int i = 0; i < 6; ++i) {
    if (!present[i]) continue;
    v.expert_params.push_back({kExpertNames[i], e[DW1 + i]});
    v.expert_grads = std::isnan(e[DW1 + i]) ? e[DW1 + i] : std::max(v.expert_grads, e[DW1 + i]);
  }
}

}  // namespace

template <typename T>
VerifyReport verify_against_reference(const Config& config, const RankLayout& layout,
                                      comm::CommGroups& groups, const LayerExecutor<T>& executor,
                                      const backend::HostRouting* routing) {
  const LayerConfig& l = config.layer;
  const ReferenceInputs<T> in = reference_inputs<T>(config);
  const std::int64_t group_count = config.parallel.mp_groups();
  const backend::HostRouting& mine = routing ? *routing : executor.routing();
  const Schedule& schedule = executor.schedule();

  VerifyReport v;
  v.tolerance = verify_tolerance(l.dtype);
  v.dropped = owns_routing(schedule, layout) ? mine.dropped_choices() : 0;
  groups.world->all_reduce(&v.dropped, 1, comm::DataType::I64, comm::ReduceOp::Sum);
  // The reference's routing alone decides the check; the whole layer then runs once, on one routing.
  for (const auto& r : run_reference_routing<Ref<T>>(l, group_count, in.w, in.x))
    v.reference_dropped += kernels::cpu::dropped_choices(r);
  v.check = verify_check_for(config, schedule, v.dropped, v.reference_dropped);

  if (v.check == VerifyCheck::Reference) {
    const auto ref = run_reference_layer<Ref<T>>(l, group_count, in.w, in.x, in.dout);
    fill_errors(config, compare(config, layout, groups, executor, ref), v);
    v.passed = v.worst() <= v.tolerance;  // false for NaN
    return v;
  }
  // Routing validity: this rank's routing against the rules, its tokens' output rows included.
  const std::int64_t m = l.hidden, first = first_routed_token(config, schedule, layout);
  const std::int64_t tokens = schedule.split_tokens ? l.tokens() / layout.mp_size : l.tokens();
  RoutingValidity local;
  if (mine.tokens != tokens)  // the output rows read below are the routing's tokens
    local.rule_broken = "routing shape: " + std::to_string(mine.tokens) + " tokens routed, expected " +
                        std::to_string(tokens);
  else
    local = check_routing(mine, executor.output().data() + first * m, m);
  v.rule_broken = first_rule_broken(*groups.world, local.rule_broken);
  const bool owner = owns_routing(schedule, layout);
  std::array<std::int64_t, 4> counts{};
  if (owner)
    counts = {local.counts.kept, local.counts.dropped, local.counts.dropped_tokens,
              local.counts.capacity_slots};
  groups.world->all_reduce(counts.data(), counts.size(), comm::DataType::I64, comm::ReduceOp::Sum);
  v.routing = {counts[0], counts[1], counts[2], counts[3]};
  if (!v.rule_broken.empty()) {  // an invalid routing is not run through the reference
    Errors none;
    none.fill(std::numeric_limits<double>::quiet_NaN());
    fill_errors(config, none, v);
    v.passed = false;
    return v;
  }
  const auto routings = gather_routings(config, schedule, layout, *groups.world, mine);
  const auto on_routing =
      run_reference_layer_on_routing<Ref<T>>(l, group_count, in.w, in.x, in.dout, routings);
  fill_errors(config, compare(config, layout, groups, executor, on_routing), v);
  v.passed = v.worst() <= v.tolerance;
  return v;
}

#define PARM_INSTANTIATE_VERIFY(T)                                                                       \
  template VerifyReport verify_against_reference<T>(const Config&, const RankLayout&, comm::CommGroups&, \
                                                    const LayerExecutor<T>&, const backend::HostRouting*);
PARM_INSTANTIATE_VERIFY(float)
PARM_INSTANTIATE_VERIFY(double)
PARM_INSTANTIATE_VERIFY(Bf16)
PARM_INSTANTIATE_VERIFY(F16)
#undef PARM_INSTANTIATE_VERIFY

}  // namespace parm
