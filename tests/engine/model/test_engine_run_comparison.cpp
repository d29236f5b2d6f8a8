// engine/run_comparison: the per-op aggregation (slowest rank per iteration, median over iterations), its
// time range filter, traced names, a run's per-schedule comparison on a synthetic
// database, and a validation report as a recommendation document.
#include <QTemporaryDir>
#include <QtTest>

#include "db/database.h"
#include "engine/core/run_result.h"
#include "engine/model/run_comparison.h"

using namespace parm;

namespace {

// One interval of key `key` on (iteration, rank), [start, end) in ms.
MeasuredOps::Interval iv(std::uint32_t key, int iteration, int rank, double start_ms, double end_ms) {
  return {key, iteration, rank, static_cast<std::int64_t>(start_ms * 1e6),
          static_cast<std::int64_t>(end_ms * 1e6)};
}

}  // namespace

class TestRunComparison : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void aggregationTakesSlowestRankThenMedian() {
    MeasuredOps ops;
    ops.keys = {{"S1", 0, "AlltoAll", "dispatch"}, {"S1", 1, "experts", "experts"}};
    // key 0: iteration 0 rank 0 sums 1 + 2 = 3 ms, rank 1 has 4 ms -> 4; iteration 1 -> 2; iteration 2 -> 10.
    ops.intervals = {iv(0, 0, 0, 0, 1),   iv(0, 0, 0, 5, 7),   iv(0, 0, 1, 0, 4),  iv(0, 1, 0, 20, 22),
                     iv(0, 1, 1, 20, 21), iv(0, 2, 0, 40, 50), iv(1, 0, 0, 8, 9.5)};
    const auto all = aggregate_measured_ops(ops);
    QCOMPARE(all.size(), std::size_t(2));
    QCOMPARE(all.at(ops.keys[0]), 4.0);  // median of {4, 2, 10}
    QCOMPARE(all.at(ops.keys[1]), 1.5);

    // [4.5, 21) ms: key 0 keeps rank 0's 5..7 of iteration 0 (2 ms) and iteration 1 (2 and 1 ms -> 2); the
    // experts interval (8..9.5) overlaps too; iteration 2 (40..50) is out.
    const auto ranged = aggregate_measured_ops(ops, TimeRange{4'500'000, 21'000'000});
    QCOMPARE(ranged.at(ops.keys[0]), 2.0);
    QCOMPARE(ranged.at(ops.keys[1]), 1.5);
    // A range touching only the end of an interval excludes it ([start, end) overlap).
    const auto none = aggregate_measured_ops(ops, TimeRange{50'000'000, 60'000'000});
    QVERIFY(none.empty());
  }

  void perScheduleRangesApplyEachToItsSchedule() {
    // One drawn range means [2, 3) ms of B_DS's run-origin time and [20, 21) ms of S1's (each schedule's
    // iteration shifted differently): each schedule keeps only its own intervals in its own range.
    MeasuredOps ops;
    ops.keys = {{"B_DS", 0, "AlltoAll", "dispatch"}, {"S1", 0, "AlltoAll", "dispatch"}, {"S2", 0, "x", "y"}};
    ops.intervals = {iv(0, 0, 0, 2, 2.5), iv(0, 0, 0, 20, 23), iv(1, 0, 0, 2, 4), iv(1, 0, 0, 20.5, 21.5),
                     iv(2, 0, 0, 2, 3)};
    const auto ranged = aggregate_measured_ops(
        ops,
        ScheduleRanges{{"B_DS", TimeRange{2'000'000, 3'000'000}}, {"S1", TimeRange{20'000'000, 21'000'000}}});
    QCOMPARE(ranged.size(), std::size_t(2));  // S2 is not in the selection
    QCOMPARE(ranged.at(ops.keys[0]), 0.5);
    QCOMPARE(ranged.at(ops.keys[1]), 1.0);
  }

  void tracedNames() {
    QCOMPARE(traced_name("SAA/AlltoAll"), std::string("SAA:AlltoAll"));
    QCOMPARE(traced_name("AlltoAll(EP)"), std::string("AlltoAll"));
    QCOMPARE(traced_name("Split(MP,tokens)"), std::string("Split(MP,tokens)"));
  }

  void compareRunOnSyntheticDatabase() {
    QTemporaryDir dir;
    auto db = db::Database::open(dir.filePath("p.sqlite").toStdString(), true);
    RunResult result;
    result.backend = "cpu";
    for (int r = 0; r < 2; ++r) {
      RankRunResult rank;
      rank.rank = r;
      rank.host = "h";
      RankScheduleResult bds{
          ScheduleKind::B_DS, {0.010, 0.012, 0.011}, {0.020, 0.020, 0.020 + r * 0.01}, {}, 0, 0,
          std::nullopt};
      RankScheduleResult s1{ScheduleKind::S1, {0.005, 0.005, 0.006}, {0.010, 0.011, 0.010}, {}, 0, 0,
                            std::nullopt};
      rank.schedules = {bds, s1};
      result.ranks.push_back(rank);
    }
    db::RunInfo info;
    info.name = "synthetic";
    info.kind = "measured";
    info.ranks = 2;
    info.result_json = to_json(result).dump();
    const std::int64_t run = db.begin_run(info);
    db.add_counters(run, {{0, "B_DS", "fwd", "AlltoAll", "EP", "dispatch", "", 100, 1},
                          {0, "B_DS", "fwd", "AllReduce", "MP", "output", "", 40, 1},
                          {1, "B_DS", "fwd", "AlltoAll", "EP", "dispatch", "", 999, 1},
                          {0, "S1", "bwd", "AllGather", "ESP", "x", "", 7, 1}});
    std::vector<db::EventRow> pred(2);
    pred[0].schedule = db.intern("B_DS");
    pred[0].op = db.intern("AlltoAll(EP)");
    pred[0].end_ns = 25'000'000;
    pred[1].schedule = db.intern("S1");
    pred[1].op = db.intern("experts");
    pred[1].start_ns = 1'000'000;
    pred[1].end_ns = 16'000'000;
    db.add_predictions(run, pred);
    db.finish_run(run);

    const RunComparison c = compare_run(db, run);
    QCOMPARE(c.schedules.size(), std::size_t(2));
    const auto summary = summarize(result);
    for (std::size_t i = 0; i < 2; ++i) {
      QCOMPARE(c.schedules[i].schedule, std::string(to_string(summary[i].kind)));
      QCOMPARE(*c.schedules[i].measured_ms, summary[i].total_ms);
    }
    QCOMPARE(*c.schedules[0].predicted_ms, 25.0);
    QCOMPARE(*c.schedules[1].predicted_ms, 16.0);
    QCOMPARE(c.schedules[0].inter_bytes, std::int64_t(100));  // rank 0 only
    QCOMPARE(c.schedules[0].intra_bytes, std::int64_t(40));
    QCOMPARE(c.schedules[1].intra_bytes, std::int64_t(7));
    QCOMPARE(*c.schedules[1].speedup_vs_bds, summary[0].total_ms / summary[1].total_ms);
    QCOMPARE(*c.measured_best, std::string("S1"));
    QCOMPARE(c.measured_tied, std::vector<std::string>{"S1"});  // S1's 15-17 ms vs B_DS's 30-41 ms
    QCOMPARE(c.schedules[1].measured_spread.n, std::size_t(3));
    QCOMPARE(c.schedules[1].measured_spread.p50, summary[1].total_ms);
    QCOMPARE(c.schedules[1].speedup_spread.p50, summary[0].total_ms / summary[1].total_ms);
    QVERIFY(c.schedules[1].speedup_spread.p10 <= c.schedules[1].speedup_spread.p50);
    QCOMPARE(*c.predicted_best, std::string("S1"));
    const double m = *c.schedules[0].measured_ms;
    QCOMPARE(*c.schedules[0].error_pct, 100.0 * std::abs(25.0 - m) / m);
    const auto pops = predicted_ops(db, run);
    QCOMPARE(pops.at(OpKey{"B_DS", 0, "AlltoAll", ""}), 25.0);
    QVERIFY_THROWS_EXCEPTION(db::DbError, compare_run(db, run + 100));
  }

  void validationReportAsRecommendation() {
    const nlohmann::json report = nlohmann::json::parse(R"({"calibration":"cal-x","layers":[
      {"config":"c","predicted_best":"S1","measured_best":"S2","measured_run":4,"reason":"S1: why",
       "schedules":[{"schedule":"B_DS","predicted_ms":6.0,"measured_ms":7.0},
                    {"schedule":"S1","predicted_ms":3.0,"measured_ms":4.0}]}]})");
    const nlohmann::json rec = recommendation_from_validation(report);
    QCOMPARE(rec["calibration"].get<std::string>(), std::string("cal-x"));
    const auto& layer = rec["layers"][0];
    QCOMPARE(layer["chosen"].get<std::string>(), std::string("S1"));
    QCOMPARE(layer["speedup_vs_B_DS"].get<double>(), 2.0);
    QCOMPARE(layer["predicted_ms"]["S1"].get<double>(), 3.0);
    QCOMPARE(layer["reason"].get<std::string>(), std::string("S1: why"));
    QCOMPARE(layer["measured_run"].get<int>(), 4);
  }
};

QTEST_GUILESS_MAIN(TestRunComparison)
#include "test_engine_run_comparison.moc"
