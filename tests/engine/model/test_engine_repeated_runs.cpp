// Measured times with their noise (engine/model/schedule_spreads.h) and K runs of one configuration
// (repeated_runs.h): per iteration the slowest rank, the layer sample as the slowest rank's forward +
// backward (not the sum of the two maxima), the median of the runs' medians as the measured value, the
// relative range of those medians, the pooled spread of all samples deciding the measured best, and one run
// giving exactly that run's numbers.
#include <QtTest>

#include "engine/model/repeated_runs.h"
#include "engine/model/schedule_spreads.h"

using namespace parm;

namespace {

// One schedule per entry: per rank its (forward, backward) seconds per iteration.
using RankTimes = std::vector<std::pair<double, double>>;

RunResult run_of(const std::vector<std::pair<ScheduleKind, std::vector<RankTimes>>>& schedules) {
  RunResult r;
  const std::size_t ranks = schedules.front().second.size();
  for (std::size_t rank = 0; rank < ranks; ++rank) {
    RankRunResult rr;
    rr.rank = static_cast<int>(rank);
    for (const auto& [kind, per_rank] : schedules) {
      RankScheduleResult s;
      s.kind = kind;
      for (const auto& [f, b] : per_rank[rank]) {
        s.forward_s.push_back(f);
        s.backward_s.push_back(b);
      }
      rr.schedules.push_back(s);
    }
    r.ranks.push_back(rr);
  }
  return r;
}

// Every rank the same: layer times (ms) split 1:1 into forward and backward.
RunResult uniform_run(const std::vector<std::pair<ScheduleKind, std::vector<double>>>& layer_ms) {
  std::vector<std::pair<ScheduleKind, std::vector<RankTimes>>> s;
  for (const auto& [kind, times] : layer_ms) {
    RankTimes t;
    for (double ms : times) t.emplace_back(ms / 2e3, ms / 2e3);
    s.emplace_back(kind, std::vector<RankTimes>{t, t});
  }
  return run_of(s);
}

bool near(double a, double b) {
  return std::abs(a - b) < 1e-9;
}

}  // namespace

class TestRepeatedRuns : public QObject {
  Q_OBJECT

 private slots:
  void slowestRankPerIteration() {
    // Rank 0 is slow forward, rank 1 slow backward: the layer sample is the slower rank's sum (5 ms), not
    // max forward + max backward (7 ms).
    const RunResult r = run_of({{ScheduleKind::S1,
                                 {RankTimes{{0.004, 0.001}, {0.002, 0.001}, {0.003, 0.001}},
                                  RankTimes{{0.001, 0.003}, {0.001, 0.001}, {0.001, 0.001}}}}});
    const auto samples = iteration_samples(r).at(ScheduleKind::S1);
    QCOMPARE(samples.layer_ms.size(), std::size_t(3));
    QVERIFY(near(samples.layer_ms[0], 5.0));
    QVERIFY(near(samples.forward_ms[0], 4.0));
    QVERIFY(near(samples.backward_ms[0], 3.0));
    const ScheduleSpreads s = schedule_spreads(r).at(ScheduleKind::S1);
    QVERIFY(near(s.layer_ms.p50, 4.0));  // samples 5, 3, 4
    QVERIFY(near(s.layer_ms.p10, 3.2));
    QVERIFY(near(s.layer_ms.p90, 4.8));
    QVERIFY(near(s.forward_ms.p50, 3.0));
    // The table's median is the spread's p50: summarize and schedule_spreads read the iterations alike.
    QVERIFY(near(summarize(r).front().total_ms, s.layer_ms.p50));
    QVERIFY(near(summarize(r).front().forward_ms, s.forward_ms.p50));
  }

  void medianOfMediansAndRelativeRange() {
    const std::vector<RunResult> runs = {uniform_run({{ScheduleKind::B_DS, {10, 11, 12}}}),
                                         uniform_run({{ScheduleKind::B_DS, {13, 14, 15}}}),
                                         uniform_run({{ScheduleKind::B_DS, {11, 12, 13}}})};
    const auto agg = aggregate_runs(runs);
    const RepeatedSchedule& b = agg.at(ScheduleKind::B_DS);
    QCOMPARE(b.run_medians_ms.size(), std::size_t(3));  // in run order: 11, 14, 12
    QVERIFY(near(b.run_medians_ms[0], 11) && near(b.run_medians_ms[1], 14) && near(b.run_medians_ms[2], 12));
    QVERIFY(near(b.measured_ms, 12));
    QVERIFY(near(b.run_to_run.min, 11) && near(b.run_to_run.max, 14));
    QVERIFY(near(b.relative_range, 3.0 / 12.0));
    QCOMPARE(b.pooled.n, std::size_t(9));  // K x iterations samples
    QVERIFY(near(b.pooled.min, 10) && near(b.pooled.max, 15));
    QVERIFY(near(b.pooled.p50, 12));
  }

  void oneRunIsThatRun() {
    const RunResult r =
        uniform_run({{ScheduleKind::B_DS, {9, 10, 12, 11}}, {ScheduleKind::S1, {5, 6, 7, 8}}});
    const auto agg = aggregate_runs({r});
    const auto single = layer_time_spreads(r);
    for (ScheduleKind k : {ScheduleKind::B_DS, ScheduleKind::S1}) {
      QVERIFY(near(agg.at(k).measured_ms, single.at(k).p50));
      QVERIFY(near(agg.at(k).pooled.p10, single.at(k).p10));
      QVERIFY(near(agg.at(k).pooled.p90, single.at(k).p90));
      QCOMPARE(agg.at(k).relative_range, 0.0);
    }
  }

  void pooledSamplesDecideTheMeasuredBest() {
    // Run 1 alone: S1 (5-6 ms) clearly beats B_DS (10 ms). Run 2: S1 slowed to 9-10 ms. Pooled, S1's
    // p10-p90 reaches B_DS's: tied, and a tie with B_DS keeps B_DS; the fastest median is still S1.
    const RunResult one = uniform_run({{ScheduleKind::B_DS, {10, 10, 10}}, {ScheduleKind::S1, {5, 5, 6}}});
    const RunResult two = uniform_run({{ScheduleKind::B_DS, {10, 10, 10}}, {ScheduleKind::S1, {9, 10, 10}}});
    const MeasuredBest first = measured_best_of(aggregate_runs({one}));
    QCOMPARE(first.best, ScheduleKind::S1);
    QVERIFY(!first.tie());
    const MeasuredBest both = measured_best_of(aggregate_runs({one, two}));
    QVERIFY(both.tie());
    QCOMPARE(both.best, ScheduleKind::B_DS);
    QCOMPARE(both.fastest, ScheduleKind::S1);
  }

  void scheduleMissingFromARunIsLeftOut() {
    const RunResult one = uniform_run({{ScheduleKind::B_DS, {10}}, {ScheduleKind::S1, {5}}});
    const RunResult two = uniform_run({{ScheduleKind::B_DS, {10}}});
    const auto agg = aggregate_runs({one, two});
    QCOMPARE(agg.size(), std::size_t(1));
    QVERIFY(agg.count(ScheduleKind::B_DS));
    QVERIFY(aggregate_runs({}).empty());
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, measured_best_of({}));
  }
};

QTEST_APPLESS_MAIN(TestRepeatedRuns)
#include "test_engine_repeated_runs.moc"
