// `parm show --verdict`: the one-line verdict of a stored run (engine/model/verdict.h verdict_summary, the
// wording the GUI shows), or with --json its parts (measured best, tied set, per-schedule layer-time and
// speedup spreads, predicted best) for scripts such as scripts/demo.sh and bench/demo_stability.sh.
#pragma once

#include <cstdint>

#include "db/database.h"

namespace parm::cli {

// Throws db::DbError (missing run) or std::runtime_error (unreadable result), each one line.
void print_verdict(const db::Database& d, std::int64_t run, bool json);

}  // namespace parm::cli
