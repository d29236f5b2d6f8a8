// The collective op families of a calibration on the layout's own communicators: AlltoAll (EP, EP#fused, and
// the hierarchical AlltoAll's EP-intra and EP-inter),
// AllGather and ReduceScatter (MP, ESP, MP#fused, ESP#fused), AllReduce (MP, ESP), one pairwise p2p step
// (EP#fused), swept over the message sizes with algbw, busbw and #wrong as nccl-tests prints them, and the
// interference factor of an EP AlltoAll running beside an MP AllGather. Every collective is enqueued on the
// rank's backend stream the executor uses for its group (StreamCommunicator: MP/ESP on the intra stream, EP
// on the inter stream) and timed by events around it; after the timed calls of each size one more call runs
// on a known pattern and its output is checked (collective_check.h).
#pragma once

#include <ostream>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/calibrate/harness.h"
#include "engine/calibrate/measurement.h"
#include "engine/core/config.h"

namespace parm::calibrate {

// Appends "alltoall", "allgather", "reducescatter", "allreduce" and "p2p" to `fits`, one per communicator,
// the one the cost model reads first (groups of one are skipped; a quick sweep measures that one only);
// returns the interference factor (1 when not measurable). Throws std::runtime_error, on every rank alike,
// naming the op, communicator and size when the data check finds a wrong element.
double time_collectives(const Config& config, backend::Backend& backend, const backend::StreamGroups& groups,
                        const Harness& harness, std::vector<Measurement>& fits, std::ostream& table);

}  // namespace parm::calibrate
