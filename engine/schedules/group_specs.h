// The communication groups as data (spec parm.md section 1): for each Group of the IR its name, which ranks
// of the layout are its members, the lane its collectives run on and the calibration fit of the wait for the
// slowest peer. to_string(Group), the lane an op runs on, the models' group sizes and the backends' group
// factory read this table, so a new kind of group (the intra- and inter-node halves of the EP group, for a
// hierarchical AlltoAll) is one enum value in schedule_ir.h, one Members value and one row.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "engine/core/rank_layout.h"
#include "engine/core/sizes.h"
#include "engine/schedules/lane.h"
#include "engine/schedules/schedule_ir.h"

namespace parm {

// Which ranks a group joins.
enum class Members {
  Self,      // no group: the rank alone
  MpGroup,   // the N_MP consecutive ranks of one MP group
  EspGroup,  // the ranks holding the H-shards of the same experts: the MP group (N_ESP = N_MP) or the rank
             // alone
  EpGroup,   // one rank of every MP group, those with this rank's MP index (N_EP ranks)
};

struct GroupSpec {
  Group group = Group::None;
  std::string_view name;  // to_string(Group): op names, traces, volume tables
  Members members = Members::Self;
  Lane lane = Lane::Compute;  // where its collectives run: MP/ESP stay inside a node, EP spans nodes
  std::string_view sync_fit;  // the calibration fit of the drift wait before its collectives ("" none)
};

// Every group kind, one row per Group value.
std::span<const GroupSpec> group_specs();
const GroupSpec& group_spec(Group g);

// The lane of a collective over `g`; the lane an op runs on (compute unless it communicates).
Lane lane_of(Group g);
Lane lane_of(const Op& op);

// Ranks in the group: N_MP, N_ESP, N_EP or 1.
std::int64_t group_size(Group g, const DerivedSizes& sizes);
std::int64_t group_size(Group g, const ParallelConfig& parallel);
// World ranks of this rank's group, in group-rank order.
std::vector<int> group_ranks(Group g, const RankLayout& layout);

}  // namespace parm
