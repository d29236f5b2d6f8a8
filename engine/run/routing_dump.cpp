#include "engine/run/routing_dump.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <tuple>

#include "engine/backend/element_type.h"
#include "engine/run/executor.h"

namespace parm {
namespace {

using nlohmann::json;

// Rows of `k` values per token: what a Python user indexes as doc[...]["expert"][token][choice].
template <typename V>
json rows(const std::vector<V>& flat, std::int64_t k) {
  json out = json::array();
  for (std::size_t i = 0; i < flat.size(); i += static_cast<std::size_t>(k))
    out.push_back(
        json(std::vector<V>(flat.begin() + static_cast<std::ptrdiff_t>(i),
                            flat.begin() + static_cast<std::ptrdiff_t>(i + static_cast<std::size_t>(k)))));
  return out;
}

}  // namespace

template <typename T>
std::vector<GateCall> gate_calls_of(const LayerExecutor<T>& exec, ScheduleKind kind, const RankLayout& layout,
                                    std::int64_t group_tokens) {
  const backend::HostRouting& r = exec.routing();
  if (r.tokens == group_tokens && layout.mp_index != 0) return {};  // the same call as MP peer 0's
  GateCall call;
  call.schedule = kind;
  call.rank = layout.rank;
  call.mp_group = layout.mp_group;
  call.first_token = exec.gate_token_offset();
  call.routing = r;
  const std::vector<T> probs = exec.gate_probabilities(), weights = exec.combine_weights();
  const std::size_t choices = r.expert.size();
  call.probability.resize(choices);
  call.weight.resize(choices);
  for (std::size_t c = 0; c < choices; ++c) {
    const std::size_t token = c / static_cast<std::size_t>(r.top_k);
    call.probability[c] =
        to_double(probs[token * static_cast<std::size_t>(r.experts) + static_cast<std::size_t>(r.expert[c])]);
    call.weight[c] = to_double(weights[c]);
  }
  return {call};
}

json to_json(const GateCall& c) {
  const backend::HostRouting& r = c.routing;
  return {{"schedule", std::string(to_string(c.schedule))},
          {"rank", c.rank},
          {"mp_group", c.mp_group},
          {"first_token", c.first_token},
          {"tokens", r.tokens},
          {"experts", r.experts},
          {"top_k", r.top_k},
          {"capacity", r.capacity},
          {"expert", r.expert},
          {"position", r.position},
          {"tokens_per_expert", r.tokens_per_expert},
          {"probability", c.probability},
          {"weight", c.weight}};
}

GateCall gate_call_from_json(const json& j) {
  GateCall c;
  const auto kind = parse_schedule(j.at("schedule").get<std::string>());
  if (!kind) throw std::runtime_error("routing dump: unknown schedule " + j.at("schedule").dump());
  c.schedule = *kind;
  c.rank = j.at("rank").get<std::int64_t>();
  c.mp_group = j.at("mp_group").get<std::int64_t>();
  c.first_token = j.at("first_token").get<std::int64_t>();
  backend::HostRouting& r = c.routing;
  r.tokens = j.at("tokens").get<std::int64_t>();
  r.experts = j.at("experts").get<std::int64_t>();
  r.top_k = j.at("top_k").get<std::int64_t>();
  r.capacity = j.at("capacity").get<std::int64_t>();
  r.expert = j.at("expert").get<std::vector<std::int32_t>>();
  r.position = j.at("position").get<std::vector<std::int64_t>>();
  r.tokens_per_expert = j.at("tokens_per_expert").get<std::vector<std::int64_t>>();
  c.probability = j.at("probability").get<std::vector<double>>();
  c.weight = j.at("weight").get<std::vector<double>>();
  return c;
}

json routing_dump_document(const Config& config, std::vector<GateCall> calls,
                           const std::string& logits_source) {
  const LayerConfig& l = config.layer;
  // Registry order of the schedules run, then MP group, then token slice.
  std::stable_sort(calls.begin(), calls.end(), [](const GateCall& a, const GateCall& b) {
    return std::tuple(static_cast<int>(a.schedule), a.mp_group, a.first_token) <
           std::tuple(static_cast<int>(b.schedule), b.mp_group, b.first_token);
  });
  json schedules = json::array();
  for (std::size_t i = 0; i < calls.size();) {
    const ScheduleKind kind = calls[i].schedule;
    json groups = json::array();
    std::int64_t gated = calls[i].routing.tokens, capacity = calls[i].routing.capacity;
    while (i < calls.size() && calls[i].schedule == kind) {
      const std::int64_t group = calls[i].mp_group;
      std::vector<std::int32_t> expert;
      std::vector<std::int64_t> slot;
      std::vector<double> probability, weight;
      std::vector<bool> kept;
      json loads = json::array(), firsts = json::array();
      for (; i < calls.size() && calls[i].schedule == kind && calls[i].mp_group == group; ++i) {
        const GateCall& c = calls[i];
        expert.insert(expert.end(), c.routing.expert.begin(), c.routing.expert.end());
        slot.insert(slot.end(), c.routing.position.begin(), c.routing.position.end());
        for (std::int64_t p : c.routing.position) kept.push_back(p >= 0);
        probability.insert(probability.end(), c.probability.begin(), c.probability.end());
        weight.insert(weight.end(), c.weight.begin(), c.weight.end());
        loads.push_back(c.routing.tokens_per_expert);
        firsts.push_back(c.first_token);
      }
      groups.push_back({{"group", group},
                        {"expert", rows(expert, l.top_k)},
                        {"probability", rows(probability, l.top_k)},
                        {"weight", rows(weight, l.top_k)},
                        {"kept", rows(kept, l.top_k)},
                        {"slot", rows(slot, l.top_k)},
                        {"gate_call_first_token", firsts},
                        {"tokens_per_expert", loads}});
    }
    schedules.push_back({{"schedule", std::string(to_string(kind))},
                         {"gated_tokens", gated},
                         {"gate_calls_per_group", l.tokens() / std::max<std::int64_t>(1, gated)},
                         {"capacity", capacity},
                         {"groups", groups}});
  }
  return {{"format", "parm-routing/1"},
          {"config", config.name},
          {"iteration",
           "the last measured iteration; weights and input do not change between iterations, so every "
           "iteration (warm-up included) routes the same way"},
          {"S", l.tokens()},
          {"E", l.num_experts},
          {"k", l.top_k},
          {"groups", config.parallel.mp_groups()},
          {"capacity_factor", l.capacity_factor},
          {"min_capacity", l.min_capacity},
          {"capacity_rounding", std::string(to_string(l.capacity_rounding))},
          {"drop_tokens", l.drop_tokens},
          {"gate_logits", logits_source.empty() ? json(nullptr) : json(logits_source)},
          {"schedules", schedules}};
}

template std::vector<GateCall> gate_calls_of<float>(const LayerExecutor<float>&, ScheduleKind,
                                                    const RankLayout&, std::int64_t);
template std::vector<GateCall> gate_calls_of<double>(const LayerExecutor<double>&, ScheduleKind,
                                                     const RankLayout&, std::int64_t);
template std::vector<GateCall> gate_calls_of<Bf16>(const LayerExecutor<Bf16>&, ScheduleKind,
                                                   const RankLayout&, std::int64_t);
template std::vector<GateCall> gate_calls_of<F16>(const LayerExecutor<F16>&, ScheduleKind, const RankLayout&,
                                                  std::int64_t);

}  // namespace parm
