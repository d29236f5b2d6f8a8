#include "engine/schedules/schedule_ir.h"

#include <algorithm>

#include "engine/schedules/alltoall_algorithm.h"
#include "engine/schedules/chunk_plan.h"
#include "engine/schedules/schedule_registry.h"

namespace parm {

std::string_view to_string(OpKind k) {
  switch (k) {
    case OpKind::Gate:
      return "gate";
    case OpKind::Order:
      return "order";
    case OpKind::Experts:
      return "experts";
    case OpKind::Combine:
      return "combine";
    case OpKind::Split:
      return "Split";
    case OpKind::AllGather:
      return "AllGather";
    case OpKind::ReduceScatter:
      return "ReduceScatter";
    case OpKind::AllReduce:
      return "AllReduce";
    case OpKind::AlltoAll:
      return "AlltoAll";
    case OpKind::Copy:
      return "Copy";
    case OpKind::Pipeline:
      return "Pipeline";
    case OpKind::GradAllReduce:
      return "GradAllReduce";
    case OpKind::CapacitySync:
      return "capacity_sync";
    case OpKind::ChunkSplit:
      return "chunk_split";
    case OpKind::ChunkMerge:
      return "chunk_merge";
  }
  return "?";
}

std::string_view to_string(Dim d) {
  switch (d) {
    case Dim::None:
      return "-";
    case Dim::Tokens:
      return "tokens";
    case Dim::Capacity:
      return "capacity";
    case Dim::Peer:
      return "peer";
  }
  return "?";
}

bool Op::communicates() const {
  switch (kind) {
    case OpKind::AllGather:
    case OpKind::ReduceScatter:
    case OpKind::AllReduce:
    case OpKind::AlltoAll:
    case OpKind::Pipeline:
    case OpKind::GradAllReduce:
      return true;
    case OpKind::Copy:
      return direction == Direction::Backward;  // never emitted backward; AllReduce is
    default:
      return false;
  }
}

namespace {
std::string_view stage_abbrev(OpKind k) {
  switch (k) {
    case OpKind::AlltoAll:
      return "A2A";
    case OpKind::AllGather:
      return "AG";
    case OpKind::ReduceScatter:
      return "RS";
    default:
      return "?";
  }
}
}  // namespace

std::string Op::name() const {
  const bool bwd = direction == Direction::Backward;
  switch (kind) {
    case OpKind::Gate:
    case OpKind::Order:
    case OpKind::Experts:
    case OpKind::Combine:
      return std::string(to_string(kind)) + (bwd ? "_bwd" : "");
    case OpKind::CapacitySync:
    case OpKind::ChunkSplit:
    case OpKind::ChunkMerge:
      return std::string(to_string(kind));
    case OpKind::Pipeline: {
      if (stages.size() == 2 && stages[0].kind == OpKind::AlltoAll && stages[1].kind == OpKind::AllGather)
        return "SAA";
      if (stages.size() == 2 && stages[0].kind == OpKind::ReduceScatter && stages[1].kind == OpKind::AlltoAll)
        return "RSA";
      std::string n;
      for (const auto& s : stages) {
        if (!n.empty()) n.push_back('>');
        n.append(stage_abbrev(s.kind));
      }
      return n;
    }
    default: {
      // Built with append: GCC 12 reports a false -Wrestrict on chains of operator+ over short strings.
      std::string n(to_string(kind));
      n.push_back('(');
      n.append(to_string(group));
      if (dim != Dim::None) {
        n.push_back(',');
        n.append(to_string(dim));
      }
      if (kind == OpKind::AlltoAll && algorithm == AlltoAllAlgorithm::Hierarchical) n.append(",2DH");
      n.push_back(')');
      return n;
    }
  }
}

void add_capacity_sync(Schedule& schedule) {
  auto& f = schedule.forward;
  const auto gate = std::find_if(f.begin(), f.end(), [](const Op& op) { return op.kind == OpKind::Gate; });
  if (gate == f.end() || (gate + 1 != f.end() && (gate + 1)->kind == OpKind::CapacitySync)) return;
  Op sync;
  sync.kind = OpKind::CapacitySync;
  sync.label = "capacity";
  f.insert(gate + 1, sync);
}

namespace ops {

Op gate(bool token_slice) {
  Op op;
  op.kind = OpKind::Gate;
  op.label = "gate";
  op.token_slice = token_slice;
  return op;
}

Op order() {
  Op op;
  op.kind = OpKind::Order;
  op.label = "order";
  return op;
}

Op experts(bool h_sharded, int redundancy) {
  Op op;
  op.kind = OpKind::Experts;
  op.label = "experts";
  op.h_sharded = h_sharded;
  op.redundancy = redundancy;
  return op;
}

Op combine() {
  Op op;
  op.kind = OpKind::Combine;
  op.label = "combine";
  return op;
}

Op split(Group g, Dim d, std::string label) {
  return collective(OpKind::Split, g, d, std::move(label));
}

Op collective(OpKind kind, Group g, Dim d, std::string label) {
  Op op;
  op.kind = kind;
  op.group = g;
  op.dim = d;
  op.label = std::move(label);
  return op;
}

Op pipeline(std::vector<Stage> stages, std::string label) {
  Op op;
  op.kind = OpKind::Pipeline;
  op.group = Group::EP;
  op.stages = std::move(stages);
  op.label = std::move(label);
  return op;
}

}  // namespace ops

Schedule build_schedule(ScheduleKind kind, const ParallelConfig& parallel) {
  const ScheduleSpec& spec = spec_of(kind);
  Schedule s;
  s.kind = kind;
  s.forward = spec.forward(parallel);
  s.capacity = spec.capacity.of(has_whole_experts(parallel));
  s.split_tokens = spec.split_tokens;
  // A forward list that pipelines collectives gets a pipelined backward too (S2 with whole experts fuses
  // its last AlltoAll+AllGather although it is not a fused variant).
  s.fused = spec.fused || std::any_of(s.forward.begin(), s.forward.end(),
                                      [](const Op& op) { return op.kind == OpKind::Pipeline; });
  s.backward = derive_backward(s.forward, s.fused);
  // After the derivation: its gradient-replication rule reads the full list (an AllGather over a group of
  // one still decides what its backward is, before both are dropped).
  s.forward = without_groups_of_one(s.forward, parallel);
  s.backward = without_groups_of_one(s.backward, parallel);
  apply_alltoall_algorithm(s, spec.alltoall, parallel);
  // Last: the chunked region is what is left between the order and the combine.
  apply_pipeline_degree(s, spec.pipeline_degree.forward, spec.pipeline_degree.backward);
  return s;
}

}  // namespace parm
