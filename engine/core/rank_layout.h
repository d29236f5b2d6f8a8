// Where one rank sits in the MP x EP x ESP layout (spec parm.md section 1): rank r = node*G + g; the MP group
// is N_MP consecutive ranks; the EP group is one rank of every MP group with the same MP-local index.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/config.h"

namespace parm {

struct RankLayout {
  int rank = 0;
  int world = 1;
  int node = 0;
  int local_rank = 0;  // g: index inside the node
  int mp_index = 0;    // j = r mod N_MP: position inside the MP group (also the ESP shard when N_ESP = N_MP)
  int mp_group = 0;    // floor(r / N_MP): which MP group, which is also the EP rank q
  int ep_index = 0;    // q
  int esp_index = 0;   // H-shard held: j when N_ESP = N_MP, 0 when N_ESP = 1
  int mp_size = 1;     // N_MP
  int ep_size = 1;     // N_EP
  int esp_size = 1;    // N_ESP
  std::int64_t first_expert = 0;  // EP rank q hosts experts [q*E_loc, (q+1)*E_loc)
  std::int64_t local_experts = 0;
  std::vector<int> mp_ranks;  // world ranks of the MP group, in MP-index order
  std::vector<int>
      esp_ranks;  // world ranks sharding the same experts: mp_ranks when N_ESP = N_MP, else {rank}
  std::vector<int> ep_ranks;  // world ranks of the EP group, in EP-index order
  // The hierarchical (2DH) AlltoAll's view of the EP group: EP rank q = ep_node_index * ep_local_size +
  // ep_local_index, where L = ep_local_size = G / N_MP EP ranks share a node (MP groups never cross nodes).
  int ep_local_size = 1;
  int ep_local_index = 0;           // q mod L
  int ep_node_index = 0;            // q / L: which node of the EP group
  std::vector<int> ep_intra_ranks;  // world ranks of the EP ranks on this node, by local index
  std::vector<int> ep_inter_ranks;  // world ranks with this local EP index, one per node, by node

  // Whether two world ranks share a node (MP groups are meant to; EP groups usually span nodes).
  bool same_node(int a, int b, int gpus_per_node) const { return a / gpus_per_node == b / gpus_per_node; }
};

// Requires a validated configuration and 0 <= rank < ranks.
RankLayout make_rank_layout(const Config& config, int rank);

}  // namespace parm
