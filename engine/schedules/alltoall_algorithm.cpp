#include "engine/schedules/alltoall_algorithm.h"

#include <algorithm>

namespace parm {

std::string_view to_string(AlltoAllAlgorithm a) {
  return a == AlltoAllAlgorithm::Hierarchical ? "2dh" : "flat";
}

std::optional<AlltoAllAlgorithm> parse_alltoall_algorithm(std::string_view name) {
  for (AlltoAllAlgorithm a : kAlltoAllAlgorithms)
    if (to_string(a) == name) return a;
  return std::nullopt;
}

HierarchicalShape hierarchical_shape(const ParallelConfig& parallel) {
  HierarchicalShape s;
  if (parallel.mp < 1 || parallel.gpus_per_node < 1) return s;
  s.local = std::max<std::int64_t>(1, parallel.gpus_per_node / parallel.mp);
  s.nodes = std::max<std::int64_t>(1, parallel.nodes());
  return s;
}

bool hierarchical_alltoall_applies(const ParallelConfig& parallel) {
  const HierarchicalShape s = hierarchical_shape(parallel);
  return s.local > 1 && s.nodes > 1;
}

AlltoAllMessages alltoall_messages(const ParallelConfig& parallel, AlltoAllAlgorithm a) {
  const HierarchicalShape s = hierarchical_shape(parallel);
  if (a == AlltoAllAlgorithm::Hierarchical && hierarchical_alltoall_applies(parallel))
    return {(s.local - 1) + (s.nodes - 1), s.nodes - 1, s.local};
  return {s.ep() - 1, s.ep() - s.local, 1};
}

void apply_alltoall_algorithm(Schedule& schedule, AlltoAllAlgorithm a, const ParallelConfig& parallel) {
  const AlltoAllAlgorithm applied = hierarchical_alltoall_applies(parallel) ? a : AlltoAllAlgorithm::Flat;
  schedule.alltoall = applied;
  for (std::vector<Op>* list : {&schedule.forward, &schedule.backward})
    for (Op& op : *list)
      if (op.kind == OpKind::AlltoAll) op.algorithm = applied;
}

}  // namespace parm
