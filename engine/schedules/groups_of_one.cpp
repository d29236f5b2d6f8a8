// Groups of one (spec parm.md section 6): a collective over a group with one member moves nothing, so it is
// not executed and costs 0, fused or not. It is removed from the op lists once, here, so the executor, the
// timeline model, the trace ids and the stored predictions all see the same lists.
#include "engine/schedules/group_specs.h"
#include "engine/schedules/schedule_ir.h"

namespace parm {
namespace {

// Ops that exist only for their group: collectives, the MP-Split (a slice of a group of one is the whole
// tensor) and the MP-Copy (its backward is an AllReduce).
bool is_group_op(const Op& op) {
  return op.communicates() || op.kind == OpKind::Split || op.kind == OpKind::Copy;
}

}  // namespace

std::vector<Op> without_groups_of_one(const std::vector<Op>& list, const ParallelConfig& parallel) {
  const auto alone = [&](Group g) { return group_size(g, parallel) <= 1; };
  std::vector<Op> out;
  out.reserve(list.size());
  for (const Op& op : list) {
    if (op.kind == OpKind::Pipeline) {
      std::vector<Stage> kept;
      for (const Stage& s : op.stages)
        if (!alone(s.group)) kept.push_back(s);
      if (kept.empty()) continue;
      if (alone(Group::EP)) {
        // W = N_EP = 1: one step, nothing to pipeline; each stage left is its unfused collective (same
        // placement, see executor_pipeline.cpp).
        for (const Stage& s : kept) {
          Op c = ops::collective(s.kind, s.group, s.dim, op.label);
          c.direction = op.direction;
          out.push_back(std::move(c));
        }
        continue;
      }
      Op p = op;  // W steps of what is left (SAA over an MP group of one: the AlltoAll steps alone)
      p.stages = std::move(kept);
      out.push_back(std::move(p));
      continue;
    }
    if (is_group_op(op) && alone(op.group)) continue;
    out.push_back(op);
  }
  return out;
}

}  // namespace parm
