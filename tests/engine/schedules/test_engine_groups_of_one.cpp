// Groups of one (spec parm.md section 6): a collective over a group of one member (N_MP = 1, N_ESP = 1,
// N_EP = 1) is not executed and costs 0, fused or not. The op lists of build_schedule, the volume formulas,
// predict_forward_comm and the timeline model all leave it out; checked for every schedule against hand sums.
#include <QtTest>
#include <cmath>
#include <map>

#include "engine/core/sizes.h"
#include "engine/model/calibration.h"
#include "engine/model/cost_model.h"
#include "engine/model/timeline_model.h"
#include "engine/schedules/group_specs.h"
#include "engine/schedules/schedule_ir.h"
#include "engine/schedules/volumes.h"
#include "tests/support/worked_cases.h"

using namespace parm;

Q_DECLARE_METATYPE(ParallelConfig)

namespace {

constexpr double kA2aAlpha = 0.2, kP2pAlpha = 0.02, kAgAlpha = 0.03, kRsAlpha = 0.03, kArAlpha = 0.05;
constexpr double kInterBeta = 1e3 / 3e9, kIntraBeta = 1e3 / 10e9;  // ms per byte

double share(std::int64_t n) {
  return double(n - 1) / double(n);
}

Config layer_on(const ParallelConfig& parallel) {
  Config c;
  c.layer.batch = 2;
  c.layer.seq_len = 64;
  c.layer.hidden = 32;
  c.layer.ffn_hidden = 64;
  c.layer.num_experts = 8;
  c.parallel = parallel;
  return c;
}

CommCostParams constants() {
  CommCostParams p;
  p.alltoall = {kA2aAlpha, kInterBeta};
  p.p2p_alpha_ms = kP2pAlpha;
  p.allgather = {kAgAlpha, kIntraBeta};
  p.reduce_scatter = {kRsAlpha, kIntraBeta};
  p.allreduce = {kArAlpha, kIntraBeta};
  return p;
}

// The same constants as a calibration of `layout` (fits in the spec's size convention), no compute fits:
// the timeline's compute is 0.
Calibration calibration(const ParallelConfig& layout) {
  Calibration c;
  c.id = "calib-groups-of-one";
  c.layout = layout;
  c.interference = 1.0;
  const int ep = int(layout.ep()), mp = int(layout.mp);
  auto fit = [&](const char* op, const char* comm, int n, double alpha, double beta) {
    c.fits.push_back(worked_cases::exact_fit(op, comm, n, alpha, beta));
  };
  if (ep > 1) {
    fit("alltoall", "EP", ep, kA2aAlpha, kInterBeta);
    fit("p2p", "EP", ep, kP2pAlpha, kInterBeta);
  }
  if (mp > 1) {
    fit("allgather", "MP", mp, kAgAlpha, kIntraBeta * share(mp));
    fit("reducescatter", "MP", mp, kRsAlpha, kIntraBeta * share(mp));
    fit("allreduce", "MP", mp, kArAlpha, kIntraBeta * 2 * share(mp));
  }
  return c;
}

// Every group an op or a stage of `list` runs over.
std::vector<Group> groups_of(const std::vector<Op>& list) {
  std::vector<Group> out;
  for (const Op& op : list) {
    if (op.kind == OpKind::Pipeline) {
      for (const Stage& s : op.stages) out.push_back(s.group);
    } else if (op.communicates() || op.kind == OpKind::Split || op.kind == OpKind::Copy) {
      out.push_back(op.group);
    }
  }
  return out;
}

void layouts() {
  QTest::addColumn<ParallelConfig>("parallel");
  QTest::newRow("N_MP=1, N_EP=8, 2 nodes") << ParallelConfig{8, 4, 1, 1};
  QTest::newRow("N_MP=1, N_EP=2, 1 node") << ParallelConfig{2, 2, 1, 1};
  QTest::newRow("N_EP=1, N_MP=N_ESP=4") << ParallelConfig{4, 4, 4, 4};
  QTest::newRow("N_EP=1, N_MP=2, N_ESP=1") << ParallelConfig{2, 2, 2, 1};
  QTest::newRow("one rank") << ParallelConfig{1, 1, 1, 1};
}

}  // namespace

class TestGroupsOfOne : public QObject {
  Q_OBJECT
 private slots:
  void noOpOverAGroupOfOne_data() { layouts(); }
  void noOpOverAGroupOfOne() {
    QFETCH(ParallelConfig, parallel);
    for (ScheduleKind k : kAllSchedules) {
      const Schedule s = build_schedule(k, parallel);
      for (const auto* list : {&s.forward, &s.backward}) {
        for (Group g : groups_of(*list))
          QVERIFY2(
              group_size(g, parallel) > 1,
              qPrintable(QString("%1: an op over %2 of one").arg(to_string(k).data(), to_string(g).data())));
        for (const Op& op : *list) {
          if (op.kind != OpKind::Pipeline) continue;
          QVERIFY2(parallel.ep() > 1, to_string(k).data());  // W = 1: unfused collectives, no pipeline
          QVERIFY(!op.stages.empty());
        }
      }
    }
  }

  // The volume formulas (the spec side the byte counters are tested against) agree: no entry over a group of
  // one, and with N_EP = 1 no fused entry.
  void volumesHaveNoGroupOfOne_data() { layouts(); }
  void volumesHaveNoGroupOfOne() {
    QFETCH(ParallelConfig, parallel);
    const Config c = layer_on(parallel);
    const DerivedSizes d = derive_sizes(c);
    for (ScheduleKind k : kAllSchedules) {
      for (const CollectiveVolume& v : schedule_volumes(c, d, k)) {
        QVERIFY2(v.group_size > 1, qPrintable(QString("%1 %2").arg(to_string(k).data(), v.purpose.c_str())));
        if (parallel.ep() <= 1) QVERIFY(v.fused.empty());
      }
    }
  }

  // N_MP = 1 on two nodes (W = 8): every MP/ESP collective is gone, the unfused schedules cost two AlltoAlls
  // with their alpha, and the fused ones two pipelines of W AlltoAll steps (W alpha_p2p, no AllGather step).
  void mpOfOneCostsOnlyTheAlltoAlls() {
    const Config c = layer_on({8, 4, 1, 1});
    const DerivedSizes d = derive_sizes(c);
    QCOMPARE(d.D1, d.D0);  // N = 1: C1 = C2 = C0
    QCOMPARE(d.D2, d.D0);
    const double bytes = double(d.D0 * d.bytes_per_element);
    const double unfused = 2 * (kA2aAlpha + kInterBeta * bytes);
    const double fused = 2 * (double(d.n_ep) * kP2pAlpha + kInterBeta * bytes);
    const Calibration calib = calibration(c.parallel);
    for (ScheduleKind k : kAllSchedules) {
      const SchedulePrediction p = predict_forward_comm(c, d, constants(), k);
      const bool pipelined = k == ScheduleKind::S1F || k == ScheduleKind::S2F;
      QVERIFY2(std::abs(p.forward_comm_ms - (pipelined ? fused : unfused)) < 1e-12,
               qPrintable(QString("%1: %2").arg(to_string(k).data()).arg(p.forward_comm_ms)));
      QCOMPARE(p.terms.size(), std::size_t(2));
      // The timeline runs the same lists: with zero compute its forward is the same sum, and no interval
      // runs over a group of one.
      const TimelinePrediction t = predict_timeline(c, d, calib, k);
      QVERIFY2(std::abs(t.forward_ms - p.forward_comm_ms) < 1e-9,
               qPrintable(QString("%1: timeline %2").arg(to_string(k).data()).arg(t.forward_ms)));
      for (const PredictedInterval& iv : t.intervals)
        QVERIFY2(iv.lane == Lane::Compute || iv.group == "EP", iv.name.c_str());
    }
  }

  // N_EP = 1 (one MP group of 4 on one node): no AlltoAll and no pipeline; the fused variants run their
  // stages unfused, so S1F == S1 and S2F == S2, each the hand sum of its MP/ESP collectives.
  void epOfOneRunsThePipelinesUnfused() {
    const Config c = layer_on({4, 4, 4, 4});
    const DerivedSizes d = derive_sizes(c);
    const double b = double(d.bytes_per_element), n = 4;
    auto ag = [&](std::int64_t elements) { return kAgAlpha + kIntraBeta * share(4) * double(elements) * b; };
    auto rs = [&](std::int64_t elements) { return kRsAlpha + kIntraBeta * share(4) * double(elements) * b; };
    const double ar_d0 = kArAlpha + kIntraBeta * 2 * share(4) * double(d.D0) * b;
    const std::int64_t sm = d.S * c.layer.hidden;
    const std::map<ScheduleKind, double> want{
        {ScheduleKind::B_DS, ar_d0},
        {ScheduleKind::S1, ag(std::int64_t(n) * d.D1) + rs(std::int64_t(n) * d.D1) + ag(sm)},
        {ScheduleKind::S1F, ag(std::int64_t(n) * d.D1) + rs(std::int64_t(n) * d.D1) + ag(sm)},
        {ScheduleKind::S2, ag(d.D2) + rs(d.D2) + ag(d.D2)},
        {ScheduleKind::S2F, ag(d.D2) + rs(d.D2) + ag(d.D2)},
    };
    const Calibration calib = calibration(c.parallel);
    for (const auto& [k, ms] : want) {
      const SchedulePrediction p = predict_forward_comm(c, d, constants(), k);
      QVERIFY2(std::abs(p.forward_comm_ms - ms) < 1e-12,
               qPrintable(QString("%1: %2 != %3").arg(to_string(k).data()).arg(p.forward_comm_ms).arg(ms)));
      for (const CostTerm& t : p.terms) QVERIFY2(!t.pipeline, t.what.c_str());
      const TimelinePrediction t = predict_timeline(c, d, calib, k);
      QVERIFY2(std::abs(t.forward_ms - ms) < 1e-9,
               qPrintable(QString("%1: timeline %2").arg(to_string(k).data()).arg(t.forward_ms)));
      for (const PredictedInterval& iv : t.intervals) QVERIFY2(iv.group != "EP", iv.name.c_str());
    }
  }
};

QTEST_APPLESS_MAIN(TestGroupsOfOne)
#include "test_engine_groups_of_one.moc"
