// How a project written by an older parm becomes the current schema. Each step after version 1 is data: the
// SQL that upgrades a file of the version before it. A fresh file is the base schema (schema.h) plus the
// steps after it, so new and upgraded files are one definition. What each version added (tables, views,
// columns) is read back from the DDL itself, so a read-only old file (which cannot be upgraded) is still
// accepted as complete and read with the added columns' defaults, and the check never drifts from the SQL.
#pragma once

#include <string>
#include <vector>

struct sqlite3;

namespace parm::db {

struct SchemaStep {
  int version = 0;                                         // the version a file has after this step
  const char* sql = "";                                    // upgrades a file of version - 1
  std::vector<std::pair<std::string, std::string>> added;  // (table, column) pairs; only for steps inside the
                                                           // base schema (later steps are diffed)
};

// Every step, in version order; the last one's version is kSchemaVersion.
const std::vector<SchemaStep>& schema_steps();

// A table or view of the current schema, with the version it (and each of its columns) first appeared in.
struct SchemaObject {
  std::string name;
  bool view = false;
  int since = 1;
  std::vector<std::pair<std::string, int>> columns;  // (column, since); empty for views
};
// The current schema, in creation order.
const std::vector<SchemaObject>& current_schema();

// Whether a file of schema version `version` lacks `table`.`column` (or the table or view itself, with an
// empty `column`) only because a later step adds it.
bool added_after(int version, const std::string& table, const std::string& column = {});

// Creates the current schema in an empty file (base schema + every later step); the caller holds a
// transaction.
void create_schema(sqlite3* db);

// Applies every step after `version` and records the new version; the caller holds a transaction.
void migrate_schema(sqlite3* db, int version);

}  // namespace parm::db
