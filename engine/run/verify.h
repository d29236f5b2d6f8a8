// Checks one executed schedule against the single-process reference (spec parm.md section 8) and reports
// what it found (engine/core/verify_result.h). A schedule that routes as the reference does gets the
// "reference" check: the layer output and dX of this rank's MP group, and every parameter gradient after the
// reduction a trainer would do (router gradient summed over MP groups; with N_ESP = 1 expert gradients summed
// over their N_MP replicas), within verify_tolerance. One that legitimately routes differently (drop regime:
// S1/S1F's token slices with C1, B_DS2/S2's C2 when C0 % N != 0) gets the "routing validity" check instead:
// its routing obeys the rules of routing_validity.h on every rank, and every tensor equals the reference
// layer run on that very routing. Collective over the world; every rank returns the same report.
#pragma once

#include "engine/backend/compute.h"
#include "engine/comm/communicator.h"
#include "engine/core/verify_result.h"
#include "engine/run/executor.h"

namespace parm {

// The relative error a run of `dtype` may show against the reference (spec section 8, issue 14): fp32 1e-5,
// fp64 1e-12, bf16 2e-2, fp16 1e-2. The one table of these tolerances.
double verify_tolerance(DType dtype);

// Which check a schedule gets: Reference unless tokens are dropped (by it or the reference) and its capacity
// rule gives another capacity than C0 (C1 always; C2 unless C0 is a multiple of N_MP).
VerifyCheck verify_check_for(const Config& config, const Schedule& schedule, std::int64_t dropped,
                             std::int64_t reference_dropped);

// T: float, double, Bf16 or F16. The reference computes in fp64 for fp64 and in fp32 otherwise, on the run's
// own (for 16-bit: rounded) inputs and weights. `routing`: the routing to check instead of the executor's
// (a test hook for corrupted routings; null in runs).
template <typename T>
VerifyReport verify_against_reference(const Config& config, const RankLayout& layout,
                                      comm::CommGroups& groups, const LayerExecutor<T>& executor,
                                      const backend::HostRouting* routing = nullptr);

}  // namespace parm
