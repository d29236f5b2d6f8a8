// Backward derivation (spec parm.md section 3): walk the forward list in reverse and replace each op by its
// backward. Whether an AllGather's backward needs communication depends on the gradient arriving at its
// output: replicated over the group (complete on every peer) -> keep this rank's slice (Split); partial sums
// (H-sharded experts produced it) -> ReduceScatter. That state is tracked here, so builders never write a
// backward list.
#include "engine/schedules/schedule_ir.h"

namespace parm {
namespace {

enum class Grad { Complete, Partial };

struct Mapped {
  std::vector<Op> local_before;  // Splits that replace gathers, run before the communicating part
  std::vector<Stage> stages;     // communicating backward steps, in data order
};

// The backward of one collective step; updates the gradient state.
void map_step(OpKind kind, Group group, Dim dim, Grad& grad, Mapped& out, const std::string& label) {
  switch (kind) {
    case OpKind::AllGather:
      if (grad == Grad::Complete) {
        out.local_before.push_back(ops::split(group, dim, label));
      } else {
        out.stages.push_back({OpKind::ReduceScatter, group, dim});
      }
      grad = Grad::Complete;
      return;
    case OpKind::ReduceScatter:
      out.stages.push_back({OpKind::AllGather, group, dim});
      grad = Grad::Complete;  // every peer now holds the complete gradient of every block it summed
      return;
    case OpKind::AlltoAll:
      out.stages.push_back({OpKind::AlltoAll, group, dim});
      return;
    default:
      return;
  }
}

Op backward_local(const Op& f) {
  Op b = f;
  b.direction = Direction::Backward;
  return b;
}

Op stage_op(const Stage& s, const std::string& label) {
  Op op = ops::collective(s.kind, s.group, s.dim, label);
  op.direction = Direction::Backward;
  return op;
}

bool is_intra_collective(const Op& op) {
  return (op.kind == OpKind::AllGather || op.kind == OpKind::ReduceScatter) && op.group != Group::EP;
}

// Fused schedules pipeline their backward collectives too: an AlltoAll followed by an AllGather becomes SAA,
// and a pipeline ending in an AlltoAll absorbs the intra-node collective after it (RSA + AllGather =
// RS>A2A>AG).
std::vector<Op> fuse_backward(std::vector<Op> in) {
  std::vector<Op> out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    Op op = in[i];
    const bool has_next = i + 1 < in.size();
    if (has_next && op.kind == OpKind::AlltoAll && is_intra_collective(in[i + 1])) {
      Op p = ops::pipeline({{op.kind, op.group, op.dim}, {in[i + 1].kind, in[i + 1].group, in[i + 1].dim}},
                           op.label);
      p.direction = Direction::Backward;
      out.push_back(p);
      ++i;
      continue;
    }
    if (has_next && op.kind == OpKind::Pipeline && op.stages.back().kind == OpKind::AlltoAll &&
        is_intra_collective(in[i + 1])) {
      op.stages.push_back({in[i + 1].kind, in[i + 1].group, in[i + 1].dim});
      out.push_back(op);
      ++i;
      continue;
    }
    out.push_back(op);
  }
  return out;
}

}  // namespace

std::vector<Op> derive_backward(const std::vector<Op>& forward, bool fused) {
  std::vector<Op> bwd;
  Grad grad = Grad::Complete;  // the layer's output gradient is replicated over MP, like its output
  for (auto it = forward.rbegin(); it != forward.rend(); ++it) {
    const Op& f = *it;
    switch (f.kind) {
      case OpKind::Gate:
        bwd.push_back(backward_local(f));
        if (f.token_slice) {  // each MP rank saw different tokens: sum the router gradient over the group
          Op ar = ops::collective(OpKind::GradAllReduce, Group::MP, Dim::None, "router grad");
          ar.direction = Direction::Backward;
          bwd.push_back(ar);
        }
        break;
      case OpKind::Order:
      case OpKind::Combine:
        bwd.push_back(backward_local(f));
        break;
      case OpKind::Experts:
        bwd.push_back(backward_local(f));
        grad = f.h_sharded ? Grad::Partial : Grad::Complete;
        break;
      case OpKind::Split: {
        Op ag = ops::collective(OpKind::AllGather, f.group, f.dim, f.label);
        ag.direction = Direction::Backward;
        bwd.push_back(ag);
        break;
      }
      case OpKind::Copy: {
        Op ar = ops::collective(OpKind::AllReduce, f.group, Dim::None, f.label);
        ar.direction = Direction::Backward;
        bwd.push_back(ar);
        grad = Grad::Complete;
        break;
      }
      case OpKind::AllReduce:
        grad = Grad::Complete;
        break;  // backward of a replicated sum is the identity
      case OpKind::AllGather:
      case OpKind::ReduceScatter:
      case OpKind::AlltoAll:
      case OpKind::Pipeline: {
        Mapped m;
        const std::vector<Stage> steps =
            f.kind == OpKind::Pipeline ? f.stages : std::vector<Stage>{{f.kind, f.group, f.dim}};
        for (auto s = steps.rbegin(); s != steps.rend(); ++s)
          map_step(s->kind, s->group, s->dim, grad, m, f.label);
        for (auto& local : m.local_before) {
          local.direction = Direction::Backward;
          bwd.push_back(local);
        }
        if (m.stages.size() == 1) {
          bwd.push_back(stage_op(m.stages[0], f.label));
        } else if (m.stages.size() > 1) {
          Op p = ops::pipeline(m.stages, f.label);
          p.direction = Direction::Backward;
          bwd.push_back(p);
        }
        break;
      }
      case OpKind::GradAllReduce:
        break;  // only ever emitted in backward lists
      case OpKind::CapacitySync:
        break;  // a host decision of the forward pass; backward reuses its routing
      case OpKind::ChunkSplit:
      case OpKind::ChunkMerge:
        break;  // chunking is applied to both lists after the derivation (apply_pipeline_degree)
    }
  }
  return fused ? fuse_backward(std::move(bwd)) : bwd;
}

}  // namespace parm
