#include "db/schema_migration.h"

#include "db/database.h"
#include "db/sqlite_stmt.h"

namespace parm::db {

const std::vector<SchemaStep>& schema_steps() {
  // Defaults are what an old row means: version 1 ranks were all cpu ranks (no ordinal, no device memory).
  static const std::vector<SchemaStep> steps{
      {2,
       "ALTER TABLE ranks ADD COLUMN device_ordinal INTEGER NOT NULL DEFAULT -1;"
       "ALTER TABLE ranks ADD COLUMN device_memory_bytes INTEGER NOT NULL DEFAULT 0;"
       "ALTER TABLE ranks ADD COLUMN device_driver TEXT NOT NULL DEFAULT '';"
       "ALTER TABLE ranks ADD COLUMN peak_device_bytes INTEGER NOT NULL DEFAULT 0;"
       "ALTER TABLE ranks ADD COLUMN device_allocations INTEGER NOT NULL DEFAULT 0;",
       {{"ranks", "device_ordinal"},
        {"ranks", "device_memory_bytes"},
        {"ranks", "device_driver"},
        {"ranks", "peak_device_bytes"},
        {"ranks", "device_allocations"}}},
  };
  return steps;
}

bool added_after(int version, const std::string& table, const std::string& column) {
  for (const SchemaStep& step : schema_steps()) {
    if (step.version <= version) continue;
    for (const auto& [t, c] : step.added)
      if (t == table && c == column) return true;
  }
  return false;
}

void migrate_schema(sqlite3* db, int version) {
  for (const SchemaStep& step : schema_steps()) {
    if (step.version <= version) continue;
    exec(db, step.sql, "cannot upgrade the schema to version " + std::to_string(step.version));
    Stmt v(db, "INSERT INTO schema_version (version, created_by) VALUES (?, 'parm 0.1.0 upgrade')");
    v.bind(1, std::int64_t{step.version}).run();
  }
}

}  // namespace parm::db
