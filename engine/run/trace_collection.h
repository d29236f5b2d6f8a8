// From per-rank op traces to one stored run: the gather of every rank's events to rank 0 (the clock offsets
// measured at the start and end of a run come from engine/comm/world_clock.h), and their conversion to
// aligned, run-relative database rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "db/database.h"
#include "engine/comm/mpi_world.h"
#include "engine/core/run_result.h"
#include "profiler/clock_alignment.h"
#include "profiler/gpu_activity.h"
#include "profiler/op_tracer.h"

namespace parm {

struct RankTrace {
  int rank = 0;
  std::string host;
  profiler::ClockModel clock;
  std::int64_t start_local_ns = 0;  // when the start/end offsets were measured, on this rank's clock
  std::int64_t end_local_ns = 0;
  std::vector<std::string> names;  // the tracer's interned names
  std::vector<profiler::TraceEvent> events;
  std::size_t overflow = 0;
  profiler::GpuActivity gpu;  // kernels, copies, ... and NVTX ranges; empty on the cpu backend
};

// Rank 0 receives every rank's trace (index = rank); other ranks get an empty vector.
std::vector<RankTrace> gather_traces(const comm::MpiWorld& world, const RankTrace& mine);

// The flat byte image gather_traces sends (POD vectors and NUL-terminated names) and its inverse, which
// throws std::runtime_error on a truncated image.
std::string serialize_trace(const RankTrace& trace);
RankTrace deserialize_trace(const char* data, std::size_t size);

// The distinct "CUPTI unavailable: <reason>" lines of `traces`, each with the ranks that gave it.
std::vector<std::string> capture_problems(const std::vector<RankTrace>& traces);

// Writes the ranks and their events (and their GPU activity, db/gpu_activity.h), times shifted onto rank 0's
// clock (offset interpolated between the start and end measurements) and made relative to `origin_ns` (rank
// 0's clock). Returns the alignment uncertainty (ns). Each rank's row carries its device record from
// `results` (the gathered RankRunResults, index = rank).
double store_traces(db::Database& db, std::int64_t run, std::int64_t origin_ns,
                    const std::vector<RankTrace>& traces, const std::vector<RankRunResult>& results);

// A rank's row of the ranks table: its host and clock from `trace`, its device from `result`.
db::RankInfo rank_row(const RankTrace& trace, const RankDevice& device);

}  // namespace parm
