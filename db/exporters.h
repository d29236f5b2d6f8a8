// Exports of a stored run: Perfetto / Chrome trace JSON and CSV; import of an Nsight Systems SQLite export.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "db/database.h"

namespace parm::db {

// Chrome trace JSON (Perfetto UI, chrome://tracing): process = rank, thread = lane (compute / intra / inter),
// microsecond timestamps relative to the run start, process/thread names and sort order as metadata events,
// flow arrows ("s"/"f" with bind_id) joining the events of one collective (same schedule, iteration, phase,
// group communicator, seq) across its member ranks. On each lane track the ops nest under a schedule slice
// and an iteration slice spanning that lane's own ops (cat "schedule" / "iteration", args schedule,
// iteration). Predicted intervals: process "Predicted", one thread per (schedule, lane), each schedule placed
// at its measured first iteration's start (its own time base, from 0, when it has no measured ops). GPU
// activity: one thread per (device, stream) per rank ("GPU 0 stream 13", tid 1000 + index, sorted after the
// lanes), kernels as slices with their args and launching op, a "launch" flow arrow from the op's slice to
// each kernel, copies and memsets as slices with bytes and kind.
void export_perfetto(const Database& db, std::int64_t run, std::ostream& out);

// Run `run` as a standalone Nsight Systems-shaped SQLite file at `out_path`: StringIds,
// CUPTI_ACTIVITY_KIND_KERNEL / _MEMCPY / _MEMSET / _RUNTIME, NVTX_EVENTS, TARGET_INFO_GPU, PROCESSES,
// TARGET_INFO_SESSION_START_TIME with nsys' columns only, times in ns relative to the session start (= the
// run origin), one process per rank (globalPid = pid << 24, distinct per rank). Refuses an existing
// `out_path`; writes a temporary file beside it and moves it into place, so a failure leaves no file under
// the name. Throws DbError (one line).
void export_nsys(const Database& db, std::int64_t run, const std::string& out_path);

// One row per event with every column named, strings resolved.
void export_csv(const Database& db, std::int64_t run, std::ostream& out);

// Imports kernels, memcpys, memsets and NVTX ranges of an Nsight Systems SQLite export (nsys export --type
// sqlite) as a run of kind "nsys-import": each (process, device) pair becomes a rank, its GPU streams its
// lanes; the GPU rows are also stored in the project's GPU activity tables for the new run
// (db/gpu_activity.h). Throws DbError naming the file and the missing table/column when it is not such an
// export. Returns the new run id. The source is opened read-only and immutable: nothing is written to it or
// created beside it. A Parm Studio project (the target itself included, by any path: device and inode are
// compared) is refused.
std::int64_t import_nsys(Database& db, const std::string& nsys_sqlite_path);

// What import_nsys refuses about the source, checked before the project is opened or created.
void check_nsys_source(const std::string& nsys_sqlite_path, const std::string& project_path);

}  // namespace parm::db
