#include "engine/schedules/volumes.h"

#include "engine/schedules/group_specs.h"
#include "engine/schedules/schedule_registry.h"

namespace parm {

std::string_view to_string(Collective c) {
  switch (c) {
    case Collective::AlltoAll:
      return "AlltoAll";
    case Collective::AllGather:
      return "AllGather";
    case Collective::ReduceScatter:
      return "ReduceScatter";
    case Collective::AllReduce:
      return "AllReduce";
  }
  return "?";
}

std::string_view to_string(Pass p) {
  return p == Pass::Forward ? "fwd" : "bwd";
}

void VolumeList::add(Pass pass, std::string purpose, Collective c, CommGroup g, std::int64_t elements,
                     std::string fused) {
  // A collective over a group of one moves nothing and is not executed (spec section 6); with N_EP = 1 a
  // pipeline has one step, and build_schedule runs its stages as unfused collectives.
  if (group_size(g, d_) <= 1) return;
  if (d_.n_ep <= 1) fused.clear();
  CollectiveVolume v;
  v.pass = pass;
  v.purpose = std::move(purpose);
  v.collective = c;
  v.group = g;
  v.fused = std::move(fused);
  v.elements = elements;
  v.bytes = elements * d_.bytes_per_element;
  v.group_size = group_size(g, d_);
  const double n = static_cast<double>(v.group_size);
  const double share = (n - 1.0) / n;
  v.wire_bytes = static_cast<double>(v.bytes) * (c == Collective::AllReduce ? 2.0 * share : share);
  items.push_back(std::move(v));
}

std::vector<CollectiveVolume> schedule_volumes(const Config& config, const DerivedSizes& d, ScheduleKind s) {
  VolumeList v(d);
  spec_of(s).volumes(config, d, v);
  return v.items;
}

}  // namespace parm
