// `parm run --dump-routing FILE`: the routing of each MP group's tokens as the gate made it (per token its
// top-k experts, gate probability, combine weight, kept or dropped, slot), one JSON document per run that
// rank 0 assembles from every rank's gate calls. README "Routing dump" documents the format.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/backend/compute.h"
#include "engine/core/config.h"
#include "engine/core/rank_layout.h"

namespace parm {

template <typename T>
class LayerExecutor;

// One gate call of one rank: all S tokens of its MP group, or (S1, S1F) the slice of S/N_MP tokens starting
// at first_token.
struct GateCall {
  ScheduleKind schedule = ScheduleKind::B_DS;
  std::int64_t rank = 0, mp_group = 0, first_token = 0;
  backend::HostRouting routing;     // choices, slots (-1: dropped), loads, capacity
  std::vector<double> probability;  // tokens*k: the gate probability of each choice
  std::vector<double> weight;       // tokens*k: its combine weight (0 when dropped)
};

// The gate call of `exec`'s last forward, or nothing when the MP peer with mp_index 0 holds the same one
// (every MP peer gates the same S = `group_tokens` tokens unless the schedule splits them).
template <typename T>
std::vector<GateCall> gate_calls_of(const LayerExecutor<T>& exec, ScheduleKind kind, const RankLayout& layout,
                                    std::int64_t group_tokens);

nlohmann::json to_json(const GateCall& call);
GateCall gate_call_from_json(const nlohmann::json& j);

// Rank 0: the document of every schedule's gate calls of every MP group. `logits_source` is the
// --gate-logits file ("" when the gate computed x*Wg).
nlohmann::json routing_dump_document(const Config& config, std::vector<GateCall> calls,
                                     const std::string& logits_source);

}  // namespace parm
