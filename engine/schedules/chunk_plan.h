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

// Slots a chunk must hold a multiple of: the region splits, gathers or regroups the capacity over an MP/ESP
// group of n_mp (Dim::Capacity), so each chunk must divide into n_mp equal pieces as the whole capacity does.
std::int64_t chunk_granule(const std::vector<Op>& list, std::int64_t n_mp);

struct SlotRange {
  std::int64_t begin = 0, end = 0;
  std::int64_t count() const { return end - begin; }
};
// How many chunks run: the degree, or fewer when the capacity has fewer granules (never an empty chunk).
int chunk_count(std::int64_t capacity, std::int64_t granule, int degree);
// Chunk k of `chunks`: slots [g*floor(k*u/chunks), g*floor((k+1)*u/chunks)) with u = capacity/g granules,
// so chunks differ by at most one granule and the boundaries of r and 2r nest. Throws std::logic_error when
// the capacity is not a multiple of the granule.
SlotRange chunk_slots(std::int64_t capacity, std::int64_t granule, int chunks, int k);

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
