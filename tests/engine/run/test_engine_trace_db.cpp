// A real 4-rank traced run stored in SQLite: every op of every rank is there, per rank and lane the intervals
// do not overlap, and every collective appears once per member rank under one sequence number.
#include <QTemporaryDir>
#include <QtTest>
#include <map>
#include <set>

#include "db/database.h"
#include "engine/core/config_json.h"
#include "engine/core/rank_layout.h"
#include "engine/run/worker.h"
#include "engine/schedules/schedule_ir.h"
#include "tests/support/parm_process.h"

using namespace parm;

namespace {

Config tiny() {
  Config c;
  c.name = "trace";
  c.layer.batch = 2;
  c.layer.seq_len = 8;
  c.layer.hidden = 8;
  c.layer.ffn_hidden = 16;
  c.layer.num_experts = 4;
  c.parallel = {4, 2, 2, 2};
  c.run.warmup = 1;
  c.run.iterations = 2;
  return c;
}

}  // namespace

class TestTraceDb : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    config_ = tiny();
    const QString config_path = dir_.filePath("tiny.json");
    save_config_file(config_, config_path.toStdString());
    db_path_ = dir_.filePath("project.sqlite").toStdString();
    const parm_test::ProcessResult r =
        parm_test::run_parm({"run", config_path, "--db", QString::fromStdString(db_path_)},
                            {.working_directory = {}, .timeout_ms = 120'000});
    QVERIFY(!r.timed_out);
    QVERIFY2(r.exit_code == 0, r.err.constData());
  }

  void runIsCompleteWithRanks() {
    const auto db = db::Database::open(db_path_, false);
    const auto runs = db.runs();
    QCOMPARE(runs.size(), std::size_t(1));
    QVERIFY(runs[0].complete);
    QCOMPARE(runs[0].ranks, 4);
    QVERIFY(!runs[0].result_json.empty());
    QCOMPARE(db.ranks(runs[0].id).size(), std::size_t(4));
    QVERIFY(!db.counters(runs[0].id).empty());
  }

  // Every rank stores exactly the ops its schedules run: forward and backward lists, a pipeline as W steps
  // per stage, for every measured iteration.
  void storesEveryEvent() {
    const auto db = db::Database::open(db_path_, false);
    const auto events = db.events(db.runs()[0].id);
    std::map<int, std::size_t> per_rank;
    for (const auto& e : events) ++per_rank[e.rank];
    const std::size_t expected = expected_trace_events(config_, config_.run.schedules);
    QVERIFY(expected > 0);
    QCOMPARE(per_rank.size(), std::size_t(4));
    for (const auto& [rank, n] : per_rank) QCOMPARE(n, expected);
  }

  void lanesDoNotOverlap() {
    const auto db = db::Database::open(db_path_, false);
    auto events = db.events(db.runs()[0].id);
    std::map<std::pair<int, int>, std::vector<std::pair<std::int64_t, std::int64_t>>> lanes;
    for (const auto& e : events) {
      QVERIFY(e.end_ns >= e.start_ns);
      lanes[{e.rank, e.lane}].push_back({e.start_ns, e.end_ns});
    }
    for (auto& [key, intervals] : lanes) {
      std::sort(intervals.begin(), intervals.end());
      for (std::size_t i = 1; i < intervals.size(); ++i)
        QVERIFY2(intervals[i].first >= intervals[i - 1].second,
                 qPrintable(QString("rank %1 lane %2 overlaps").arg(key.first).arg(key.second)));
    }
  }

  // One collective = (schedule, iteration, phase, group, comm, seq): its events come from exactly the ranks
  // of that communicator, each once.
  void collectivesMatchAcrossRanks() {
    const auto db = db::Database::open(db_path_, false);
    const auto events = db.events(db.runs()[0].id);
    using Key = std::tuple<int, int, int, int, int, std::int64_t>;
    std::map<Key, std::multiset<int>> members;
    std::size_t collective_events = 0;
    for (const auto& e : events) {
      if (e.seq < 0) continue;
      ++collective_events;
      members[{e.schedule, e.iteration, e.phase, e.group, e.comm, e.seq}].insert(e.rank);
    }
    QVERIFY(collective_events > 0);
    for (const auto& [key, ranks] : members) {
      const std::string group = db.string(std::get<3>(key));
      const int comm = std::get<4>(key);
      std::multiset<int> want;
      for (int r = 0; r < 4; ++r) {
        const RankLayout l = make_rank_layout(config_, r);
        if (group == "EP" ? l.mp_index == comm : l.mp_group == comm) want.insert(r);
      }
      QVERIFY2(ranks == want,
               qPrintable(QString("%1 comm %2 seq %3").arg(group.c_str()).arg(comm).arg(std::get<5>(key))));
    }
  }

 private:
  QTemporaryDir dir_;
  Config config_;
  std::string db_path_;
};

QTEST_GUILESS_MAIN(TestTraceDb)
#include "test_engine_trace_db.moc"
