// A stored run with GPU activity built in the test, written through the real writer (Database::add_events and
// db::add_gpu_activity): two ranks, two ops each (an expert op and an AlltoAll), kernels launched by them on
// two streams, a copy, a memset, runtime calls, NVTX ranges, devices and captures. Shared by the db tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/gpu_activity.h"

namespace parm::test {

struct GpuRun {
  std::int64_t run = 0;
  std::int64_t first_event = 0;  // events.id of rank 0's first op; ops are first_event + 0..3
  db::GpuActivityRows rows;
};

inline db::RunInfo gpu_run_info() {
  db::RunInfo r;
  r.name = "gpu-traced";
  r.kind = "measured";
  r.started_at = "2026-01-02T03:04:05Z";
  r.backend = "cuda";
  r.ranks = 2;
  r.config_json = R"({"name":"gpu-traced"})";
  r.origin_ns = 1'000'000;
  return r;
}

// Kernel i of rank `rank`, launched by op event `event`, on `stream`.
inline db::GpuKernelRow gpu_kernel(int rank, int i, std::optional<std::int64_t> event, std::int64_t stream,
                                   std::int64_t start) {
  db::GpuKernelRow k;
  k.rank = rank;
  k.start_ns = start;
  k.end_ns = start + 1500 + 100 * i;
  k.device_id = rank;
  k.context_id = 1;
  k.stream_id = stream;
  k.correlation_id = 100 + 10 * rank + i;
  k.global_pid = std::int64_t{4242 + rank} << 24;
  k.event = event;
  k.demangled_name =
      i % 2 ? "void parm::expert_gemm<__half>(int, int)" : "ncclDevKernel_AllToAll(ncclDevComm*)";
  k.short_name = i % 2 ? "expert_gemm" : "ncclDevKernel_AllToAll";
  k.mangled_name = i % 2 ? "_ZN4parm11expert_gemmI6__halfEEvii" : "";
  k.grid_x = 64 + i;
  k.grid_y = 2;
  k.grid_z = 1;
  k.block_x = 256;
  k.block_y = 1;
  k.block_z = 1;
  k.static_shared_bytes = 1024 * i;
  k.dynamic_shared_bytes = 49152;
  k.registers_per_thread = 96;
  k.launch_type = 0;
  k.local_memory_total = 1 << 20;
  k.grid_id = 7 + i;
  return k;
}

inline GpuRun store_gpu_run(db::Database& db) {
  GpuRun g;
  g.run = db.begin_run(gpu_run_info());
  std::vector<db::RankInfo> ranks(2);
  for (int r = 0; r < 2; ++r) {
    ranks[r].rank = r;
    ranks[r].host = "gpu-node";
    ranks[r].device = "NVIDIA H200";
    ranks[r].device_ordinal = r;
  }
  db.add_ranks(g.run, ranks);
  std::vector<db::EventRow> events;
  for (int r = 0; r < 2; ++r) {
    db::EventRow e;
    e.rank = r;
    e.schedule = db.intern("parm");
    e.group = db.intern("-");
    e.purpose = db.intern("expert");
    e.op = db.intern("experts");
    e.iteration = 3;
    e.chunk = 1;
    e.start_ns = 10'000;
    e.end_ns = 20'000;
    events.push_back(e);
    e.lane = 2;
    e.op = db.intern("AlltoAll");
    e.group = db.intern("EP");
    e.purpose = db.intern("dispatch");
    e.comm = 0;
    e.seq = 0;
    e.bytes = 4096;
    e.chunk = -1;
    e.start_ns = 20'000;
    e.end_ns = 30'000;
    events.push_back(e);
  }
  g.first_event = db.add_events(g.run, events);

  db::GpuActivityRows& rows = g.rows;
  for (int r = 0; r < 2; ++r) {
    const std::int64_t expert_op = g.first_event + 2 * r, alltoall_op = expert_op + 1;
    rows.captures.push_back({r, r == 0 ? "" : "CUPTI unavailable: CUPTI_ERROR_UNKNOWN", 3 * r, 2, 5000 + r,
                             4242 + r, "parm worker (rank " + std::to_string(r) + ")"});
    rows.devices.push_back({r, r, "NVIDIA H200", "0000:1" + std::to_string(r) + ":00.0",
                            "GPU-uuid-" + std::to_string(r), "GH100", 150'000'000'000, 4'800'000'000'000,
                            52'428'800, 1'980'000, 132, 9, 0});
    rows.kernels.push_back(gpu_kernel(r, 1, expert_op, 13, 11'000));
    rows.kernels.push_back(gpu_kernel(r, 3, expert_op, 13, 14'000));
    rows.kernels.push_back(gpu_kernel(r, 0, alltoall_op, 14, 21'000));
    rows.kernels.push_back(gpu_kernel(r, 2, std::nullopt, 14, 31'000));  // outside any traced op
    db::GpuMemcpyRow m;
    m.rank = r;
    m.start_ns = 9'000;
    m.end_ns = 9'800;
    m.device_id = r;
    m.context_id = 1;
    m.stream_id = 13;
    m.correlation_id = 90 + r;
    m.global_pid = std::int64_t{4242 + r} << 24;
    m.event = expert_op;
    m.bytes = 1 << 16;
    m.copy_kind = 1;
    m.src_kind = 1;
    m.dst_kind = 3;
    rows.memcpys.push_back(m);
    db::GpuMemsetRow s;
    s.rank = r;
    s.start_ns = 10'500;
    s.end_ns = 10'700;
    s.device_id = r;
    s.context_id = 1;
    s.stream_id = 14;
    s.correlation_id = 95 + r;
    s.global_pid = m.global_pid;
    s.bytes = 512;
    s.value = 0;
    s.memory_kind = 3;
    rows.memsets.push_back(s);
    rows.runtime.push_back(
        {r, 10'900, 11'050, m.global_pid | 77, 101 + 10 * r, "cudaLaunchKernel_v7000", 0, 1});
    rows.nvtx.push_back({r, 10'000, 20'000, m.global_pid | 77, "experts", 1, 1, 3, expert_op});
    rows.nvtx.push_back({r, 20'000, 30'000, m.global_pid | 77, "AlltoAll", 3, 1, 3, alltoall_op});
  }
  db::add_gpu_activity(db, g.run, rows);
  db.finish_run(g.run);
  return g;
}

}  // namespace parm::test
