#include "db/schema_migration.h"

#include <algorithm>
#include <utility>

#include "db/database.h"
#include "db/schema.h"
#include "db/sqlite_stmt.h"

namespace parm::db {
namespace {

struct MemoryDb {
  sqlite3* db = nullptr;
  MemoryDb() { sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr); }
  ~MemoryDb() { sqlite3_close_v2(db); }
};

// Adds the tables, views and columns of `db` that `objects` lacks, as new in `version`.
void record_new(sqlite3* db, int version, std::vector<SchemaObject>& objects) {
  Stmt s(db, "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY rowid");
  while (s.step()) {
    const std::string name = s.text(1);
    auto it =
        std::find_if(objects.begin(), objects.end(), [&](const SchemaObject& o) { return o.name == name; });
    if (it == objects.end()) {
      objects.push_back({name, s.text(0) == "view", version, {}});
      it = std::prev(objects.end());
    }
    if (it->view) continue;
    Stmt c(db, "SELECT name FROM pragma_table_info(?)");
    c.bind(1, name);
    while (c.step()) {
      const std::string column = c.text(0);
      const bool known = std::any_of(it->columns.begin(), it->columns.end(),
                                     [&](const auto& known_column) { return known_column.first == column; });
      if (!known) it->columns.emplace_back(column, version);
    }
  }
}

}  // namespace

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
      {3, kGpuSchemaSql, {}},
  };
  return steps;
}

const std::vector<SchemaObject>& current_schema() {
  static const std::vector<SchemaObject> objects = [] {
    MemoryDb memory;
    exec(memory.db, kBaseSchemaSql, "cannot create the reference schema");
    std::vector<SchemaObject> out;
    record_new(memory.db, 1, out);
    // The base schema already holds the steps up to its version: their columns are dated by their lists.
    for (const SchemaStep& step : schema_steps()) {
      if (step.version > kBaseSchemaVersion) break;
      for (const auto& [table, column] : step.added)
        for (SchemaObject& o : out)
          for (auto& [name, since] : o.columns)
            if (o.name == table && name == column) since = step.version;
    }
    for (const SchemaStep& step : schema_steps()) {
      if (step.version <= kBaseSchemaVersion) continue;
      exec(memory.db, step.sql, "cannot create the reference schema");
      record_new(memory.db, step.version, out);
    }
    return out;
  }();
  return objects;
}

bool added_after(int version, const std::string& table, const std::string& column) {
  for (const SchemaObject& o : current_schema()) {
    if (o.name != table) continue;
    if (column.empty()) return o.since > version;
    for (const auto& [name, since] : o.columns)
      if (name == column) return since > version;
  }
  return false;
}

void create_schema(sqlite3* db) {
  exec(db, kBaseSchemaSql, "cannot create the schema");
  for (const SchemaStep& step : schema_steps())
    if (step.version > kBaseSchemaVersion)
      exec(db, step.sql, "cannot create the schema (version " + std::to_string(step.version) + ")");
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
