// How a project written by an older parm becomes the current schema. Each step after version 1 is data: the
// SQL that upgrades a file of the version before it, and the columns it adds, so a read-only old file (which
// cannot be upgraded) is still accepted as complete and read with the added columns' defaults.
#pragma once

#include <string>
#include <vector>

struct sqlite3;

namespace parm::db {

struct SchemaStep {
  int version = 0;                                         // the version a file has after this step
  const char* sql = "";                                    // upgrades a file of version - 1
  std::vector<std::pair<std::string, std::string>> added;  // (table, column) pairs the step adds
};

// Every step, in version order; the last one's version is kSchemaVersion.
const std::vector<SchemaStep>& schema_steps();

// Whether a file of schema version `version` lacks `table`.`column` only because a later step adds it.
bool added_after(int version, const std::string& table, const std::string& column);

// Applies every step after `version` and records the new version; the caller holds a transaction.
void migrate_schema(sqlite3* db, int version);

}  // namespace parm::db
