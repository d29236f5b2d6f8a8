// Pipeline degree r (issue 19, after FSMoE): the dispatched tensor is cut into r chunks along capacity and
// the ops between the order and the combine (the chunked region: AlltoAll, the MP/ESP collectives and the
// experts) run once per chunk, issued in wavefront order on the three lanes, so chunk i+1's dispatch
// overlaps chunk i's experts and chunk i-1's combine. It is data in the schedule: the region's ops carry
// Op::chunked, a ChunkSplit / ChunkMerge pair brackets them, and Schedule::forward_degree / backward_degree
// say how many chunks; the executor issues and the timeline model simulates the same order
// (pipeline_issue_order with steps = chunks, stages = the region's ops). r = 1 leaves a list unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/core/sizes.h"
#include "engine/schedules/schedule_ir.h"
#include "kernels/layout_index.h"

namespace parm {

// The degrees a schedule may be pipelined with.
inline constexpr int kPipelineDegrees[] = {1, 2, 4, 8};
bool is_pipeline_degree(int r);

// Marks the ops strictly between the order and the combine (forward) or between combine_bwd and order_bwd
// (backward) as chunked and brackets them with ChunkSplit / ChunkMerge, for a degree > 1; sets the degrees.
void apply_pipeline_degree(Schedule& schedule, int forward_degree, int backward_degree);

// The chunked ops of a list, [first, last) (the ChunkSplit is at first - 1, the ChunkMerge at last); empty
// when the list has none.
struct ChunkRegion {
  std::size_t first = 0, last = 0;
  bool empty() const { return first == last; }
  std::size_t size() const { return last - first; }
};
ChunkRegion chunk_region(const std::vector<Op>& list);

// The granule G of the capacity chunks: the region splits, gathers or regroups the capacity over an MP/ESP
// group of n_mp (Dim::Capacity) in either pass, so the capacity is cut as G equal pieces (an MP peer's each)
// and a chunk takes the same slot range of every piece; 1 when no chunked op touches the capacity. One
// value for both passes (the larger of the two lists'), so a backward at another degree than its forward
// cuts the same pieces.
std::int64_t chunk_granule(const std::vector<Op>& list, std::int64_t n_mp);
std::int64_t chunk_granule(const Schedule& schedule, std::int64_t n_mp);

struct SlotRange {
  std::int64_t begin = 0, end = 0;
  std::int64_t count() const { return end - begin; }
  bool contains(const SlotRange& o) const { return begin <= o.begin && o.end <= end; }
  bool operator==(const SlotRange&) const = default;
};
// How many chunks run: the degree, or fewer when a piece has fewer slots (never an empty chunk).
int chunk_count(std::int64_t capacity, std::int64_t granule, int degree);
// Chunk k of `chunks`, as the slot range it takes of each of the G pieces of u = capacity/G slots:
// [floor(k*u/chunks), floor((k+1)*u/chunks)), so chunks differ by at most one slot per piece and the
// boundaries of every degree nest in those of a multiple of it. Cutting each piece alike (rather than the
// capacity in contiguous ranges) keeps the capacity collectives' piece structure inside a chunk: after a
// Split / AllGather / ReduceScatter over the MP group a chunk holds the same range of each piece the whole
// tensor holds, so the experts' rows of chunk k are a slot range of the whole pass's rows, whatever the
// degree (what lets the backward run another degree than the forward). Throws std::logic_error when the
// capacity is not a multiple of the granule.
SlotRange chunk_slots(std::int64_t capacity, std::int64_t granule, int chunks, int k);
// The copies that cut chunk `slots` out of a tensor of `row_blocks` rows of `capacity` slots of width m
// (G pieces each), and that put it back.
layout::BlockCopy chunk_slice(std::int64_t row_blocks, std::int64_t capacity, std::int64_t granule,
                              SlotRange slots, std::int64_t m);
layout::BlockCopy chunk_place(std::int64_t row_blocks, std::int64_t capacity, std::int64_t granule,
                              SlotRange slots, std::int64_t m);

// What a schedule's capacity rule picks of the three quantities (C0/C1/C2, or D0/D1/D2): the one selection
// the executor, the timeline model and the chunk plan share. With drop_tokens false the capacities are a
// planning estimate: the real one is known after routing.
std::int64_t rule_capacity(CapacityRule rule, std::int64_t c0, std::int64_t c1, std::int64_t c2);

// How many chunks a pass of `schedule` runs for these sizes (1 without a chunked region); with a dynamic
// capacity (drop_tokens false) the degree, an upper bound.
int planned_chunks(const Schedule& schedule, Direction direction, const DerivedSizes& sizes);

// Traced ops of one pass of `list` run with `chunks` capacity chunks and W = N_EP pipeline steps: one per
// op, W per pipeline stage, both times the chunks inside the chunked region; and the NVTX ranges around
// whole pipelines (one per pipeline, per chunk inside the region).
std::size_t traced_ops_per_pass(const std::vector<Op>& list, int chunks, std::int64_t w);
std::size_t pipeline_ranges_per_pass(const std::vector<Op>& list, int chunks);

}  // namespace parm
