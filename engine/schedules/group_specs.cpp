#include "engine/schedules/group_specs.h"

#include <array>
#include <stdexcept>

namespace parm {
namespace {

constexpr std::array<GroupSpec, 4> kGroupSpecs{{
    {Group::None, "-", Members::Self, Lane::Compute, ""},
    {Group::MP, "MP", Members::MpGroup, Lane::Intra, "sync_mp"},
    {Group::ESP, "ESP", Members::EspGroup, Lane::Intra, "sync_mp"},
    {Group::EP, "EP", Members::EpGroup, Lane::Inter, "sync"},
}};

}  // namespace

std::span<const GroupSpec> group_specs() {
  return kGroupSpecs;
}

const GroupSpec& group_spec(Group g) {
  for (const GroupSpec& k : kGroupSpecs)
    if (k.group == g) return k;
  throw std::logic_error("group_kind: a Group value without a row in kGroupSpecs");
}

std::string_view to_string(Group g) {
  return group_spec(g).name;
}

Lane lane_of(Group g) {
  return group_spec(g).lane;
}

Lane lane_of(const Op& op) {
  return op.communicates() ? lane_of(op.group) : Lane::Compute;
}

std::int64_t group_size(Group g, const DerivedSizes& sizes) {
  switch (group_spec(g).members) {
    case Members::Self:
      return 1;
    case Members::MpGroup:
      return sizes.N;
    case Members::EspGroup:
      return sizes.n_esp;
    case Members::EpGroup:
      return sizes.n_ep;
  }
  return 1;
}

std::int64_t group_size(Group g, const ParallelConfig& parallel) {
  switch (group_spec(g).members) {
    case Members::Self:
      return 1;
    case Members::MpGroup:
      return parallel.mp;
    case Members::EspGroup:
      return parallel.esp;
    case Members::EpGroup:
      return parallel.ep();
  }
  return 1;
}

std::vector<int> group_ranks(Group g, const RankLayout& layout) {
  switch (group_spec(g).members) {
    case Members::Self:
      return {layout.rank};
    case Members::MpGroup:
      return layout.mp_ranks;
    case Members::EspGroup:
      return layout.esp_size > 1 ? layout.mp_ranks : std::vector<int>{layout.rank};
    case Members::EpGroup:
      return layout.ep_ranks;
  }
  return {layout.rank};
}

}  // namespace parm
