// Pipeline degree r (engine/schedules/chunk_plan.h): the ChunkSplit cuts the dispatched tensor (outer, E, c,
// M) into r capacity chunks on the compute stream (each the same slot range of the capacity's G pieces);
// every chunked op then runs once per chunk, issued in the wavefront order of pipeline_issue_order (chunks as
// steps, the region's ops as stages), each waiting only for the same chunk's previous op, so chunk k+1's
// AlltoAll (inter stream) runs while chunk k's experts run (compute stream); the ChunkMerge waits for every
// chunk and puts the slots back. Chunk k's experts save their state in expert_states_[k]; a backward that
// runs another number of chunks than the forward regroups those states first (regroup_expert_states).
#include <stdexcept>
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
  const std::int64_t granule = chunk_granule(schedule_, layout_.mp_size);
  const int chunks = chunk_count(c, granule, schedule_.degree(direction_));
  std::vector<SlotRange> ranges;
  for (int k = 0; k < chunks; ++k) ranges.push_back(chunk_slots(c, granule, chunks, k));
  if (direction_ == Direction::Forward) {
    while (expert_states_.size() < static_cast<std::size_t>(chunks))
      expert_states_.push_back(compute_.make_expert_state());
    forward_ranges_ = ranges;
  }

  struct ChunkFlow {
    FlowTensor<T> flow;
    Tail tail;
    SlotRange slots;
  };
  std::vector<ChunkFlow> chunk(static_cast<std::size_t>(chunks));
  backend::Event* start = nullptr;
  stream_ = &begin(Lane::Compute, tail_.event, tail_.lane, message_of(split_index, 0), &start);
  if (direction_ == Direction::Backward) regroup_expert_states(ranges);
  for (int k = 0; k < chunks; ++k) {
    ChunkFlow& ck = chunk[static_cast<std::size_t>(k)];
    ck.slots = ranges[static_cast<std::size_t>(k)];
    ck.flow = whole;
    ck.flow.slot_count = granule * ck.slots.count();
    ck.flow.data = allocate(rows * ck.flow.slot_count * m);
    compute_.copy_blocks(*stream_, whole.data, ck.flow.data, chunk_slice(rows, c, granule, ck.slots, m));
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
                         chunk_place(out_rows, c, granule, ck.slots, first.width));
  }
  tail_ = {end(Lane::Compute, ids_of(merge_index, 0), Group::None, -1, -1, 0, start), Lane::Compute};
  flow_ = merged;
  return merge_index;
}

// The forward's chunk k saved the experts' rows of its slot range of every capacity piece, as P pieces of
// that range (P: what the region's gathers made of the G pieces); a backward chunk needs the rows of its own
// range in the same arrangement, which is a slice of one forward state (a finer backward) or the forward
// states of the ranges it covers placed side by side (a coarser one): the degrees' boundaries nest.
template <typename T>
void LayerExecutor<T>::regroup_expert_states(std::vector<SlotRange> to) {
  std::vector<SlotRange> from = forward_ranges_;
  const auto total = [](const std::vector<SlotRange>& r) { return r.empty() ? 0 : r.back().end; };
  if (from.empty()) from = {{0, total(to)}};
  if (to.empty()) to = {{0, total(from)}};
  use_regrouped_ = !(from == to);
  if (!use_regrouped_) return;
  if (total(from) != total(to) || forward_shapes_.size() < from.size())
    throw std::logic_error("the backward's capacity chunks cover other slots than the forward's");
  const backend::DispatchShape& shape = forward_shapes_.front();
  const std::int64_t pieces = shape.slot_count / from.front().count();
  if (pieces * from.front().count() != shape.slot_count)
    throw std::logic_error("the experts' rows are not whole pieces of the forward's chunk");
  while (regrouped_states_.size() < to.size()) regrouped_states_.push_back(compute_.make_expert_state());
  for (std::size_t j = 0; j < to.size(); ++j) {
    for (std::size_t k = 0; k < from.size(); ++k) {
      if (to[j].end <= from[k].begin || from[k].end <= to[j].begin) continue;
      backend::ExpertStateSlots s;
      s.to_shape = {shape.outer, shape.experts, pieces * to[j].count(), shape.width};
      s.row_blocks = shape.outer * pieces;
      s.from_slots = from[k].count();
      s.to_slots = to[j].count();
      if (from[k].contains(to[j])) {
        s.from_first = to[j].begin - from[k].begin;
        s.count = to[j].count();
      } else if (to[j].contains(from[k])) {
        s.to_first = from[k].begin - to[j].begin;
        s.count = from[k].count();
      } else {
        throw std::logic_error("the forward's and the backward's capacity chunks do not nest");
      }
      compute_.copy_expert_state(*stream_, *expert_states_.at(k), *regrouped_states_[j], s);
    }
  }
}

template std::size_t LayerExecutor<float>::run_chunked(const std::vector<Op>&, std::size_t);
template std::size_t LayerExecutor<double>::run_chunked(const std::vector<Op>&, std::size_t);
template std::size_t LayerExecutor<Bf16>::run_chunked(const std::vector<Op>&, std::size_t);
template std::size_t LayerExecutor<F16>::run_chunked(const std::vector<Op>&, std::size_t);
template void LayerExecutor<float>::regroup_expert_states(std::vector<SlotRange>);
template void LayerExecutor<double>::regroup_expert_states(std::vector<SlotRange>);
template void LayerExecutor<Bf16>::regroup_expert_states(std::vector<SlotRange>);
template void LayerExecutor<F16>::regroup_expert_states(std::vector<SlotRange>);

}  // namespace parm
