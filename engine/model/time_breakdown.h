// Where one schedule's layer time goes, as parts that add up to it (the Compare page's stacked bars).
//
// Classification, on one rank and one iteration (forward + backward): the lanes are swept over the time from
// the rank's first op start to its last op end; every instant belongs to exactly one part:
//   Compute      only the compute lane is busy;
//   IntraExposed only intra-node communication (MP/ESP lane) transfers, nothing else runs;
//   InterExposed only inter-node communication (EP lane) transfers, nothing else runs;
//   Hidden       two or more of {compute, intra transfer, inter transfer} run at once: communication
//                hidden under other work (the overlap a pipelined schedule buys);
//   Waiting      no lane computes or transfers but a collective waits for its last member to arrive
//                (collective_wait.h: the part of a collective before the last member's start);
//   Idle         nothing runs at all (gaps between ops: launch and bookkeeping overhead).
// A collective's wait is its first part (start .. last arrival), its transfer the rest.
//
// Measured: per iteration the slowest rank (the longest first-start .. last-end span), and of those the
// median iteration (by that span; the lower one of an even count): its parts, not medians per part, so the
// bar is one real iteration and its parts add up to it. Predicted: the stored predicted intervals (one rank,
// lanes as the model writes them); the model folds the wait for peers ("sync") into each collective, so a
// predicted bar's Waiting is 0.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace parm {

enum class BreakdownPart { Compute = 0, IntraExposed, InterExposed, Hidden, Waiting, Idle };
inline constexpr int kBreakdownPartCount = 6;
const char* to_string(BreakdownPart part);  // "compute", "exposed intra-node", ...

// One op interval of one rank: lane 0 compute, 1 intra, 2 inter (db::EventRow::lane; other lanes, e.g. an
// import's extra streams, count as compute); the first wait_ns of it is waiting.
struct LaneInterval {
  int lane = 0;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::int64_t wait_ns = 0;
};

struct TimeBreakdown {
  std::array<double, kBreakdownPartCount> ms{};  // indexed by BreakdownPart
  double of(BreakdownPart p) const { return ms[static_cast<std::size_t>(p)]; }
  double total_ms() const;
};

// The classification above over one rank's intervals of one iteration.
TimeBreakdown classify_lanes(const std::vector<LaneInterval>& intervals);

struct ScheduleBreakdown {
  std::string schedule;
  std::optional<TimeBreakdown> measured;
  int measured_iteration = -1;  // the median iteration shown
  int measured_rank = -1;       // its slowest rank
  std::optional<TimeBreakdown> predicted;
};

// Registry order, then other schedule names (imports) by name. `names`: StringIds lookup (db.string).
std::vector<ScheduleBreakdown> time_breakdowns(const std::vector<db::EventRow>& events,
                                               const std::vector<db::EventRow>& predictions,
                                               const db::Database& names);
std::vector<ScheduleBreakdown> time_breakdowns(const db::Database& db, std::int64_t run);

}  // namespace parm
