#include "engine/schedules/schedule_ir.h"

#include <algorithm>

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
  }
  return "?";
}

std::string_view to_string(Group g) {
  switch (g) {
    case Group::None:
      return "-";
    case Group::MP:
      return "MP";
    case Group::ESP:
      return "ESP";
    case Group::EP:
      return "EP";
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
  Schedule s;
  s.kind = kind;
  const bool whole_experts = parallel.esp == 1 && parallel.mp > 1;
  switch (kind) {
    case ScheduleKind::B_DS:
    case ScheduleKind::B_DS2:
    case ScheduleKind::B0:
      s.forward = build_forward_baseline(kind, parallel);
      s.capacity = (kind == ScheduleKind::B0 || (kind == ScheduleKind::B_DS && !whole_experts))
                       ? CapacityRule::C0
                       : CapacityRule::C2;
      break;
    case ScheduleKind::S1:
    case ScheduleKind::S1F:
      s.fused = kind == ScheduleKind::S1F;
      s.forward = build_forward_s1(s.fused, parallel);
      s.capacity = CapacityRule::C1;
      s.split_tokens = true;
      break;
    case ScheduleKind::S2:
    case ScheduleKind::S2F:
      // With whole experts S2 is already B_DS with its last AlltoAll+AllGather fused (spec section 4).
      s.fused = kind == ScheduleKind::S2F || whole_experts;
      s.forward = build_forward_s2(kind == ScheduleKind::S2F, parallel);
      s.capacity = CapacityRule::C2;
      break;
  }
  s.backward = derive_backward(s.forward, s.fused);
  return s;
}

}  // namespace parm
