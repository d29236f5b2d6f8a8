// The schedule IR: a schedule is data, a list of ops (spec parm.md sections 3 and 4). Builders
// (schedule_*.cpp) write the forward list; the backward list is derived from it by the table of section 3
// (schedule_backward.cpp); the executor runs both on any backend.
//
// The activation flowing through the list is one tensor at a time. Token tensors are (rows, M). Dispatched
// tensors are (outer, experts, slots, M), expert-major: on the sender side (1, E, C, M); after the AlltoAll
// on the expert side (W, E_loc, c, M) with outer = source EP rank; after an AllGather over N peers (N*W,
// E_loc, c, M), peer-major.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/config.h"

namespace parm {

enum class OpKind {
  // Local compute (the compute lane).
  Gate,
  Order,
  Experts,
  Combine,
  // Local data movement: keep this rank's 1/N slice along `dim`; no communication.
  Split,
  // Collectives (intra lane for MP/ESP, inter lane for EP).
  AllGather,
  ReduceScatter,
  AllReduce,
  AlltoAll,
  Copy,           // MP-Copy: identity forward (Megatron ColumnParallel input), AllReduce backward
  Pipeline,       // fused collectives run over W = N_EP pairwise steps, stages on two lanes (SAA, RSA,
                  // RS->A2A->AG)
  GradAllReduce,  // sum of a parameter gradient over a group (S1's router gradient)
  CapacitySync,   // host sync point after the gate: the no-drop capacity agreed over the world (max load)
  // Pipeline degree r > 1 (chunk_plan.h): the dispatched tensor is cut into r capacity chunks before the
  // chunked ops and put back together after them (local copies on the compute lane).
  ChunkSplit,
  ChunkMerge,
};

enum class Group { None, MP, ESP, EP };
// Tokens: rows of a token tensor. Capacity: the slot dimension of a dispatched tensor (interleaved so the
// result is again (outer, E, C, M)). Peer: the outer dimension, peer-major (what experts consume unchanged).
enum class Dim { None, Tokens, Capacity, Peer };
enum class Direction { Forward, Backward };
enum class CapacityRule {
  C0,
  C1,
  C2
};  // capacity of S tokens / of S/N tokens / C0 rounded up to a multiple of N

// How an EP AlltoAll op is carried out (alltoall_algorithm.h): one flat exchange, or hierarchically (2DH).
enum class AlltoAllAlgorithm { Flat, Hierarchical };

// One collective step inside a Pipeline op.
struct Stage {
  OpKind kind = OpKind::AlltoAll;  // AlltoAll, AllGather or ReduceScatter
  Group group = Group::EP;
  Dim dim = Dim::None;
};

struct Op {
  OpKind kind = OpKind::Gate;
  Group group = Group::None;
  Dim dim = Dim::None;
  Direction direction = Direction::Forward;
  std::string label;  // what moves or what runs: "dispatch", "combine", "expert output", "tokens", ...
  std::vector<Stage> stages;  // Pipeline only, in data order
  // Experts only: H-sharded over the ESP group (outputs are partial sums over H), and how many identical
  // copies of each token it processes (B0 gathers N identical blocks; parameter gradients are divided by it).
  bool h_sharded = false;
  int redundancy = 1;
  // Gate only: the gate saw a 1/N token slice, so its parameter gradient is a partial sum over the MP group.
  bool token_slice = false;
  // Runs once per capacity chunk, the chunks pipelined over the lanes (pipeline degree > 1, chunk_plan.h).
  bool chunked = false;
  // AlltoAll only: flat, or the two-stage hierarchical exchange over EP-intra and EP-inter.
  AlltoAllAlgorithm algorithm = AlltoAllAlgorithm::Flat;

  bool communicates() const;
  // "AlltoAll(EP)", "AlltoAll(EP,2DH)", "AllGather(ESP,peer)", "SAA", "RSA", "RS>A2A>AG", "experts",
  // "gate_bwd", ...
  std::string name() const;
};

struct Schedule {
  ScheduleKind kind = ScheduleKind::B_DS;
  CapacityRule capacity = CapacityRule::C0;
  bool split_tokens = false;  // S1: each MP rank gates its own S/N tokens
  bool fused = false;         // fused pipelines are formed in the backward list too
  // Pipeline degree r per direction (chunk_plan.h): how many capacity chunks the chunked ops run on; 1 =
  // none.
  int forward_degree = 1;
  int backward_degree = 1;
  int degree(Direction d) const { return d == Direction::Forward ? forward_degree : backward_degree; }
  // What its AlltoAll ops use (Flat where the layout makes 2DH the flat exchange).
  AlltoAllAlgorithm alltoall = AlltoAllAlgorithm::Flat;
  std::vector<Op> forward;
  std::vector<Op> backward;
};

std::string_view to_string(OpKind k);
std::string_view to_string(Group g);  // group_specs.h: the group table
std::string_view to_string(Dim d);

// Builds forward and backward op lists of `kind` for the layout's N_MP, N_ESP and N_EP (validated
// configuration), from the schedule's registry entry (schedule_registry.h). Ops over a group of one are not
// in the lists (without_groups_of_one): everything that reads them (executor, timeline model, traces) sees
// only collectives that move data.
Schedule build_schedule(ScheduleKind kind, const ParallelConfig& parallel);

// Spec section 6: a collective over a group of one (N_MP = 1, N_ESP = 1, N_EP = 1) is not executed and costs
// 0, fused or not. Drops every collective, Split, Copy and GradAllReduce over a group of one and every
// pipeline stage over one, and a pipeline with no stage left; with N_EP = 1 (W = 1) a pipeline's remaining
// stages become their unfused collectives, else it stays a pipeline of W steps of them (SAA over an MP group
// of one is W AlltoAll steps).
std::vector<Op> without_groups_of_one(const std::vector<Op>& list, const ParallelConfig& parallel);

// The backward list: each forward op's backward (section 3), in reverse order, with gradient-replication
// tracking deciding whether an AllGather's backward is a Split (replicated gradient) or a ReduceScatter
// (partial sums).
std::vector<Op> derive_backward(const std::vector<Op>& forward, bool fused);

// With a dynamic capacity (layer.drop_tokens false) the forward list carries a CapacitySync after the gate:
// the one point where the host reads device results (the expert loads) in the middle of a pass.
void add_capacity_sync(Schedule& schedule);

// Small constructors the builders share.
namespace ops {
Op gate(bool token_slice = false);
Op order();
Op experts(bool h_sharded, int redundancy = 1);
Op combine();
Op split(Group g, Dim d, std::string label);
Op collective(OpKind kind, Group g, Dim d, std::string label);
Op pipeline(std::vector<Stage> stages, std::string label);
}  // namespace ops

}  // namespace parm
