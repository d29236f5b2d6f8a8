#include "engine/schedules/chunk_plan.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace parm {
namespace {

// The two region ends of a list: the order and the combine, in list order for the pass.
bool is_region_end(const Op& op) {
  return op.kind == OpKind::Order || op.kind == OpKind::Combine;
}

void chunk_list(std::vector<Op>& list, Direction direction, int degree) {
  if (degree <= 1) return;
  const auto first_end = std::find_if(list.begin(), list.end(), is_region_end);
  if (first_end == list.end()) return;
  const auto second_end = std::find_if(first_end + 1, list.end(), is_region_end);
  if (second_end == list.end() || second_end == first_end + 1) return;  // nothing between them
  for (auto it = first_end + 1; it != second_end; ++it) it->chunked = true;
  Op split;
  split.kind = OpKind::ChunkSplit;
  split.direction = direction;
  split.label = "chunks";
  Op merge = split;
  merge.kind = OpKind::ChunkMerge;
  const std::ptrdiff_t merge_at = second_end - list.begin() + 1;  // after the split is inserted
  list.insert(first_end + 1, split);
  list.insert(list.begin() + merge_at, merge);
}

}  // namespace

bool is_pipeline_degree(int r) {
  return std::find(std::begin(kPipelineDegrees), std::end(kPipelineDegrees), r) != std::end(kPipelineDegrees);
}

void apply_pipeline_degree(Schedule& schedule, int forward_degree, int backward_degree) {
  if (!is_pipeline_degree(forward_degree) || !is_pipeline_degree(backward_degree))
    throw std::invalid_argument("pipeline degree must be 1, 2, 4 or 8 (got " +
                                std::to_string(forward_degree) + "/" + std::to_string(backward_degree) + ")");
  schedule.forward_degree = forward_degree;
  schedule.backward_degree = backward_degree;
  chunk_list(schedule.forward, Direction::Forward, forward_degree);
  chunk_list(schedule.backward, Direction::Backward, backward_degree);
}

ChunkRegion chunk_region(const std::vector<Op>& list) {
  const auto first = std::find_if(list.begin(), list.end(), [](const Op& op) { return op.chunked; });
  if (first == list.end()) return {};
  const auto last = std::find_if(first, list.end(), [](const Op& op) { return !op.chunked; });
  return {static_cast<std::size_t>(first - list.begin()), static_cast<std::size_t>(last - list.begin())};
}

std::int64_t chunk_granule(const std::vector<Op>& list, std::int64_t n_mp) {
  for (const Op& op : list) {
    if (!op.chunked) continue;
    if (op.dim == Dim::Capacity) return std::max<std::int64_t>(1, n_mp);
    for (const Stage& s : op.stages)
      if (s.dim == Dim::Capacity) return std::max<std::int64_t>(1, n_mp);
  }
  return 1;
}

std::int64_t chunk_granule(const Schedule& schedule, std::int64_t n_mp) {
  return std::max(chunk_granule(schedule.forward, n_mp), chunk_granule(schedule.backward, n_mp));
}

int chunk_count(std::int64_t capacity, std::int64_t granule, int degree) {
  const std::int64_t units = granule > 0 ? capacity / granule : 0;
  return static_cast<int>(std::clamp<std::int64_t>(units, 1, std::max(1, degree)));
}

SlotRange chunk_slots(std::int64_t capacity, std::int64_t granule, int chunks, int k) {
  if (granule < 1 || capacity % granule != 0)
    throw std::logic_error("chunk_slots: capacity " + std::to_string(capacity) + " is not a multiple of " +
                           std::to_string(granule));
  const std::int64_t units = capacity / granule;
  const auto edge = [&](std::int64_t i) { return i * units / std::max(1, chunks); };
  return {edge(k), edge(k + 1)};
}

// (row_blocks, capacity, m) is (row_blocks * G, capacity / G, m): a chunk is a slot range of every piece.
layout::BlockCopy chunk_slice(std::int64_t row_blocks, std::int64_t capacity, std::int64_t granule,
                              SlotRange slots, std::int64_t m) {
  return layout::slice_slots(row_blocks * granule, capacity / granule, slots.begin, slots.count(), m);
}

layout::BlockCopy chunk_place(std::int64_t row_blocks, std::int64_t capacity, std::int64_t granule,
                              SlotRange slots, std::int64_t m) {
  return layout::place_slots(row_blocks * granule, capacity / granule, slots.begin, slots.count(), m);
}

std::int64_t rule_capacity(CapacityRule rule, std::int64_t c0, std::int64_t c1, std::int64_t c2) {
  switch (rule) {
    case CapacityRule::C0:
      return c0;
    case CapacityRule::C1:
      return c1;
    case CapacityRule::C2:
      return c2;
  }
  return c0;
}

int planned_chunks(const Schedule& schedule, Direction direction, const DerivedSizes& sizes) {
  const std::vector<Op>& list = direction == Direction::Forward ? schedule.forward : schedule.backward;
  if (chunk_region(list).empty()) return 1;
  if (sizes.dynamic_capacity) return schedule.degree(direction);
  const std::int64_t capacity = rule_capacity(schedule.capacity, sizes.C0, sizes.C1, sizes.C2);
  return chunk_count(capacity, chunk_granule(schedule, sizes.N), schedule.degree(direction));
}

std::size_t traced_ops_per_pass(const std::vector<Op>& list, int chunks, std::int64_t w) {
  std::size_t n = 0;
  for (const Op& op : list) {
    const std::size_t one = op.kind == OpKind::Pipeline ? op.stages.size() * static_cast<std::size_t>(w) : 1;
    n += one * static_cast<std::size_t>(op.chunked ? std::max(1, chunks) : 1);
  }
  return n;
}

std::size_t pipeline_ranges_per_pass(const std::vector<Op>& list, int chunks) {
  std::size_t n = 0;
  for (const Op& op : list)
    if (op.kind == OpKind::Pipeline) n += static_cast<std::size_t>(op.chunked ? std::max(1, chunks) : 1);
  return n;
}

}  // namespace parm
