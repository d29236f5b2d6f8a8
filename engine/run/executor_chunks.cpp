// Pipeline degree r (engine/schedules/chunk_plan.h): the ChunkSplit cuts the dispatched tensor (outer, E, c,
// M) into r capacity chunks on the compute stream; every chunked op then runs once per chunk, issued in the
// wavefront order of pipeline_issue_order (chunks as steps, the region's ops as stages), each waiting only
// for the same chunk's previous op, so chunk k+1's AlltoAll (inter stream) runs while chunk k's experts run
// (compute stream); the ChunkMerge waits for every chunk and puts the slots back. Chunk k's experts save
// their state in expert_states_[k], which the backward's chunk k reads: both passes cut the same slots.
#include <string>
#include <vector>

#include "engine/run/executor.h"
#include "engine/run/executor_support.h"
#include "engine/schedules/chunk_plan.h"
#include "engine/schedules/pipeline_plan.h"

namespace parm {

template <typename T>
std::size_t LayerExecutor<T>::run_chunked(const std::vector<Op>& ops, std::size_t split_index) {
  const ChunkRegion region = chunk_region(ops);
  if (region.empty() || region.first != split_index + 1 || region.last >= ops.size() ||
      ops[region.last].kind != OpKind::ChunkMerge)
    throw std::logic_error("a ChunkSplit must be followed by chunked ops and a ChunkMerge");
  const FlowTensor<T> whole = flow_;
  const std::int64_t rows = whole.outer * whole.experts, c = whole.slot_count, m = whole.width;
  const std::int64_t granule = chunk_granule(ops, layout_.mp_size);
  const int chunks = chunk_count(c, granule, schedule_.degree(direction_));
  if (direction_ == Direction::Forward) {
    while (expert_states_.size() < static_cast<std::size_t>(chunks))
      expert_states_.push_back(compute_.make_expert_state());
    forward_chunks_ = chunks;
  } else if (chunks != forward_chunks_) {
    throw std::logic_error("the backward runs " + std::to_string(chunks) + " chunks, the forward ran " +
                           std::to_string(forward_chunks_) + ": the expert state is saved per forward chunk");
  }

  struct ChunkFlow {
    FlowTensor<T> flow;
    Tail tail;
    SlotRange slots;
  };
  std::vector<ChunkFlow> chunk(static_cast<std::size_t>(chunks));
  backend::Event* start = nullptr;
  stream_ = &begin(Lane::Compute, tail_.event, tail_.lane, message_of(split_index, 0), &start);
  for (int k = 0; k < chunks; ++k) {
    ChunkFlow& ck = chunk[static_cast<std::size_t>(k)];
    ck.slots = chunk_slots(c, granule, chunks, k);
    ck.flow = whole;
    ck.flow.slot_count = ck.slots.count();
    ck.flow.data = allocate(rows * ck.slots.count() * m);
    compute_.copy_blocks(*stream_, whole.data, ck.flow.data,
                         layout::slice_slots(rows, c, ck.slots.begin, ck.slots.count(), m));
  }
  const Tail split_end{end(Lane::Compute, ids_of(split_index, 0), Group::None, -1, -1, 0, start),
                       Lane::Compute};
  for (ChunkFlow& ck : chunk) ck.tail = split_end;

  for (const PipelineStep& ps : pipeline_issue_order(chunks, region.size())) {
    ChunkFlow& ck = chunk[static_cast<std::size_t>(ps.step)];
    const std::size_t index = region.first + ps.stage;
    flow_ = ck.flow;
    tail_ = ck.tail;
    chunk_ = static_cast<int>(ps.step);
    trace_chunk_ = chunk_;
    if (ops[index].kind == OpKind::Pipeline) {
      run_pipeline(ops[index], index);
    } else {
      enqueue(ops[index], index);
    }
    ck.flow = flow_;
    ck.tail = tail_;
  }
  chunk_ = 0;
  trace_chunk_ = -1;

  // Every chunk leaves the region as it entered it, (outer, E, c_k, M) on this rank's side.
  const FlowTensor<T>& first = chunk.front().flow;
  FlowTensor<T> merged = first;
  const std::int64_t out_rows = first.outer * first.experts;
  merged.slot_count = c;
  merged.data = allocate(out_rows * c * first.width);
  const std::size_t merge_index = region.last;
  stream_ = &begin(Lane::Compute, chunk.back().tail.event, chunk.back().tail.lane, message_of(merge_index, 0),
                   &start);
  for (const ChunkFlow& ck : chunk) {
    if (ck.tail.lane != Lane::Compute && ck.tail.event) stream_->wait(*ck.tail.event);
    compute_.copy_blocks(*stream_, ck.flow.data, merged.data,
                         layout::place_slots(out_rows, c, ck.slots.begin, ck.slots.count(), first.width));
  }
  tail_ = {end(Lane::Compute, ids_of(merge_index, 0), Group::None, -1, -1, 0, start), Lane::Compute};
  flow_ = merged;
  return merge_index;
}

template std::size_t LayerExecutor<float>::run_chunked(const std::vector<Op>&, std::size_t);
template std::size_t LayerExecutor<double>::run_chunked(const std::vector<Op>&, std::size_t);
template std::size_t LayerExecutor<Bf16>::run_chunked(const std::vector<Op>&, std::size_t);
template std::size_t LayerExecutor<F16>::run_chunked(const std::vector<Op>&, std::size_t);

}  // namespace parm
