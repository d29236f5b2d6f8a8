// Per-GPU volume of every collective of every schedule, straight from the formulas of spec parm.md section 5.
// This is the specification side: the executor's byte counters are tested against it. Each schedule's
// formulas live with its builder (schedule_*.cpp) and are reached through the registry.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/config.h"
#include "engine/core/sizes.h"
#include "engine/schedules/schedule_ir.h"

namespace parm {

enum class Collective { AlltoAll, AllGather, ReduceScatter, AllReduce };
using CommGroup = Group;  // EP, MP or ESP (ESP is the MP group when N_ESP = N_MP); group_specs.h
enum class Pass { Forward, Backward };

std::string_view to_string(Collective c);
std::string_view to_string(Pass p);

struct CollectiveVolume {
  Pass pass = Pass::Forward;
  std::string purpose;  // what moves: "dispatch", "expert output", "combine", "tokens", "router grad"
  Collective collective = Collective::AlltoAll;
  CommGroup group = CommGroup::EP;
  std::string fused;          // "SAA" / "RSA" when this step is part of a fused pipeline, else empty
  std::int64_t elements = 0;  // the spec's size convention: AlltoAll per-GPU send, AllGather output,
                              // ReduceScatter input, AllReduce buffer
  std::int64_t bytes = 0;     // elements * b
  std::int64_t group_size = 0;
  // Bytes this GPU actually puts on the wire: AlltoAll (W-1)/W, AllGather/ReduceScatter (N-1)/N, AllReduce
  // 2(N-1)/N of `bytes` (the nccl-tests bus-bandwidth factors).
  double wire_bytes = 0.0;
};

// Collects a schedule's entries with the bus-bandwidth factor of each collective applied once, here. Entries
// over a group of one are left out and with N_EP = 1 none is fused, as build_schedule's op lists.
class VolumeList {
 public:
  explicit VolumeList(const DerivedSizes& sizes) : d_(sizes) {}

  void add(Pass pass, std::string purpose, Collective c, CommGroup g, std::int64_t elements,
           std::string fused = {});
  void fwd(std::string purpose, Collective c, CommGroup g, std::int64_t elements, std::string fused = {}) {
    add(Pass::Forward, std::move(purpose), c, g, elements, std::move(fused));
  }

  std::vector<CollectiveVolume> items;

 private:
  const DerivedSizes& d_;
};

// The forward collectives of schedule `s` in execution order (the table of section 5), followed for S1/S1F by
// the one backward-only collective, the MP-AllReduce of the router gradient dWg (M*E elements). The full
// backward op list is derived from the forward one by the schedule IR; its volumes equal the forward ones.
std::vector<CollectiveVolume> schedule_volumes(const Config& config, const DerivedSizes& sizes,
                                               ScheduleKind s);

}  // namespace parm
