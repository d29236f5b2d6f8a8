// Checks one executed schedule against the single-process reference (spec parm.md section 8): the layer
// output and dX of this rank's MP group, and every parameter gradient after the reduction a trainer would do
// (router gradient summed over MP groups; with N_ESP = 1 expert gradients summed over their N_MP replicas).
// Collective over the world; every rank returns the same report.
#pragma once

#include "engine/comm/communicator.h"
#include "engine/run/executor.h"

namespace parm {

struct VerifyReport {
  // Relative errors: max |distributed - reference| / max |reference| over the tensor, worst over ranks.
  double output = 0;
  double input_grad = 0;
  double router_grad = 0;
  double expert_grads = 0;  // worst of dW1, db1, dW3, db3, dW2, db2
  // Choices dropped for lack of capacity, summed over ranks (the schedule's, counting each MP group once) and
  // in the reference. Where they differ the schedules route differently and need not match (S1's token
  // slices).
  std::int64_t dropped = 0;
  std::int64_t reference_dropped = 0;
  double worst() const;
};

// The relative error a run of `dtype` may show against the reference (spec section 8, issue 14): fp32 1e-5,
// fp64 1e-12, bf16 2e-2, fp16 1e-2. The one table of these tolerances.
double verify_tolerance(DType dtype);

// T: float, double, Bf16 or F16. The reference computes in fp64 for fp64 and in fp32 otherwise, on the run's
// own (for 16-bit: rounded) inputs and weights.
template <typename T>
VerifyReport verify_against_reference(const Config& config, const RankLayout& layout,
                                      comm::CommGroups& groups, const LayerExecutor<T>& executor);

}  // namespace parm
