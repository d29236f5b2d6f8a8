// A rank's GPU activity from the worker to the database, without a device: a RankTrace with op events and a
// GpuActivity built here (kernels launched by some ops, one launched outside any op, one whose launch id no
// op has, a copy, a memset, runtime calls, NVTX ranges, CUPTI overheads, dropped records; a clock offset with
// drift) stored through store_traces into a real project. Every kernel points at the events row of the op
// with its launch id (read back through the kernel_ops view), times are aligned like the events, the capture
// row carries the losses. Then the same activity through gather_traces on 2 ranks: rank 1's arrives intact.
#include <sqlite3.h>

#include <QTemporaryDir>
#include <QtTest>
#include <cstring>
#include <map>
#include <stdexcept>

#include "db/database.h"
#include "db/gpu_activity.h"
#include "engine/comm/mpi_world.h"
#include "engine/run/gpu_trace_rows.h"
#include "engine/run/trace_collection.h"
#include "tests/engine/mpi_test_main.h"

using namespace parm;

namespace {

// Static: MPI is finalised by the test main, and the world's destructor then finds it finalised.
const comm::MpiWorld& world() {
  static const comm::MpiWorld w;
  return w;
}

constexpr std::int64_t kStartLocal = 5'000'000'000;  // rank 1's clock when the offsets were measured
constexpr std::int64_t kEndLocal = 5'010'000'000;
constexpr std::int64_t kOrigin = 1'000'000'000;  // rank 0's clock at the run start
const std::string kMangled = "_ZN4parm7kernels11expert_gemmIfEEvPKfi";

profiler::TraceEvent op_event(std::int32_t op, std::int32_t lane, std::int64_t start,
                              std::int64_t launch_id) {
  profiler::TraceEvent e;
  e.start_ns = start;
  e.end_ns = start + 200'000;
  e.lane = lane;
  e.schedule = 0;
  e.op = op;
  e.group = 3;
  e.purpose = 4;
  e.launch_id = launch_id;
  e.iteration = 1;
  return e;
}

profiler::GpuKernelRecord kernel(std::int64_t start, std::int64_t launch_id, std::int32_t name,
                                 std::int32_t grid) {
  profiler::GpuKernelRecord k;
  k.start_ns = start;
  k.end_ns = start + 50'000;
  k.launch_id = launch_id;
  k.device_id = 1;
  k.context_id = 1;
  k.stream_id = 13;
  k.correlation_id = static_cast<std::uint32_t>(100 + launch_id);
  k.name = name;
  k.grid_x = grid;
  k.grid_y = 1;
  k.grid_z = 1;
  k.block_x = 256;
  k.block_y = 1;
  k.block_z = 1;
  k.dynamic_shared_bytes = 4096;
  k.registers_per_thread = 64;
  return k;
}

// Rank 1: ops "gate" (launch 1), "AlltoAll" (2), "experts" (3), all after the start measurement.
RankTrace gpu_rank_trace() {
  RankTrace t;
  t.rank = 1;
  t.host = "node-b";
  t.clock.start = {2'000'000.0, 500.0};  // rank 1 is 2 ms behind rank 0 at the start ...
  t.clock.end = {2'010'000.0, 700.0};    // ... and 2.01 ms at the end (1000 ppm of drift)
  t.clock.drift_ppm = 1000;
  t.start_local_ns = kStartLocal;
  t.end_local_ns = kEndLocal;
  t.names = {"B_DS", "gate", "AlltoAll", "EP", "dispatch", "experts"};
  t.events = {op_event(1, 0, kStartLocal + 1'000'000, 1), op_event(2, 2, kStartLocal + 2'000'000, 2),
              op_event(5, 0, kStartLocal + 3'000'000, 3)};

  profiler::GpuActivity& g = t.gpu;
  g.process_id = 4242;
  g.dropped_records = 3;
  const std::int32_t gemm = g.intern(kMangled);
  const std::int32_t a2a = g.intern("ncclDevKernel_AllToAll");
  const std::int32_t launch = g.intern("cudaLaunchKernel_v7000");
  g.kernels = {kernel(kStartLocal + 1'050'000, 1, gemm, 64), kernel(kStartLocal + 2'050'000, 2, a2a, 8),
               kernel(kStartLocal + 3'050'000, 3, gemm, 32), kernel(kStartLocal + 3'100'000, 3, gemm, 16),
               kernel(kStartLocal + 500'000, 0, gemm, 4),     // outside any op (e.g. an upload)
               kernel(kStartLocal + 4'000'000, 99, a2a, 2)};  // a launch id no stored op has
  profiler::GpuMemcpyRecord copy;
  copy.start_ns = kStartLocal + 400'000;
  copy.end_ns = copy.start_ns + 30'000;
  copy.bytes = 1 << 20;
  copy.copy_kind = 1;  // HtoD
  copy.src_kind = 1;
  copy.dst_kind = 3;
  g.memcpys = {copy};
  profiler::GpuMemsetRecord set;
  set.start_ns = kStartLocal + 2'010'000;
  set.end_ns = set.start_ns + 1000;
  set.launch_id = 2;
  set.bytes = 4096;
  g.memsets = {set};
  profiler::GpuRuntimeRecord call;
  call.start_ns = kStartLocal + 1'010'000;
  call.end_ns = call.start_ns + 4000;
  call.correlation_id = 101;
  call.thread_id = 77;
  call.name = launch;
  g.runtime = {call};
  g.overheads = {{kStartLocal + 5'000'000, kStartLocal + 5'020'000, 1, g.intern("CUPTI buffer flush")},
                 {kStartLocal + 6'000'000, kStartLocal + 6'005'000, 1, g.intern("CUPTI buffer flush")}};
  profiler::NvtxRangeRecord range;
  range.start_ns = kStartLocal + 1'000'000;
  range.end_ns = range.start_ns + 20'000;
  range.launch_id = 1;
  range.text = g.intern("gate");
  range.category = 1;
  range.payload = 1;
  range.thread_id = 77;
  profiler::NvtxRangeRecord outside = range;
  outside.launch_id = 0;
  outside.text = g.intern("SAA");
  outside.category = 3;
  g.nvtx = {range, outside};
  return t;
}

// Rank 0: a plain cpu-like trace (no capture).
RankTrace plain_rank_trace() {
  RankTrace t;
  t.rank = 0;
  t.host = "node-a";
  t.start_local_ns = kOrigin;
  t.end_local_ns = kOrigin + 10'000'000;
  t.names = {"B_DS", "gate", "-", "-", "route"};
  t.events = {op_event(1, 0, kOrigin + 1'000'000, 1)};
  return t;
}

// Expected aligned time of rank 1's local `t`, worked out here from the two offsets.
std::int64_t expected_aligned(std::int64_t t, std::int64_t reference) {
  const double f = double(reference - kStartLocal) / double(kEndLocal - kStartLocal);
  const double offset = 2'000'000.0 + f * 10'000.0;
  return static_cast<std::int64_t>(double(t) + offset) - kOrigin;
}

std::vector<RankRunResult> results_with_device() {
  std::vector<RankRunResult> r(2);
  r[0].rank = 0;
  r[1].rank = 1;
  RankDevice& d = r[1].device;
  d.name = "NVIDIA H200";
  d.ordinal = 1;
  d.memory_bytes = 150'000'000'000;
  d.driver = "CUDA driver 13.0, runtime 13.0";
  d.bus_location = "0000:1b:00.0";
  d.uuid = "GPU-0123";
  d.sm_count = 132;
  d.compute_major = 9;
  d.compute_minor = 0;
  d.clock_rate_khz = 1'980'000;
  d.memory_bandwidth_bytes_s = 4'800'000'000'000;
  d.l2_cache_bytes = 60 << 20;
  return r;
}

void compare_gpu(const profiler::GpuActivity& a, const profiler::GpuActivity& b) {
  QCOMPARE(a.names, b.names);
  QCOMPARE(a.kernels.size(), b.kernels.size());
  QCOMPARE(std::memcmp(a.kernels.data(), b.kernels.data(), a.kernels.size() * sizeof(a.kernels[0])), 0);
  QCOMPARE(a.memcpys.size(), b.memcpys.size());
  QCOMPARE(std::memcmp(a.memcpys.data(), b.memcpys.data(), a.memcpys.size() * sizeof(a.memcpys[0])), 0);
  QCOMPARE(a.memsets.size(), b.memsets.size());
  QCOMPARE(a.memsets[0].launch_id, b.memsets[0].launch_id);
  QCOMPARE(a.runtime.size(), b.runtime.size());
  QCOMPARE(a.runtime[0].thread_id, b.runtime[0].thread_id);
  QCOMPARE(a.overheads.size(), b.overheads.size());
  QCOMPARE(a.nvtx.size(), b.nvtx.size());
  QCOMPARE(std::memcmp(a.nvtx.data(), b.nvtx.data(), a.nvtx.size() * sizeof(a.nvtx[0])), 0);
  QCOMPARE(a.dropped_records, b.dropped_records);
  QCOMPARE(a.process_id, b.process_id);
  QCOMPARE(a.unavailable, b.unavailable);
}

}  // namespace

class TestTraceGpuStorage : public QObject {
  Q_OBJECT

 private slots:
  void kernelsPointAtTheOpThatLaunchedThem() {
    QTemporaryDir dir;
    db::Database db = db::Database::open(dir.filePath("gpu.sqlite").toStdString(), true);
    db::RunInfo info;
    info.name = "gpu";
    info.kind = "measured";
    info.backend = "cuda";
    info.ranks = 2;
    info.config_json = "{}";
    const std::int64_t run = db.begin_run(info);
    store_traces(db, run, kOrigin, {plain_rank_trace(), gpu_rank_trace()}, results_with_device());

    const db::GpuActivityRows rows = db::gpu_activity(db, run);
    QCOMPARE(rows.kernels.size(), std::size_t(6));
    QVERIFY(rows.kernels.size() == gpu_rank_trace().gpu.kernels.size());

    // The kernel_ops view joins each kernel to its op: the op's name comes back for every matched launch.
    sqlite3_stmt* st = nullptr;
    QCOMPARE(
        sqlite3_prepare_v2(db.handle(),
                           "SELECT start, op_name, event, shortName, demangledName, gridX FROM kernel_ops "
                           "WHERE run = ? AND rank = 1 ORDER BY start",
                           -1, &st, nullptr),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, run);
    struct Seen {
      std::int64_t start;
      QString op;
      bool has_event;
      QString short_name, demangled;
      int grid;
    };
    std::vector<Seen> seen;
    while (sqlite3_step(st) == SQLITE_ROW) {
      const auto text = [&](int c) {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
        return p ? QString(p) : QString();
      };
      seen.push_back({sqlite3_column_int64(st, 0), text(1), sqlite3_column_type(st, 2) != SQLITE_NULL,
                      text(3), text(4), sqlite3_column_int(st, 5)});
    }
    sqlite3_finalize(st);
    QCOMPARE(seen.size(), std::size_t(6));
    // By start: the launch-0 kernel, gate's, AlltoAll's, experts' two, the unmatched one.
    const char* ops[] = {"", "gate", "AlltoAll", "experts", "experts", ""};
    const int grids[] = {4, 64, 8, 32, 16, 2};
    for (std::size_t i = 0; i < seen.size(); ++i) {
      QCOMPARE(seen[i].op, QString(ops[i]));
      QCOMPARE(seen[i].has_event, i != 0 && i != 5);  // launch id 0 and an unknown id: NULL event
      QCOMPARE(seen[i].grid, grids[i]);
    }
    QCOMPARE(seen[1].short_name, QString("expert_gemm"));
    QCOMPARE(seen[1].demangled, QString("void parm::kernels::expert_gemm<float>(float const*, int)"));
    QCOMPARE(seen[2].short_name, QString("ncclDevKernel_AllToAll"));  // not a C++ symbol: kept

    // The event ids are the stored events' ids: rank 1's events follow rank 0's one, in trace order.
    const std::vector<db::EventRow> events = db.events(run);
    QCOMPARE(events.size(), std::size_t(4));
    const RankTrace t = gpu_rank_trace();
    for (const db::GpuKernelRow& k : rows.kernels) {
      // Aligned like the events: same interpolated offset, at the kernel's own start.
      bool found = false;
      for (const auto& local : t.gpu.kernels)
        if (expected_aligned(local.start_ns, local.start_ns) == k.start_ns) {
          found = true;
          QCOMPARE(k.end_ns, expected_aligned(local.end_ns, local.start_ns));
          QCOMPARE(k.correlation_id, std::int64_t(local.correlation_id));
        }
      QVERIFY2(found, qPrintable(QString("kernel at %1 not aligned as the events are").arg(k.start_ns)));
      QCOMPARE(k.global_pid, std::int64_t(4242) << 24);
      QCOMPARE(k.rank, 1);
    }
    // An op's aligned start equals what the same formula gives (events and kernels share the alignment).
    bool gate_found = false;
    for (const db::EventRow& e : events)
      if (e.rank == 1 && db.string(e.op) == "gate") {
        gate_found = true;
        QCOMPARE(e.start_ns, expected_aligned(kStartLocal + 1'000'000, kStartLocal + 1'000'000));
      }
    QVERIFY(gate_found);

    QCOMPARE(rows.memcpys.size(), std::size_t(1));
    QVERIFY(!rows.memcpys[0].event.has_value());
    QCOMPARE(rows.memcpys[0].bytes, std::int64_t(1) << 20);
    QCOMPARE(rows.memcpys[0].start_ns, expected_aligned(kStartLocal + 400'000, kStartLocal + 400'000));
    QCOMPARE(rows.memsets.size(), std::size_t(1));
    QVERIFY(rows.memsets[0].event.has_value());
    QCOMPARE(rows.runtime.size(), std::size_t(1));
    QCOMPARE(rows.runtime[0].name, std::string("cudaLaunchKernel_v7000"));
    QCOMPARE(rows.runtime[0].global_tid, (std::int64_t(4242) << 24) | 77);

    QCOMPARE(rows.nvtx.size(), std::size_t(2));
    for (const db::NvtxRow& n : rows.nvtx) {
      QCOMPARE(n.global_tid, (std::int64_t(4242) << 24) | 77);
      QCOMPARE(n.event.has_value(), n.text == "gate");
      QCOMPARE(n.payload, std::uint64_t(1));
    }

    QCOMPARE(rows.captures.size(), std::size_t(1));  // rank 0 had no capture: no row
    const db::GpuCaptureRow& c = rows.captures[0];
    QCOMPARE(c.rank, 1);
    QCOMPARE(c.status, std::string());
    QCOMPARE(c.dropped_records, std::int64_t(3));
    QCOMPARE(c.overhead_records, std::int64_t(2));
    QCOMPARE(c.overhead_ns, std::int64_t(25'000));
    QCOMPARE(c.process_id, std::int64_t(4242));

    QCOMPARE(rows.devices.size(), std::size_t(1));
    const db::GpuDeviceRow& d = rows.devices[0];
    QCOMPARE(d.rank, 1);
    QCOMPARE(d.id, std::int64_t(1));
    QCOMPARE(d.name, std::string("NVIDIA H200"));
    QCOMPARE(d.bus_location, std::string("0000:1b:00.0"));
    QCOMPARE(d.sm_count, 132);
    QCOMPARE(d.compute_major, 9);
    QCOMPARE(d.clock_rate, std::int64_t(1'980'000'000));
    QCOMPARE(d.l2_cache_size, std::int64_t(60 << 20));
  }

  void anUnavailableCaptureIsStoredAndSaidOnce() {
    QTemporaryDir dir;
    db::Database db = db::Database::open(dir.filePath("nocupti.sqlite").toStdString(), true);
    db::RunInfo info;
    info.name = "nocupti";
    info.kind = "measured";
    info.backend = "cuda";
    info.ranks = 3;
    info.config_json = "{}";
    const std::int64_t run = db.begin_run(info);
    std::vector<RankTrace> traces(3);
    for (int r = 0; r < 3; ++r) {
      traces[std::size_t(r)] = plain_rank_trace();
      traces[std::size_t(r)].rank = r;
      traces[std::size_t(r)].gpu.process_id = 100 + static_cast<std::uint32_t>(r);
      traces[std::size_t(r)].gpu.unavailable = r == 2 ? "CUPTI unavailable: CUPTI_ERROR_NOT_INITIALIZED"
                                                      : "CUPTI unavailable: CUPTI_ERROR_UNKNOWN";
    }
    store_traces(db, run, kOrigin, traces, {});
    const db::GpuActivityRows rows = db::gpu_activity(db, run);
    QCOMPARE(rows.captures.size(), std::size_t(3));
    QCOMPARE(rows.captures[2].status, std::string("CUPTI unavailable: CUPTI_ERROR_NOT_INITIALIZED"));
    QVERIFY(rows.kernels.empty());
    const std::vector<std::string> lines = capture_problems(traces);
    QCOMPARE(lines.size(), std::size_t(2));  // one line per distinct reason, naming its ranks
    QCOMPARE(lines[0], std::string("CUPTI unavailable: CUPTI_ERROR_UNKNOWN (rank 0,1)"));
    QCOMPARE(lines[1], std::string("CUPTI unavailable: CUPTI_ERROR_NOT_INITIALIZED (rank 2)"));
  }

  void shortNamesAreNsysShortNames() {
    QCOMPARE(short_kernel_name("void parm::kernels::expert_gemm<float>(float const*, int)"),
             std::string("expert_gemm"));
    QCOMPARE(short_kernel_name("void (anonymous namespace)::fill<__half, 4>(__half*, int)"),
             std::string("fill"));
    QCOMPARE(short_kernel_name("ncclDevKernel_AllToAll(ncclDevComm*)"),
             std::string("ncclDevKernel_AllToAll"));
    QCOMPARE(short_kernel_name("sm90_xmma_gemm_f32f32"), std::string("sm90_xmma_gemm_f32f32"));
    QCOMPARE(demangle("not_mangled"), std::string("not_mangled"));
  }

  void serialisationRoundTripsAndRefusesTruncation() {
    const RankTrace t = gpu_rank_trace();
    const std::string bytes = serialize_trace(t);
    const RankTrace back = deserialize_trace(bytes.data(), bytes.size());
    QCOMPARE(back.rank, 1);
    QCOMPARE(back.events.size(), t.events.size());
    QCOMPARE(back.events[2].launch_id, std::int64_t(3));
    compare_gpu(back.gpu, t.gpu);
    for (std::size_t cut : {bytes.size() - 1, bytes.size() / 2, std::size_t(10)})
      QVERIFY_THROWS_EXCEPTION(std::runtime_error, deserialize_trace(bytes.data(), cut));
  }

  void gatherCarriesRankOnesGpuActivity() {
    if (world().size() < 2) QSKIP("needs 2 ranks");
    RankTrace mine = world().rank() == 1 ? gpu_rank_trace() : plain_rank_trace();
    mine.rank = world().rank();
    const std::vector<RankTrace> all = gather_traces(world(), mine);
    if (world().rank() != 0) {
      QVERIFY(all.empty());
      return;
    }
    QCOMPARE(all.size(), std::size_t(world().size()));
    QVERIFY(all[0].gpu.empty());
    QCOMPARE(all[0].gpu.process_id, std::uint32_t(0));
    QCOMPARE(all[1].host, std::string("node-b"));
    QCOMPARE(all[1].clock.drift_ppm, 1000.0);
    compare_gpu(all[1].gpu, gpu_rank_trace().gpu);
  }
};

PARM_MPI_QTEST_MAIN(TestTraceGpuStorage)
#include "test_engine_trace_gpu_storage.moc"
