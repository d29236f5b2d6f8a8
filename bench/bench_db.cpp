// Storage throughput: ingest N synthetic events into a fresh file (events/s), then export that run as
// Perfetto JSON to /dev/null (seconds). Targets from the tracing issue: >= 1,000,000 events/s and < 5 s per
// 1M events.
#include <sqlite3.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <vector>

#include "db/database.h"
#include "db/exporters.h"

namespace {

// A 4-rank-like mix: per rank, compute on lane 0 and collectives on lanes 1/2 with per-group seq numbers.
std::vector<parm::db::EventRow> synthetic_events(parm::db::Database& db, std::int64_t n, int ranks) {
  const std::int32_t schedule = db.intern("S1"), experts = db.intern("experts"), a2a = db.intern("AlltoAll"),
                     ag = db.intern("AllGather"), ep = db.intern("EP"), mp = db.intern("MP"),
                     none = db.intern("-"), dispatch = db.intern("dispatch"), compute = db.intern("compute");
  std::vector<parm::db::EventRow> out;
  out.reserve(static_cast<std::size_t>(n));
  const std::int64_t per_rank = (n + ranks - 1) / ranks;
  for (int r = 0; r < ranks; ++r) {
    std::int64_t t = 0;
    for (std::int64_t i = 0; i < per_rank && static_cast<std::int64_t>(out.size()) < n; ++i) {
      parm::db::EventRow e;
      e.rank = r;
      e.schedule = schedule;
      e.iteration = static_cast<std::int32_t>(i / 300);
      e.phase = static_cast<std::int32_t>(i / 150 % 2);
      const int kind = static_cast<int>(i % 3);
      e.lane = kind;
      e.op = kind == 0 ? experts : kind == 1 ? ag : a2a;
      e.group = kind == 0 ? none : kind == 1 ? mp : ep;
      e.purpose = kind == 0 ? compute : dispatch;
      e.comm = kind == 0 ? -1 : 0;
      e.chunk = static_cast<std::int32_t>(i % 4);
      e.bytes = kind == 0 ? 0 : 1 << 20;
      e.seq = kind == 0 ? -1 : i / 3;
      e.start_ns = t;
      e.end_ns = t + 5'000 + (i % 7) * 100;
      t += 6'000;
      out.push_back(e);
    }
  }
  return out;
}

// This process's CPU time: the 2-core machine is shared, so wall time alone mixes in other jobs' load.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"parm_bench_db: SQLite ingest and Perfetto export throughput"};
  std::int64_t n = 1'000'000;
  int ranks = 4;
  std::string path = (std::filesystem::temp_directory_path() / "parm_bench_db.sqlite").string();
  app.add_option("-n,--events", n, "events to ingest")->check(CLI::PositiveNumber);
  app.add_option("--ranks", ranks, "ranks the events spread over")->check(CLI::PositiveNumber);
  bool keep = false;
  app.add_option("--db", path, "database file (deleted first)");
  app.add_flag("--keep", keep, "keep the database file afterwards");
  CLI11_PARSE(app, argc, argv);

  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  using Clock = std::chrono::steady_clock;
  double ingest_s = 0, ingest_cpu_s = 0, export_s = 0, export_cpu_s = 0;
  {
    auto db = parm::db::Database::open(path, true);
    const auto events = synthetic_events(db, n, ranks);
    parm::db::RunInfo info;
    info.name = "bench";
    info.kind = "measured";
    info.backend = "cpu";
    info.ranks = ranks;
    const std::int64_t run = db.begin_run(info);

    const auto t0 = Clock::now();
    const double cpu0 = cpu_seconds();
    db.add_events(run, events);
    ingest_s = std::chrono::duration<double>(Clock::now() - t0).count();
    ingest_cpu_s = cpu_seconds() - cpu0;
    db.finish_run(run);

    std::ofstream devnull("/dev/null", std::ios::binary);
    const auto t1 = Clock::now();
    const double cpu1 = cpu_seconds();
    parm::db::export_perfetto(db, run, devnull);
    export_s = std::chrono::duration<double>(Clock::now() - t1).count();
    export_cpu_s = cpu_seconds() - cpu1;
  }

  const double rate = static_cast<double>(n) / ingest_s;
  std::printf("# parm_bench_db: %lld events, %d ranks, file %s\n", (long long)n, ranks, path.c_str());
  std::printf("%-20s %12s %12s %12s %8s\n", "metric", "wall", "cpu", "target", "status");
  std::printf("%-20s %12.0f %12.0f %12s %8s\n", "ingest events/s", rate,
              static_cast<double>(n) / ingest_cpu_s, ">= 1000000", rate >= 1e6 ? "OK" : "SLOW");
  const double export_target_s = 5.0 * static_cast<double>(n) / 1e6;
  std::printf("%-20s %12.3f %12.3f %12s %8s\n", "export perfetto s", export_s, export_cpu_s, "< 5 per 1M",
              export_s < export_target_s ? "OK" : "SLOW");
  if (!keep)
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return 0;
}
