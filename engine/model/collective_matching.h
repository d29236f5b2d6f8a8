// The cross-rank matching of a run's collectives: one collective is the events with equal (schedule,
// iteration, phase, group, comm, seq) on its members' ranks; its last arrival is the latest start among
// them. Each event's time splits into waiting for that last arrival and the transfer (collective_wait.h).
#pragma once

#include <vector>

#include "db/database.h"
#include "engine/model/collective_wait.h"

namespace parm {

// One split per event, same index. A local op (seq < 0) has no wait: its whole duration is in transfer_ns,
// so callers tell compute from communication by the lane.
std::vector<CollectiveSplit> split_collectives(const std::vector<db::EventRow>& events);

}  // namespace parm
