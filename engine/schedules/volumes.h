// Per-GPU volume of every collective of every schedule, straight from the formulas of spec parm.md section 5.
// This is the specification side: the executor's byte counters are tested against it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/config.h"
#include "engine/core/sizes.h"

namespace parm {

enum class Collective { AlltoAll, AllGather, ReduceScatter, AllReduce };
enum class CommGroup { EP, MP, ESP };  // ESP is the MP group when N_ESP = N_MP
enum class Pass { Forward, Backward };

std::string_view to_string(Collective c);
std::string_view to_string(CommGroup g);
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

// The forward collectives of schedule `s` in execution order (the table of section 5), followed for S1/S1F by
// the one backward-only collective, the MP-AllReduce of the router gradient dWg (M*E elements). The full
// backward op list is derived from the forward one by the schedule IR; its volumes equal the forward ones.
std::vector<CollectiveVolume> schedule_volumes(const Config& config, const DerivedSizes& sizes,
                                               ScheduleKind s);

}  // namespace parm
