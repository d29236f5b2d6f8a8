// The collective op families of a calibration on the layout's own communicators: AlltoAll (EP), AllGather,
// ReduceScatter and AllReduce (MP), one pairwise p2p step (fused EP), swept over the message sizes with
// algbw and busbw as nccl-tests prints them, and the interference factor of an EP AlltoAll running beside an
// MP AllGather. Every collective is enqueued on the rank's backend stream the executor uses for its group
// (StreamCommunicator: MP on the intra stream, EP on the inter stream) and timed by events around it.
#pragma once

#include <ostream>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/calibrate/harness.h"
#include "engine/calibrate/measurement.h"
#include "engine/core/config.h"

namespace parm::calibrate {

// Appends "alltoall", "allgather", "reducescatter", "allreduce" and "p2p" to `fits` (groups of one are
// skipped); returns the interference factor (1 when not measurable).
double time_collectives(const Config& config, backend::Backend& backend, const backend::StreamGroups& groups,
                        const Harness& harness, std::vector<Measurement>& fits, std::ostream& table);

}  // namespace parm::calibrate
