// Runs copied from one project into another (`parm merge`, and `parm run --remote` bringing a cluster's run
// back to the desktop's project): every row stored under each run, with new run ids, new event ids and the
// strings re-interned, so the copy reads exactly as the original did.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "db/database.h"

namespace parm::db {

struct CopiedRun {
  std::int64_t source_id = 0;
  std::int64_t id = 0;  // its id in the destination
  std::string name;
  bool complete = false;
};

// Copies every run of the project at `source` (opened read-only; an older parm's schema is read column by
// column, a newer one refused) into `destination`, in the source's order, in one transaction: all of them or,
// on any error (thrown as DbError), none. `source` must not be the destination's own file.
std::vector<CopiedRun> copy_runs(Database& destination, const std::string& source);

// What copy_runs refuses about the source (not a project, damaged, newer, the destination itself), checked
// before the destination is opened or created (as check_nsys_source does for import_nsys).
void check_copy_source(const std::string& source, const std::string& destination_path);

}  // namespace parm::db
