// The cost model against the worked cases of spec parm.md section 7 (TC-3, TC-4, TC-5: forward communication
// in ms, to the printed three decimals), its selection and tie rules, and the model's invariants.
#include <QtTest>

#include "engine/core/config_json.h"
#include "engine/model/cost_model.h"
#include "engine/model/fit.h"
#include "engine/run/tensor_init.h"
#include "resources/presets.h"
#include "tests/support/worked_cases.h"

using namespace parm;

Q_DECLARE_METATYPE(ScheduleKind)
Q_DECLARE_METATYPE(Config)

namespace {

using worked_cases::ms_per_byte;
using worked_cases::tc1;
using worked_cases::tc3_params;
using worked_cases::tc4;
using worked_cases::tc5;

// TC-4's constants: every beta 1/(10e9 B/s).
CommCostParams tc4_params() {
  CommCostParams p;
  const double beta = ms_per_byte(10e9);
  p.alltoall = {0.03, beta};
  p.p2p_alpha_ms = 0.01;
  p.allgather = {0.03, beta};
  p.reduce_scatter = {0.03, beta};
  p.allreduce = {0.05, beta};
  return p;
}

std::vector<SchedulePrediction> predict_all(const Config& c, const CommCostParams& p) {
  std::vector<SchedulePrediction> out;
  const DerivedSizes d = derive_sizes(c);
  for (ScheduleKind k : kAllSchedules)
    if (k != ScheduleKind::B_DS2) out.push_back(predict_forward_comm(c, d, p, k));
  return out;
}

double ms_of(const std::vector<SchedulePrediction>& all, ScheduleKind k) {
  for (const auto& p : all)
    if (p.kind == k) return p.forward_comm_ms;
  return -1;
}

}  // namespace

class TestCostModel : public QObject {
  Q_OBJECT
 private slots:
  void workedCases_data() {
    QTest::addColumn<Config>("config");
    QTest::addColumn<int>("which");  // 3, 4, 5
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<double>("expected");
    const struct {
      int tc;
      ScheduleKind kind;
      double ms;
    } rows[] = {{3, ScheduleKind::B_DS, 16.894}, {3, ScheduleKind::B0, 25.966}, {3, ScheduleKind::S1, 7.511},
                {3, ScheduleKind::S1F, 4.782},   {3, ScheduleKind::S2, 8.396},  {3, ScheduleKind::S2F, 5.799},
                {4, ScheduleKind::B_DS, 3.634},  {4, ScheduleKind::B0, 8.174},  {4, ScheduleKind::S1, 2.483},
                {4, ScheduleKind::S1F, 2.523},   {4, ScheduleKind::S2, 2.925},  {4, ScheduleKind::S2F, 2.995},
                {5, ScheduleKind::S1, 0.541},    {5, ScheduleKind::S2, 0.541},  {5, ScheduleKind::S1F, 0.582},
                {5, ScheduleKind::S2F, 0.792}};
    for (const auto& r : rows)
      QTest::newRow(qPrintable(QString("TC-%1 %2").arg(r.tc).arg(to_string(r.kind).data())))
          << (r.tc == 3   ? tc1()
              : r.tc == 4 ? tc4()
                          : tc5())
          << r.tc << r.kind << r.ms;
  }
  void workedCases() {
    QFETCH(Config, config);
    QFETCH(int, which);
    QFETCH(ScheduleKind, kind);
    QFETCH(double, expected);
    const CommCostParams p = which == 4 ? tc4_params() : tc3_params();
    const double ms = predict_forward_comm(config, derive_sizes(config), p, kind).forward_comm_ms;
    QVERIFY2(std::abs(ms - expected) < 0.0005,
             qPrintable(QString("predicted %1 ms, spec %2 ms").arg(ms, 0, 'f', 6).arg(expected)));
  }

  void selection() {
    QCOMPARE(select_schedule(predict_all(tc1(), tc3_params())), ScheduleKind::S1F);  // TC-3
    QCOMPARE(select_schedule(predict_all(tc4(), tc4_params())),
             ScheduleKind::S1);  // TC-4: unfused S1 on one node
    const auto tc5_all = predict_all(tc5(), tc3_params());
    QVERIFY(std::abs(ms_of(tc5_all, ScheduleKind::S1) - ms_of(tc5_all, ScheduleKind::S2)) < 1e-9);
    QCOMPARE(select_schedule(tc5_all), ScheduleKind::S1);  // tie: unfused, then S1 before S2
  }

  void tieOrderDoesNotDependOnInputOrder() {
    auto all = predict_all(tc5(), tc3_params());
    std::reverse(all.begin(), all.end());
    QCOMPARE(select_schedule(all), ScheduleKind::S1);
  }

  // Predicted times never decrease when any beta grows.
  void monotoneInEveryBeta() {
    const Config configs[] = {tc1(), tc4(), tc5()};
    for (const Config& c : configs) {
      const DerivedSizes d = derive_sizes(c);
      for (int which = 0; which < 4; ++which) {
        CommCostParams p = tc3_params();
        CommCostParams q = p;
        AlphaBeta* targets[] = {&q.alltoall, &q.allgather, &q.reduce_scatter, &q.allreduce};
        targets[which]->beta_ms_per_byte *= 1.5;
        for (ScheduleKind k : kAllSchedules)
          QVERIFY(predict_forward_comm(c, d, q, k).forward_comm_ms >=
                  predict_forward_comm(c, d, p, k).forward_comm_ms);
      }
    }
  }

  void reasonNamesDominantTerm() {
    const Config c = tc1();
    const auto p = predict_forward_comm(c, derive_sizes(c), tc3_params(), ScheduleKind::B_DS);
    QVERIFY(QString::fromStdString(p.dominant()).startsWith("AlltoAll(EP)"));
  }

  // t = 0.2 + 3e-7 n with 1% noise over the spec's sweep (2^18 .. 24*2^18 floats, 5 runs a point).
  void fitRecoversAlphaBeta() {
    std::vector<FitSample> samples;
    for (int i = 1; i <= 24; ++i) {
      const double n = i * 262144.0 * 4;
      for (int run = 0; run < 5; ++run) {
        const double noise =
            0.01 * counter_uniform(42, TensorId::Input, static_cast<std::uint64_t>(i * 5 + run));
        samples.push_back({n, (0.2 + 3e-7 * n) * (1 + noise)});
      }
    }
    const LinearFit f = fit_alpha_beta(samples);
    QVERIFY2(std::abs(f.alpha - 0.2) / 0.2 < 0.05, qPrintable(QString::number(f.alpha)));
    QVERIFY2(std::abs(f.beta - 3e-7) / 3e-7 < 0.01, qPrintable(QString::number(f.beta)));
    QVERIFY(f.r2 > 0.999);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fit_alpha_beta({{1, 1}, {1, 2}}));
  }
};

QTEST_APPLESS_MAIN(TestCostModel)
#include "test_engine_cost_model.moc"
