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

// Validator for an output option (--out, --table) whose text or JSON would replace the file: a path that
// holds an SQLite database (a project, most likely) is refused while parsing, so a slip of the flag never
// overwrites stored runs. Reads the header through db::probe_file (no descriptor of our own).
CLI::Validator not_a_database_check(const std::string& command, const std::string& flag);
// The same refusal where it must come after a more specific one (export: "is the project file itself").
void refuse_database_output(const std::string& command, const std::string& flag, const std::string& path);

}  // namespace parm::cli
