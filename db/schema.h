// The DDL of a Parm Studio file (schema version kSchemaVersion).
#pragma once

namespace parm::db {

// Creates every table, view and index of an empty file; run inside one transaction.
extern const char* const kSchemaSql;

}  // namespace parm::db
