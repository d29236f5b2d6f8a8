// Fused pipelines (spec parm.md section 4): W = N_EP pairwise steps. At step i this rank (EP index q) sends
// the chunk for dst = (q+i) mod W and receives the chunk from src = (q-i) mod W. Stages run on the stream of
// their group; stage s of step i waits for stage s-1 of step i only, so the AlltoAll of step i+1 (inter
// stream) overlaps the gather/scatter of step i (intra stream). Step 0 of the first stage waits for the op
// before the pipeline; the op after it waits for the last stage's last step (which follows every other step).
#include <algorithm>
#include <string>
#include <vector>

#include "engine/run/executor.h"
#include "engine/run/executor_support.h"
#include "engine/schedules/group_specs.h"
#include "engine/schedules/pipeline_plan.h"

namespace parm {

template <typename T>
void LayerExecutor<T>::run_pipeline(const Op& op, std::size_t index) {
  backend::StreamCommunicator& ep = comm_for(Group::EP, true);
  const Group local_group =
      op.stages.front().group == Group::EP ? op.stages.back().group : op.stages.front().group;
  const std::int64_t W = ep.size(), q = ep.rank(), N = comm_for(local_group, true).size();
  const std::size_t S = op.stages.size();
  FlowTensor<T>& f = flow_;
  // A step's trace chunk: the step, or inside capacity chunk k of a pipelined region, k * W + step.
  const auto trace_step = [&](std::int64_t i, std::int64_t steps) {
    return trace_chunk_ < 0 ? i : trace_chunk_ * steps + i;
  };
  const bool rs_first = op.stages.front().kind == OpKind::ReduceScatter;
  const bool ag_last = op.stages.back().kind == OpKind::AllGather;
  const Dim ag_dim = op.stages.back().dim;
  const comm::DataType type = detail::data_type<T>();

  // Geometry: chunks are one EP peer's (E_loc, c, M) block.
  FlowTensor<T> shape = f;
  if (rs_first) shape.outer /= N;  // after the ReduceScatter: (W, E_loc, c, M)
  const std::int64_t blk = shape.elements() / W;
  const std::int64_t el_c = shape.outer * shape.experts / W;  // experts per chunk: E_loc
  FlowTensor<T> out_shape = shape;
  detail::flip_sides(out_shape, W);
  const backend::View<T> input = f.data;
  const backend::View<T> exchanged = allocate(W * blk);  // chunk src at position src
  const backend::View<T> scattered = rs_first ? allocate(W * blk) : backend::View<T>{};
  const backend::View<T> packed = rs_first ? allocate(W * N * blk) : backend::View<T>{};
  const backend::View<T> gathered = ag_last ? allocate(W * N * blk) : backend::View<T>{};
  const backend::View<T> output = ag_last ? allocate(W * N * blk) : backend::View<T>{};
  if (ag_last) {
    if (ag_dim == Dim::Capacity) {
      out_shape.slot_count *= N;
    } else {
      out_shape.outer *= N;  // peer-major (N*W, E_loc, c, M)
    }
  }

  auto enqueue_stage = [&](backend::Stream& s, const Stage& st, std::int64_t i) {
    const std::int64_t dst = (q + i) % W, src = (q - i + W) % W;
    if (st.kind == OpKind::AlltoAll) {
      const T* send = (rs_first ? scattered : input).data() + dst * blk;
      ep.send_recv(s, send, static_cast<std::size_t>(blk), static_cast<int>(dst),
                   exchanged.data() + src * blk, static_cast<std::size_t>(blk), static_cast<int>(src), type);
    } else if (st.kind == OpKind::ReduceScatter) {  // pieces [p][dst] of the peer-major input, summed
      const backend::View<T> pack = packed.slice(dst * N * blk, N * blk);
      compute_.copy_blocks(s, input, pack, layout::pack_peer_pieces(N, W, dst, blk));
      comm_for(st.group, true)
          .reduce_scatter(s, pack.data(), scattered.data() + dst * blk, static_cast<std::size_t>(blk), type);
    } else {  // AllGather of the chunk received from src, placed as the unfused AllGather would place it
      const backend::View<T> g = gathered.slice(src * N * blk, N * blk);
      comm_for(st.group, true)
          .all_gather(s, exchanged.data() + src * blk, g.data(), static_cast<std::size_t>(blk), type);
      if (ag_dim == Dim::Capacity) {
        compute_.copy_blocks(s, g, output.slice(src * N * blk, N * blk),
                             layout::interleave_capacity(N, el_c, shape.slot_count, shape.width));
      } else {
        compute_.copy_blocks(s, g, output, layout::place_peer_pieces(N, W, src, blk));
      }
    }
  };

  // Enqueued in the one issue order of pipeline_plan.h (wavefront, older steps first), so each stream's FIFO
  // never blocks a ready step and the timeline model simulates exactly this order.
  auto lane_of_stage = [&](std::size_t s) { return pipeline_stage_lane(op, s); };
  std::vector<std::vector<backend::Event*>> done(static_cast<std::size_t>(W),
                                                 std::vector<backend::Event*>(S));
  // One NVTX range around every step (it launches nothing itself: launch id 0), on its first step's lane.
  nvtx_.push(message_of(index, S), detail::nvtx_category(lane_of_stage(0)),
             static_cast<std::uint64_t>(std::max(0, trace_iteration_)), 0);
  ++open_ranges_;
  for (const PipelineStep& ps : pipeline_issue_order(W, S)) {
    const std::int64_t i = ps.step;
    const std::size_t s = ps.stage;
    const Stage& st = op.stages[s];
    const Lane lane = lane_of_stage(s);
    backend::Event* after = s > 0 ? done[static_cast<std::size_t>(i)][s - 1] : tail_.event;
    const Lane after_lane = s > 0 ? lane_of_stage(s - 1) : tail_.lane;
    backend::Event* start = nullptr;
    backend::Stream& stream = begin(lane, after, after_lane, message_of(index, s), &start);
    enqueue_stage(stream, st, i);
    // Each step is its own collective call: its own event, chunk = step, own sequence number.
    const std::int64_t step_bytes = (st.kind == OpKind::AlltoAll ? 1 : N) * blk * std::int64_t(sizeof(T));
    const std::int64_t seq = next_seq(st.group);
    done[static_cast<std::size_t>(i)][s] =
        end(lane, ids_of(index, s), st.group, seq, static_cast<std::int32_t>(trace_step(i, W)), step_bytes,
            start);
  }
  tail_ = {done[static_cast<std::size_t>(W - 1)][S - 1], lane_of_stage(S - 1)};
  nvtx_.pop();
  --open_ranges_;

  const std::string fused = op.name();
  for (const Stage& st : op.stages) {
    const std::int64_t elements =
        st.kind == OpKind::AlltoAll ? W * blk : W * N * blk;  // A2A send, AG out, RS in
    count(op, st.kind, st.group, elements, fused);
  }
  out_shape.data = ag_last ? output : exchanged;
  flow_ = out_shape;
}

template void LayerExecutor<float>::run_pipeline(const Op&, std::size_t);
template void LayerExecutor<double>::run_pipeline(const Op&, std::size_t);
template void LayerExecutor<Bf16>::run_pipeline(const Op&, std::size_t);
template void LayerExecutor<F16>::run_pipeline(const Op&, std::size_t);

}  // namespace parm
