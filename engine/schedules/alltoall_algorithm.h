// How a schedule carries out its EP AlltoAll (issue 19). Flat: one exchange over the EP group, W - 1
// messages per rank, W - L of them between nodes. Hierarchical (2DH, as Tutel and DeepSpeed offer it): the
// blocks are transposed so that each of the L EP ranks of this node gets everything bound for its local
// index, exchanged inside the node (EP-intra, L - 1 messages of N_nodes blocks), transposed again and
// exchanged between the nodes' ranks of the same local index (EP-inter, N_nodes - 1 messages of L blocks):
// fewer, larger inter-node messages for one more intra-node exchange and two local passes. The result is
// the flat AlltoAll's, block for block. It is data: the ops carry Op::algorithm, the executor and the
// timeline model read it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/core/config.h"
#include "engine/schedules/schedule_ir.h"

namespace parm {

inline constexpr AlltoAllAlgorithm kAlltoAllAlgorithms[] = {AlltoAllAlgorithm::Flat,
                                                            AlltoAllAlgorithm::Hierarchical};

std::string_view to_string(AlltoAllAlgorithm a);  // "flat", "2dh"
std::optional<AlltoAllAlgorithm> parse_alltoall_algorithm(std::string_view name);

// The EP group seen by nodes (rank_layout.h): L = G / N_MP EP ranks per node, `nodes` = P / G of them.
struct HierarchicalShape {
  std::int64_t local = 1;  // L
  std::int64_t nodes = 1;
  std::int64_t ep() const { return local * nodes; }
};
HierarchicalShape hierarchical_shape(const ParallelConfig& parallel);

// Whether 2DH differs from flat on this layout: an EP group with 2+ ranks on a node spanning 2+ nodes.
// Elsewhere one of its two exchanges is over a group of one and it is the flat AlltoAll (spec section 6:
// such a collective is not executed), so build_schedule leaves the ops flat.
bool hierarchical_alltoall_applies(const ParallelConfig& parallel);

// Messages one rank sends per AlltoAll: in total, and between nodes.
struct AlltoAllMessages {
  std::int64_t total = 0, inter_node = 0;
  std::int64_t inter_node_blocks = 0;  // blocks (1/W of the send buffer) per inter-node message
};
AlltoAllMessages alltoall_messages(const ParallelConfig& parallel, AlltoAllAlgorithm a);

// Sets every AlltoAll op of both lists to `a` where it applies on `parallel` (else leaves them flat).
void apply_alltoall_algorithm(Schedule& schedule, AlltoAllAlgorithm a, const ParallelConfig& parallel);

}  // namespace parm
