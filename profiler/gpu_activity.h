// What the GPU did on one rank, as plain records (no CUDA types): kernels, copies, memsets and runtime calls
// from CUPTI activity, CUPTI's own overhead, and the NVTX ranges we pushed around each op. Times are this
// rank's host clock (profiler::now_ns, steady), converted from CUPTI's CLOCK_REALTIME by the collector, so they
// go through the same per-rank clock alignment as TraceEvent. Names are indices into `names`.
// `launch_id` is the CUPTI external correlation id pushed around an op's launches: it equals the
// TraceEvent::launch_id of that op (0: launched outside any traced op).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace parm::profiler {

struct GpuKernelRecord {
  std::int64_t start_ns = 0, end_ns = 0;
  std::int64_t launch_id = 0;
  std::uint32_t device_id = 0, context_id = 0, stream_id = 0, correlation_id = 0;
  std::int32_t name = 0;  // mangled name as CUPTI reports it (demangled when stored)
  std::int32_t grid_x = 0, grid_y = 0, grid_z = 0, block_x = 0, block_y = 0, block_z = 0;
  std::int32_t static_shared_bytes = 0, dynamic_shared_bytes = 0, registers_per_thread = 0;
  std::int32_t launch_type = 0;  // CUpti_ActivityLaunchType
  std::int64_t local_memory_total = 0;
  std::int64_t grid_id = 0;
};

struct GpuMemcpyRecord {
  std::int64_t start_ns = 0, end_ns = 0;
  std::int64_t launch_id = 0;
  std::uint32_t device_id = 0, context_id = 0, stream_id = 0, correlation_id = 0;
  std::int64_t bytes = 0;
  std::int32_t copy_kind = 0;  // CUpti_ActivityMemcpyKind: 1 HtoD, 2 DtoH, 8 DtoD, 10 PtoP (nsys copyKind)
  std::int32_t src_kind = 0;   // CUpti_ActivityMemoryKind
  std::int32_t dst_kind = 0;
  std::int32_t src_device_id = -1, dst_device_id = -1;  // peer copies only
};

struct GpuMemsetRecord {
  std::int64_t start_ns = 0, end_ns = 0;
  std::int64_t launch_id = 0;
  std::uint32_t device_id = 0, context_id = 0, stream_id = 0, correlation_id = 0;
  std::int64_t bytes = 0;
  std::int32_t value = 0;
  std::int32_t memory_kind = 0;  // CUpti_ActivityMemoryKind
};

// A CUDA runtime API call (CUPTI_ACTIVITY_KIND_RUNTIME): correlation_id joins it to the kernel it launched.
struct GpuRuntimeRecord {
  std::int64_t start_ns = 0, end_ns = 0;
  std::uint32_t correlation_id = 0;
  std::uint32_t thread_id = 0;  // OS thread id (gettid) of the calling thread
  std::int32_t name = 0;        // "cudaLaunchKernel_v7000", ...
  std::int32_t return_value = 0;
  std::int32_t callback_id = 0;  // CUpti_runtime_api_trace_cbid
};

// CUPTI's own work (buffer flushes, instrumentation): shown so the overhead is visible, never hidden.
struct GpuOverheadRecord {
  std::int64_t start_ns = 0, end_ns = 0;
  std::int32_t kind = 0;  // CUpti_ActivityOverheadKind
  std::int32_t name = 0;  // "CUPTI buffer flush", ...
};

// One NVTX range of the "Parm" domain as we pushed it (host enqueue time of one op or pipeline step).
struct NvtxRangeRecord {
  std::int64_t start_ns = 0, end_ns = 0;
  std::int64_t launch_id = 0;  // the op's TraceEvent::launch_id
  std::int32_t text = 0;       // the registered string's text (index into names)
  std::int32_t category = 0;   // 1 compute, 2 intra-node, 3 inter-node (lane + 1; 0 is NVTX's "none")
  std::uint64_t payload = 0;   // the iteration
  std::uint32_t thread_id = 0;
};

struct GpuActivity {
  std::vector<std::string> names;
  std::vector<GpuKernelRecord> kernels;
  std::vector<GpuMemcpyRecord> memcpys;
  std::vector<GpuMemsetRecord> memsets;
  std::vector<GpuRuntimeRecord> runtime;
  std::vector<GpuOverheadRecord> overheads;
  std::vector<NvtxRangeRecord> nvtx;
  std::int64_t dropped_records = 0;  // cuptiActivityGetNumDroppedRecords over every context and stream
  std::uint32_t process_id = 0;      // getpid() of the rank (nsys globalPid = pid << 24)
  std::string unavailable;           // "" while capturing; else "CUPTI unavailable: <reason>"

  std::int32_t intern(const std::string& name);  // linear search is fine: names are few and repeat
  bool empty() const {
    return kernels.empty() && memcpys.empty() && memsets.empty() && runtime.empty() && overheads.empty() &&
           nvtx.empty();
  }
};

}  // namespace parm::profiler
