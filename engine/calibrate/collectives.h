// The collective op families of a calibration on the layout's own communicators: AlltoAll (EP), AllGather,
// ReduceScatter and AllReduce (MP), one pairwise p2p step (fused EP), swept over the message sizes with
// algbw and busbw as nccl-tests prints them, and the interference factor of an EP AlltoAll running beside an
// MP AllGather.
#pragma once

#include <ostream>
#include <vector>

#include "engine/calibrate/harness.h"
#include "engine/calibrate/measurement.h"
#include "engine/comm/communicator.h"
#include "engine/core/config.h"

namespace parm::calibrate {

// Appends "alltoall", "allgather", "reducescatter", "allreduce" and "p2p" to `fits` (groups of one are
// skipped); returns the interference factor (1 when not measurable).
double time_collectives(const Config& config, comm::CommGroups& groups, const Harness& harness,
                        std::vector<Measurement>& fits, std::ostream& table);

}  // namespace parm::calibrate
