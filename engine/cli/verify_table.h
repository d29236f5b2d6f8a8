// What `parm run --verify` prints and writes in --json for each schedule: the check it got, the relative
// errors of the output, dX and the parameter gradients, the tolerance, the routing-validity counts,
// PASS/FAIL. Read from rank 0's results (every rank holds the same collective report).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/core/run_result.h"

namespace parm::cli {

// The schedules' reports in run order (rank 0's); empty when the run did not verify.
std::vector<std::pair<ScheduleKind, VerifyReport>> verify_reports(const RunResult& result);

// The table, one line per schedule, then "verify: PASS (...)" or "verify: FAIL (...)".
void print_verify_table(const std::vector<std::pair<ScheduleKind, VerifyReport>>& reports);

// One line per failed schedule, "S1: output 3.10e-02 > tolerance 1.00e-05 (...)"; empty when all passed.
std::vector<std::string> verify_failures(const std::vector<std::pair<ScheduleKind, VerifyReport>>& reports);

}  // namespace parm::cli
