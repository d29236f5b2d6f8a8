// The routing-validity check of spec parm.md section 8, for a schedule that legitimately routes differently
// from the reference (S1's token slices with C1, B_DS2/S2's C2 != C0): every kept choice inside capacity, no
// slot used twice, slots in choice-major order (all first choices in token order, then all second choices,
// ...; a choice is dropped only once its expert's slots are full), and tokens with no kept choice output
// exactly zero. Local to one rank's routing; verify.h agrees the verdict over the world.
#pragma once

#include <cstdint>
#include <string>

#include "engine/backend/compute.h"
#include "engine/core/verify_result.h"

namespace parm {

struct RoutingValidity {
  RoutingCounts counts{};
  std::string rule_broken{};  // the first rule broken, with the choice that breaks it; empty when valid
  bool valid() const { return rule_broken.empty(); }
};

// The rules on the routing alone, in this order: "routing shape", "expert out of range", "kept choice outside
// capacity", "slot used twice", "slots not choice-major".
RoutingValidity check_routing(const backend::HostRouting& routing);

// And "dropped token's output not zero": `output_rows` holds the routing's tokens' output rows
// (routing.tokens rows of `hidden` values), in token order. T: float, double, Bf16 or F16.
template <typename T>
RoutingValidity check_routing(const backend::HostRouting& routing, const T* output_rows, std::int64_t hidden);

}  // namespace parm
