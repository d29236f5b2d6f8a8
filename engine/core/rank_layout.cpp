#include "engine/core/rank_layout.h"

#include <algorithm>

namespace parm {

RankLayout make_rank_layout(const Config& config, int rank) {
  const ParallelConfig& p = config.parallel;
  RankLayout l;
  l.rank = rank;
  l.world = static_cast<int>(p.ranks);
  l.node = rank / static_cast<int>(p.gpus_per_node);
  l.local_rank = rank % static_cast<int>(p.gpus_per_node);
  l.mp_size = static_cast<int>(p.mp);
  l.ep_size = static_cast<int>(p.ep());
  l.esp_size = static_cast<int>(p.esp);
  l.mp_index = rank % l.mp_size;
  l.mp_group = rank / l.mp_size;
  l.ep_index = l.mp_group;
  l.esp_index = l.esp_size == 1 ? 0 : l.mp_index;
  l.local_experts = config.layer.num_experts / l.ep_size;
  l.first_expert = l.ep_index * l.local_experts;
  for (int j = 0; j < l.mp_size; ++j) l.mp_ranks.push_back(l.mp_group * l.mp_size + j);
  l.esp_ranks = l.esp_size == 1 ? std::vector<int>{rank} : l.mp_ranks;
  for (int q = 0; q < l.ep_size; ++q) l.ep_ranks.push_back(q * l.mp_size + l.mp_index);
  l.ep_local_size = std::max(1, static_cast<int>(p.gpus_per_node) / l.mp_size);
  l.ep_local_index = l.ep_index % l.ep_local_size;
  l.ep_node_index = l.ep_index / l.ep_local_size;
  for (int i = 0; i < l.ep_local_size; ++i)
    l.ep_intra_ranks.push_back(l.ep_ranks[std::size_t(l.ep_node_index * l.ep_local_size + i)]);
  for (int n = 0; n < l.ep_size / l.ep_local_size; ++n)
    l.ep_inter_ranks.push_back(l.ep_ranks[std::size_t(n * l.ep_local_size + l.ep_local_index)]);
  return l;
}

}  // namespace parm
