// The Perfetto export's structure beyond the ops: on every track slices nest (a child never crosses its
// parent's end), each op lies under the schedule and iteration slices of its own schedule and iteration, a
// lane whose iterations interleave gets no iteration slices, and the stored predicted intervals appear as
// process "Predicted" with their count and durations, placed at the measured first iteration's start.
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>
#include <vector>

#include "db/database.h"
#include "db/exporters.h"

using nlohmann::json;
using parm::db::Database;
using parm::db::EventRow;

namespace {

constexpr std::int64_t kPredictedPid = 1000000;

std::int64_t ns_of(const json& micros) {
  return std::llround(micros.get<double>() * 1000.0);
}

// 2 ranks x 2 schedules (S1 then B_DS) x 2 iterations; per iteration a compute op and an inter-node
// AlltoAll; rank 1 starts 100 ns later. Rank 1's intra lane interleaves iterations 0 and 1 (an import could).
// Predicted: 3 intervals of S1 (compute, inter, compute), 2 of B_DS.
std::int64_t build_run(Database& db) {
  parm::db::RunInfo info;
  info.name = "nesting";
  info.kind = "measured";
  info.ranks = 2;
  const std::int64_t run = db.begin_run(info);
  const std::int32_t s1 = db.intern("S1"), bds = db.intern("B_DS"), experts = db.intern("experts"),
                     a2a = db.intern("AlltoAll"), ep = db.intern("EP"), none = db.intern("-"),
                     dispatch = db.intern("dispatch"), copy = db.intern("Copy(MP)"), mp = db.intern("MP");
  std::vector<EventRow> rows;
  for (int r = 0; r < 2; ++r)
    for (int s = 0; s < 2; ++s)
      for (int it = 0; it < 2; ++it) {
        const std::int64_t t = 100 * r + 10000 * s + 4000 * it;
        const std::int32_t sched = s == 0 ? s1 : bds;
        rows.push_back({r, 0, sched, it, 0, experts, none, dispatch, -1, -1, 0, -1, t, t + 1000});
        rows.push_back({r, 2, sched, it, 0, a2a, ep, dispatch, 0, -1, 64, it, t + 1000, t + 2500});
        rows.push_back({r, 0, sched, it, 1, experts, none, dispatch, -1, -1, 0, -1, t + 2500, t + 3500});
      }
  // Interleaved on rank 1's intra lane: iteration 0, 1, 0.
  rows.push_back({1, 1, s1, 0, 0, copy, mp, dispatch, 0, -1, 8, -1, 500, 600});
  rows.push_back({1, 1, s1, 1, 0, copy, mp, dispatch, 0, -1, 8, -1, 700, 800});
  rows.push_back({1, 1, s1, 0, 0, copy, mp, dispatch, 0, -1, 8, -1, 900, 1000});
  db.add_events(run, rows);
  std::vector<EventRow> predicted;
  predicted.push_back({0, 0, s1, 0, 0, experts, none, dispatch, -1, -1, 0, -1, 0, 900});
  predicted.push_back({0, 2, s1, 0, 0, a2a, ep, dispatch, -1, -1, 64, -1, 900, 2000});
  predicted.push_back({0, 0, s1, 0, 1, experts, none, dispatch, -1, -1, 0, -1, 2000, 3100});
  predicted.push_back({0, 0, bds, 0, 0, experts, none, dispatch, -1, -1, 0, -1, 0, 1200});
  predicted.push_back({0, 2, bds, 0, 0, a2a, ep, dispatch, -1, -1, 64, -1, 1200, 2200});
  db.add_predictions(run, predicted);
  db.finish_run(run);
  return run;
}

struct Slice {
  std::int64_t start, end;
  json event;
};

json exported(const Database& db, std::int64_t run) {
  std::ostringstream out;
  parm::db::export_perfetto(db, run, out);
  return json::parse(out.str());
}

std::map<std::pair<std::int64_t, std::int64_t>, std::vector<Slice>> tracks_of(const json& doc) {
  std::map<std::pair<std::int64_t, std::int64_t>, std::vector<Slice>> tracks;
  for (const json& e : doc["traceEvents"])
    if (e["ph"] == "X") {
      const std::int64_t start = ns_of(e["ts"]);
      tracks[{e["pid"].get<std::int64_t>(), e["tid"].get<std::int64_t>()}].push_back(
          {start, start + ns_of(e["dur"]), e});
    }
  return tracks;
}

}  // namespace

class TestDbPerfettoNesting : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;

 private slots:
  void slicesNestOnEveryTrack() {
    Database db = Database::open(dir_.filePath("nest.parm").toStdString(), true);
    const json doc = exported(db, build_run(db));
    int parents = 0;
    for (auto& [track, slices] : tracks_of(doc)) {
      // Among equal starts the enclosing slice comes first in the file: Perfetto keeps file order there.
      for (std::size_t i = 0; i < slices.size(); ++i)
        for (std::size_t j = i + 1; j < slices.size(); ++j)
          QVERIFY2(slices[i].start != slices[j].start || slices[j].end <= slices[i].end,
                   slices[j].event.dump().c_str());
      std::vector<Slice> sorted = slices;
      std::stable_sort(sorted.begin(), sorted.end(), [](const Slice& a, const Slice& b) {
        return a.start != b.start ? a.start < b.start : a.end > b.end;
      });
      std::vector<const Slice*> open;  // the enclosing slices of the current one
      for (const Slice& s : sorted) {
        while (!open.empty() && open.back()->end <= s.start) open.pop_back();
        if (!open.empty())
          QVERIFY2(s.end <= open.back()->end,
                   (s.event.dump() + " crosses " + open.back()->event.dump()).c_str());
        open.push_back(&s);
      }
      // Every op of a measured lane lies under its schedule's slice and, where present, its iteration's.
      if (track.first == kPredictedPid) continue;
      bool has_iterations = false;
      for (const Slice& s : slices) has_iterations = has_iterations || s.event["cat"] == "iteration";
      for (const Slice& op : slices) {
        const std::string cat = op.event["cat"];
        if (cat == "schedule" || cat == "iteration") {
          ++parents;
          continue;
        }
        const json& args = op.event["args"];
        bool under_schedule = false, under_iteration = false;
        for (const Slice& p : slices) {
          const bool encloses = p.start <= op.start && op.end <= p.end;
          if (!encloses || p.event["args"]["schedule"] != args["schedule"]) continue;
          under_schedule = under_schedule || p.event["cat"] == "schedule";
          under_iteration = under_iteration || (p.event["cat"] == "iteration" &&
                                                p.event["args"]["iteration"] == args["iteration"]);
        }
        QVERIFY2(under_schedule, op.event.dump().c_str());
        QVERIFY2(under_iteration || !has_iterations, op.event.dump().c_str());
      }
    }
    // Per rank: compute and inter lanes x 2 schedules x (1 + 2 iterations); rank 1's intra lane: 1 schedule.
    QCOMPARE(parents, 2 * 2 * 2 * 3 + 1);
    const auto tracks = tracks_of(doc);
    const auto& interleaved = tracks.at({1, 1});
    QVERIFY(std::none_of(interleaved.begin(), interleaved.end(),
                         [](const Slice& s) { return s.event["cat"] == "iteration"; }));
    // Names say what the slice is.
    bool named = false;
    for (const Slice& s : tracks.at({0, 0}))
      if (s.event["cat"] == "iteration" && s.event["args"]["iteration"] == 1 &&
          s.event["args"]["schedule"] == "B_DS") {
        QCOMPARE(s.event["name"].get<std::string>(), std::string("B_DS iteration 1"));
        QCOMPARE(s.start, std::int64_t{14000});
        QCOMPARE(s.end, std::int64_t{17500});
        QCOMPARE(s.event["args"]["ops"].get<int>(), 2);
        named = true;
      }
    QVERIFY(named);
  }

  void predictedTracksHoldTheStoredIntervals() {
    Database db = Database::open(dir_.filePath("predicted.parm").toStdString(), true);
    const std::int64_t run = build_run(db);
    const json doc = exported(db, run);
    const std::vector<EventRow> stored = db.predictions(run);
    std::multiset<std::tuple<std::string, std::string, std::int64_t>> want, got;  // schedule, op, duration
    for (const EventRow& r : stored)
      want.insert({db.string(r.schedule), db.string(r.op), r.end_ns - r.start_ns});
    std::map<std::string, std::int64_t> first_start;
    std::set<std::int64_t> tids;
    for (const auto& [track, slices] : tracks_of(doc)) {
      if (track.first != kPredictedPid) continue;
      tids.insert(track.second);
      for (const Slice& s : slices) {
        const std::string schedule = s.event["args"]["schedule"];
        got.insert({schedule, s.event["name"], s.end - s.start});
        QCOMPARE(s.event["cat"].get<std::string>(), std::string("predicted"));
        if (!first_start.count(schedule) || s.start < first_start[schedule]) first_start[schedule] = s.start;
      }
    }
    QCOMPARE(got, want);
    QCOMPARE(tids.size(), std::size_t{4});  // S1 compute, S1 inter, B_DS compute, B_DS inter
    // Placed at the measured iteration 0 of each schedule (earliest rank): S1 at 0, B_DS at 10000 ns.
    QCOMPARE(first_start["S1"], std::int64_t{0});
    QCOMPARE(first_start["B_DS"], std::int64_t{10000});
    std::set<std::string> names;
    bool process_named = false;
    for (const json& e : doc["traceEvents"]) {
      if (e["ph"] != "M" || e["pid"] != kPredictedPid) continue;
      if (e["name"] == "process_name") process_named = e["args"]["name"] == "Predicted";
      if (e["name"] == "thread_name") names.insert(e["args"]["name"].get<std::string>());
    }
    QVERIFY(process_named);
    QVERIFY2(names.count("S1 compute (predicted)") && names.count("B_DS inter-node (predicted)"),
             json(names).dump().c_str());
  }

  void runWithoutPredictionsHasNoPredictedProcess() {
    Database db = Database::open(dir_.filePath("plain.parm").toStdString(), true);
    parm::db::RunInfo info;
    info.name = "plain";
    const std::int64_t run = db.begin_run(info);
    const std::int32_t s1 = db.intern("S1"), op = db.intern("experts"), none = db.intern("-");
    const std::vector<EventRow> rows{{0, 0, s1, 0, 0, op, none, none, -1, -1, 0, -1, 10, 20}};
    db.add_events(run, rows);
    const json doc = exported(db, run);
    for (const json& e : doc["traceEvents"]) QVERIFY(e["pid"] != kPredictedPid);
  }
};

QTEST_GUILESS_MAIN(TestDbPerfettoNesting)
#include "test_db_perfetto_nesting.moc"
