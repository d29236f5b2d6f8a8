// Before/after of two runs (engine/model/run_diff.h) on hand-built samples: overlapping spreads are "no
// change within noise", a clear change is faster or slower by the speedup spread, a row only one run has says
// so, and runs of different layers are refused with one line naming the first differing field (names,
// iteration counts and backend may differ).
#include <QtTest>

#include "engine/model/run_diff.h"

using namespace parm;

namespace {

RunSamples samples(std::int64_t run, std::vector<double> bds, std::vector<double> s1) {
  RunSamples r;
  r.run = run;
  r.config = Config{};
  r.schedule_ms["B_DS"] = std::move(bds);
  r.schedule_ms["S1"] = std::move(s1);
  r.op_ms[{"S1", 0, "AlltoAll", "dispatch"}] = {1.0, 1.1, 1.2};
  return r;
}

const DiffRow& row_of(const std::vector<DiffRow>& rows, const std::string& schedule) {
  for (const DiffRow& r : rows)
    if (r.schedule == schedule) return r;
  qFatal("no row %s", schedule.c_str());
}

}  // namespace

class TestRunDiff : public QObject {
  Q_OBJECT

 private slots:
  void overlappingSpreadsAreNoChange() {
    const DiffRow r = diff_row(spread_of({10, 11, 12, 13, 14}), spread_of({13, 14, 15, 16, 17}));
    QCOMPARE(r.verdict, DiffVerdict::NoChange);
    QCOMPARE(verdict_text(r), std::string("no change within noise"));
    QVERIFY(r.change_pct.has_value());
    QVERIFY(std::abs(*r.change_pct - 25.0) < 1e-9);  // medians 12 -> 15: shown, but not called a change
  }

  void clearChangeIsFasterOrSlowerWithItsSpread() {
    const Spread before = spread_of({20, 21, 22, 23, 24}), after = spread_of({10, 11, 12, 13, 14});
    const DiffRow faster = diff_row(before, after);
    QCOMPARE(faster.verdict, DiffVerdict::Faster);
    QVERIFY(std::abs(faster.factor.p50 - 22.0 / 12.0) < 1e-12);
    QVERIFY(std::abs(faster.factor.p10 - before.p10 / after.p90) < 1e-12);  // pessimistic end
    QVERIFY(std::abs(faster.factor.p90 - before.p90 / after.p10) < 1e-12);
    QVERIFY(std::abs(*faster.change_pct - (12.0 - 22.0) / 22.0 * 100.0) < 1e-9);
    QCOMPARE(verdict_text(faster), std::string("faster by 1.83x (1.50-2.27x)"));
    const DiffRow slower = diff_row(after, before);
    QCOMPARE(slower.verdict, DiffVerdict::Slower);
    QCOMPARE(verdict_text(slower), std::string("slower by 1.83x (1.50-2.27x)"));
  }

  void rowOfOneRunOnlySaysSo() {
    QCOMPARE(diff_row(spread_of({1}), Spread{}).verdict, DiffVerdict::OnlyBefore);
    QCOMPARE(verdict_text(diff_row(Spread{}, spread_of({1}))), std::string("only after"));
    QVERIFY(!diff_row(Spread{}, spread_of({1})).change_pct.has_value());
  }

  void diffCoversSchedulesAndOpsInRegistryOrder() {
    RunSamples before = samples(1, {10, 10.5, 11}, {8, 8.2, 8.4});
    RunSamples after = samples(2, {10.2, 10.4, 10.9}, {6, 6.1, 6.2});
    after.op_ms[{"S1", 1, "AllGather", "combine"}] = {0.5};
    const RunDiff d = diff_runs(before, after);
    QCOMPARE(d.before_run, std::int64_t{1});
    QCOMPARE(d.after_run, std::int64_t{2});
    QCOMPARE(d.schedules.size(), std::size_t{2});
    QCOMPARE(d.schedules[0].schedule, std::string("B_DS"));  // registry order
    QCOMPARE(row_of(d.schedules, "B_DS").verdict, DiffVerdict::NoChange);
    QCOMPARE(row_of(d.schedules, "S1").verdict, DiffVerdict::Faster);
    QCOMPARE(d.ops.size(), std::size_t{2});
    QCOMPARE(d.ops[0].verdict, DiffVerdict::NoChange);  // same samples
    QCOMPARE(d.ops[1].verdict, DiffVerdict::OnlyAfter);
    QCOMPARE(std::get<2>(*d.ops[1].op), std::string("AllGather"));
  }

  void differentLayersAreRefusedNamingTheField() {
    RunSamples before = samples(3, {1}, {1}), after = samples(4, {1}, {1});
    after.config->name = "renamed";
    after.config->run.iterations = 50;
    after.config->parallel.gpus_per_node = 4;
    QCOMPARE(diff_runs(before, after).schedules.size(), std::size_t{2});  // same layer: compared
    after.config->layer.hidden = 256;
    after.config->layer.top_k = 1;
    QCOMPARE(layer_mismatch(*before.config, *after.config).value(), std::string("layer.hidden: 128 vs 256"));
    try {
      diff_runs(before, after);
      QFAIL("compared different layers");
    } catch (const std::runtime_error& e) {
      QCOMPARE(std::string(e.what()),
               std::string("runs 3 and 4 measure different layers (layer.hidden: 128 vs 256)"));
    }
    after.config = before.config;
    after.config->parallel.mp = 1;
    QCOMPARE(layer_mismatch(*before.config, *after.config).value(), std::string("parallel.mp: 2 vs 1"));
    after.config.reset();
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, diff_runs(before, after));
  }
};

QTEST_GUILESS_MAIN(TestRunDiff)
#include "test_engine_run_diff.moc"
