// Questions about a project's runs that callers used to answer by scanning every run (with its configuration
// and result text) in a loop of their own: answered in SQL here, on prepared statements.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "db/database.h"

namespace parm::db {

// The newest run (highest id) of `kind` ("measured", "validation", "calibration", ...), only complete ones
// with `complete_only`; nullopt when there is none. Throws DbError naming the file.
std::optional<std::int64_t> latest_run_of_kind(const Database& db, std::string_view kind, bool complete_only);

}  // namespace parm::db
