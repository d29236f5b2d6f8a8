// The timeline model's fused pipelines (engine/model/timeline_model.h) against the one pipeline description
// (engine/schedules/pipeline_plan.h) and the closed form of spec parm.md section 6: on every lane the
// simulated steps of a pipeline follow pipeline_issue_order filtered to that lane (what the executor
// enqueues), and with the TC-3 constants and zero compute S2F's simulated forward is within 5% of 5.799 ms.
#include <QtTest>
#include <cmath>
#include <map>

#include "engine/core/config_json.h"
#include "engine/model/calibration.h"
#include "engine/model/cost_model.h"
#include "engine/model/timeline_model.h"
#include "engine/schedules/pipeline_plan.h"
#include "engine/schedules/schedule_ir.h"
#include "resources/presets.h"
#include "tests/support/worked_cases.h"

using namespace parm;

Q_DECLARE_METATYPE(Config)

namespace {

using worked_cases::tc1;
using worked_cases::tc4;
using worked_cases::tc5;

Calibration tc3_communication(const ParallelConfig& layout) {
  return worked_cases::tc3_calibration(layout, false);
}

// The stage index of a simulated pipeline step, from its name "SAA/AllGather" and the op's stages.
std::size_t stage_of(const PredictedInterval& iv, const Op& op) {
  const std::string kind = iv.name.substr(iv.name.find('/') + 1);
  for (std::size_t s = 0; s < op.stages.size(); ++s) {
    const OpKind k = op.stages[s].kind;
    const std::string name = k == OpKind::AlltoAll ? "AlltoAll" : std::string(to_string(k));
    if (name == kind) return s;
  }
  return op.stages.size();
}

}  // namespace

class TestTimelinePipeline : public QObject {
  Q_OBJECT
 private slots:
  void laneOrderIsTheIssueOrder_data() {
    QTest::addColumn<Config>("config");
    QTest::addColumn<ScheduleKind>("kind");
    const Config whole = [] {
      Config c = tc1();
      c.parallel.esp = 1;
      return c;
    }();
    for (ScheduleKind k : {ScheduleKind::S1F, ScheduleKind::S2F}) {
      const std::string name(to_string(k));
      QTest::newRow(("TC-3 " + name).c_str()) << tc1() << k;
      QTest::newRow(("TC-4 " + name).c_str()) << tc4() << k;
    }
    // With whole experts S2 fuses its combine (SAA) and S2F both sides.
    QTest::newRow("whole experts S2") << whole << ScheduleKind::S2;
    QTest::newRow("whole experts S2F") << whole << ScheduleKind::S2F;
  }
  void laneOrderIsTheIssueOrder() {
    QFETCH(Config, config);
    QFETCH(ScheduleKind, kind);
    const DerivedSizes d = derive_sizes(config);
    const TimelinePrediction t = predict_timeline(config, d, tc3_communication(config.parallel), kind);
    const Schedule schedule = build_schedule(kind, config.parallel);
    int pipelines = 0;
    for (int phase = 0; phase < 2; ++phase) {
      const std::vector<Op>& list = phase == 0 ? schedule.forward : schedule.backward;
      for (std::size_t i = 0; i < list.size(); ++i) {
        const Op& op = list[i];
        if (op.kind != OpKind::Pipeline) continue;
        ++pipelines;
        // The simulated steps per lane, in start order (the list keeps a lane's FIFO order on ties).
        std::map<Lane, std::vector<std::pair<std::int64_t, std::size_t>>> simulated, issued;
        std::map<Lane, double> last_start;
        for (const PredictedInterval& iv : t.intervals) {
          if (iv.phase != phase || iv.op != i) continue;
          QVERIFY(iv.chunk >= 0);
          QVERIFY2(iv.start_ms >= last_start[iv.lane] - 1e-12, "a lane's steps are listed in start order");
          last_start[iv.lane] = iv.start_ms;
          simulated[iv.lane].emplace_back(iv.chunk, stage_of(iv, op));
        }
        for (const PipelineStep& ps : pipeline_issue_order(d.n_ep, op.stages.size()))
          issued[pipeline_stage_lane(op, ps.stage)].emplace_back(ps.step, ps.stage);
        QCOMPARE(simulated.size(), issued.size());
        for (const auto& [lane, steps] : issued)
          QVERIFY2(simulated[lane] == steps,
                   qPrintable(QString("%1 phase %2 op %3 (%4), lane %5: simulated order differs")
                                  .arg(QString::fromStdString(std::string(to_string(kind))))
                                  .arg(phase)
                                  .arg(i)
                                  .arg(QString::fromStdString(op.name()))
                                  .arg(QString::fromStdString(std::string(to_string(lane))))));
      }
    }
    QVERIFY(pipelines > 0);
  }

  // With zero compute the simulated forward is the forward communication: S2F's is within 5% of the closed
  // form's 5.799 ms (the simulation fills the RS>A2A>AG chain faster than sum + (W-1) * L assumes).
  void s2fForwardNearClosedForm() {
    const Config c = tc1();
    const TimelinePrediction t =
        predict_timeline(c, derive_sizes(c), tc3_communication(c.parallel), ScheduleKind::S2F);
    QCOMPARE(std::round(t.forward_comm_ms * 1000) / 1000, 5.799);
    QCOMPARE(t.forward_compute_ms, 0.0);
    QVERIFY2(std::abs(t.forward_ms - 5.799) <= 0.05 * 5.799,
             qPrintable(QString("simulated forward %1 ms").arg(t.forward_ms, 0, 'f', 4)));
  }

  // Every pipeline of the worked cases: the simulated span against its closed-form term. Two stages on two
  // links, and any pipeline on a shared link, are exact; S2F's three-stage chain fills faster (<= 10%).
  void pipelinesAgainstClosedForm_data() {
    QTest::addColumn<Config>("config");
    QTest::addColumn<ScheduleKind>("kind");
    for (ScheduleKind k : {ScheduleKind::S1F, ScheduleKind::S2F}) {
      const std::string name(to_string(k));
      QTest::newRow(("TC-3 " + name).c_str()) << tc1() << k;
      QTest::newRow(("TC-4 " + name).c_str()) << tc4() << k;
      QTest::newRow(("TC-5 " + name).c_str()) << tc5() << k;
    }
  }
  void pipelinesAgainstClosedForm() {
    QFETCH(Config, config);
    QFETCH(ScheduleKind, kind);
    const DerivedSizes d = derive_sizes(config);
    const Calibration calib = tc3_communication(config.parallel);
    const TimelinePrediction t = predict_timeline(config, d, calib, kind);
    const SchedulePrediction closed = predict_forward_comm(config, d, calib.comm_params(), kind);
    std::vector<double> simulated, priced;
    for (const CostTerm& term : t.terms)
      if (term.pipeline && term.what.find(" bwd") == std::string::npos) simulated.push_back(term.ms);
    for (const CostTerm& term : closed.terms)
      if (term.pipeline) priced.push_back(term.ms);
    QCOMPARE(simulated.size(), priced.size());
    const Schedule schedule = build_schedule(kind, config.parallel);
    std::size_t p = 0;
    for (const Op& op : schedule.forward) {
      if (op.kind != OpKind::Pipeline) continue;
      const double rel = std::abs(simulated[p] - priced[p]) / priced[p];
      const bool exact = op.stages.size() == 2 || d.nodes <= 1;
      QVERIFY2(exact ? rel < 1e-9 : rel <= 0.10, qPrintable(QString("%1: simulated %2 ms, closed form %3 ms")
                                                                .arg(QString::fromStdString(op.name()))
                                                                .arg(simulated[p], 0, 'f', 4)
                                                                .arg(priced[p], 0, 'f', 4)));
      ++p;
    }
  }
};

QTEST_GUILESS_MAIN(TestTimelinePipeline)
#include "test_engine_timeline_pipeline.moc"
