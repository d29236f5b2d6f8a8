#include "engine/cli/db_option.h"

#include <iostream>

#include "db/database.h"

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
