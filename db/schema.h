// The DDL of a Parm Studio file: the schema of version kBaseSchemaVersion, and the SQL of the steps after it.
#pragma once

namespace parm::db {

// The schema as version kBaseSchemaVersion created it (tables, views, indexes of an empty file).
inline constexpr int kBaseSchemaVersion = 2;
extern const char* const kBaseSchemaSql;

// Version 3: GPU activity (run, rank, event columns on the Nsight Systems tables, the MEMSET, RUNTIME,
// PROCESSES and TARGET_INFO_SESSION_START_TIME tables, gpu_captures, the kernel_ops and gpu_ops views).
extern const char* const kGpuSchemaSql;

}  // namespace parm::db
