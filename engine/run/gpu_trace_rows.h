// One rank's GPU activity (profiler::GpuActivity, gathered with its op trace) as database rows in Nsight
// Systems' tables (db/gpu_activity.h): times through the same per-rank clock alignment as the rank's events,
// each record tied to the events row of the op with its launch id, nsys' global pid/tid, the rank's device as
// TARGET_INFO_GPU and its capture status.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "db/gpu_activity.h"
#include "engine/core/run_result.h"
#include "profiler/clock_alignment.h"
#include "profiler/gpu_activity.h"
#include "profiler/op_tracer.h"

namespace parm {

// A rank's clock as store_traces aligns it: local host time -> rank 0's clock, relative to the run's origin.
struct RankClock {
  profiler::ClockModel model;
  std::int64_t start_local_ns = 0, end_local_ns = 0;
  std::int64_t origin_ns = 0;  // rank 0's clock
  std::int64_t aligned(std::int64_t local_ns, std::int64_t reference_local_ns) const;
};

// True when the rank tried to capture GPU activity (a backend with a capture), so it gets a gpu_captures row.
bool has_gpu_capture(const profiler::GpuActivity& gpu);

// Appends `rank`'s rows to `rows`. `events` are the rank's trace events in the order they were stored and
// `first_event_id` the events.id of the first (Database::add_events; ids are consecutive).
void append_gpu_rows(db::GpuActivityRows& rows, int rank, const profiler::GpuActivity& gpu,
                     std::span<const profiler::TraceEvent> events, std::int64_t first_event_id,
                     const RankClock& clock, const RankDevice& device);

// "void parm::k::gemm<float>(float const*, int)" -> "gemm" (nsys' shortName).
std::string short_kernel_name(const std::string& demangled);
// The demangled name, or `mangled` itself when it is not a C++ symbol.
std::string demangle(const std::string& mangled);

}  // namespace parm
