// `--db PROJECT` as every subcommand that takes it handles it: the same refusals with the same exit code (2)
// everywhere, and a command that will store a run learns before it does the work that it cannot.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace parm::cli {

// Validator for a --db option of `command` ("run", "runs", ...): an empty path is refused while parsing with
// "parm COMMAND: --db: ..." and exit 2 (rather than meaning "no project" or a temporary database).
CLI::Validator db_path_check(const std::string& command);

// Before `command` does work whose result it stores in `path` (when set): exits 2 with one line naming the
// file when the run could not be stored (read-only, not a project, a directory...). Creates no file.
void require_storable_db(const std::string& command, const std::string& path);

}  // namespace parm::cli
