#include "engine/cli/db_option.h"

#include <iostream>

#include "db/database.h"
#include "db/file_probe.h"

namespace parm::cli {

CLI::Validator db_path_check(const std::string& command) {
  return CLI::Validator(
      [command](std::string& value) -> std::string {
        if (!value.empty()) return {};
        // Printed here and left through RuntimeError: the same one line and exit 2 as every other refusal.
        std::cerr << "parm " << command
                  << ": --db: empty path; name the project file (e.g. --db project.sqlite)\n";
        throw CLI::RuntimeError(2);
      },
      "");
}

void refuse_database_output(const std::string& command, const std::string& flag, const std::string& path) {
  if (path.empty() || db::probe_file(path).kind != db::FileKind::Sqlite) return;
  std::cerr << "parm " << command << ": " << flag << " " << path
            << ": is an SQLite database (a project?); writing there would destroy it, name another file\n";
  throw CLI::RuntimeError(2);
}

CLI::Validator not_a_database_check(const std::string& command, const std::string& flag) {
  return CLI::Validator(
      [command, flag](std::string& value) -> std::string {
        refuse_database_output(command, flag, value);
        return {};
      },
      "");
}

void require_storable_db(const std::string& command, const std::string& path) {
  if (path.empty()) return;
  try {
    db::Database::check_can_store(path);
  } catch (const db::DbError& e) {
    std::cerr << "parm " << command << ": " << e.what() << '\n';
    throw CLI::RuntimeError(2);
  }
}

}  // namespace parm::cli
