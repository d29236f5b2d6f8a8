// The synthetic measured run the GUI benchmarks open (bench_timeline_paint, bench_gui_open): every (rank,
// lane) gets events back to back with small random gaps; lane 0 is compute ("experts"), lanes 1 and 2 are
// collectives (AllGather over ESP, AlltoAll over EP) whose k-th event has seq k on every rank, so flows join
// all ranks; 1000 events per iteration, 500 per phase. The row is split evenly over `schedules`.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "db/database.h"

namespace parm::bench {

struct SyntheticRun {
  std::int64_t run = 0;
  // Per (rank, lane) in that order: the first events.id of the row and the row's events (with `keep_rows`).
  std::vector<std::int64_t> first_ids;
  std::vector<std::vector<db::EventRow>> rows;
};

inline SyntheticRun write_synthetic_run(db::Database& db, long events, int ranks,
                                        const std::vector<std::string>& schedules, bool keep_rows = false) {
  db::RunInfo info;
  info.name = "bench";
  info.kind = "measured";
  info.backend = "cpu";
  info.ranks = ranks;
  SyntheticRun out;
  out.run = db.begin_run(info);
  std::vector<std::int32_t> schedule_ids;
  for (const std::string& s : schedules) schedule_ids.push_back(db.intern(s));
  const std::int32_t dash = db.intern("-");
  const std::int32_t ops[3] = {db.intern("experts"), db.intern("AllGather"), db.intern("AlltoAll")};
  const std::int32_t groups[3] = {dash, db.intern("ESP"), db.intern("EP")};
  const std::int32_t purpose = db.intern("dispatch");
  const long per_row = std::max(2L, events / (ranks * 3));
  const long per_schedule = std::max(1L, per_row / static_cast<long>(schedule_ids.size()));
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> length(200, 20000), gap(50, 2000);
  std::vector<db::EventRow> batch;
  batch.reserve(static_cast<std::size_t>(per_row));
  for (int r = 0; r < ranks; ++r)
    for (int lane = 0; lane < 3; ++lane) {
      batch.clear();
      std::int64_t t = 0;
      for (long k = 0; k < per_row; ++k) {
        const auto which =
            static_cast<std::size_t>(std::min<long>(k / per_schedule, long(schedule_ids.size()) - 1));
        const long local = k - static_cast<long>(which) * per_schedule;
        db::EventRow e;
        e.rank = r;
        e.lane = lane;
        e.schedule = schedule_ids[which];
        e.iteration = static_cast<std::int32_t>(local / 1000);
        e.phase = static_cast<std::int32_t>((local / 500) % 2);
        e.op = ops[lane];
        e.group = groups[lane];
        e.purpose = purpose;
        e.comm = lane == 0 ? -1 : 0;
        e.bytes = lane == 0 ? 0 : 65536;
        e.seq = lane == 0 ? -1 : k;
        t += gap(rng);
        e.start_ns = t;
        t += length(rng);
        e.end_ns = t;
        batch.push_back(e);
      }
      out.first_ids.push_back(db.add_events(out.run, batch));
      if (keep_rows) out.rows.push_back(batch);
    }
  return out;
}

}  // namespace parm::bench
