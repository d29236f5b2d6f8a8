// The timeline model of pipelined schedules (issue 19): each chunked op is laid out once per chunk in the
// executor's wavefront order, on FIFO lanes (no two intervals of a lane overlap; chunk k's op starts after
// chunk k's previous op); forward communication (the paper's quantity) is the same bytes as r = 1; with free
// latency the chunks hide communication under the experts (exposed communication falls), with a large
// latency they cost more than they hide and the selection over degrees keeps r = 1.
#include <QtTest>
#include <algorithm>
#include <map>

#include "engine/model/recommendation.h"
#include "engine/model/timeline_model.h"
#include "engine/schedules/chunk_plan.h"
#include "engine/schedules/schedule_registry.h"
#include "tests/support/worked_cases.h"

using namespace parm;

namespace {

using worked_cases::exact_fit;
using worked_cases::ms_per_byte;

// tc1 (8 nodes x 4, N_MP = N_ESP = 4, N_EP = 8) with a calibration whose latency terms are `alpha` ms and
// whose links and GEMMs make the AlltoAll and the experts comparable.
Calibration calibration(const Config& c, double alpha) {
  Calibration k;
  k.id = "chunks";
  k.layout = c.parallel;
  k.dtype = c.layer.dtype;
  k.interference = 1.0;
  const int ep = static_cast<int>(c.parallel.ranks / c.parallel.mp), mp = static_cast<int>(c.parallel.mp);
  k.fits = {exact_fit("alltoall", "EP", ep, alpha, ms_per_byte(3e9)),
            exact_fit("p2p", "EP", ep, alpha, ms_per_byte(3e9)),
            exact_fit("allgather", "MP", mp, alpha, ms_per_byte(10e9)),
            exact_fit("reducescatter", "MP", mp, alpha, ms_per_byte(10e9)),
            exact_fit("allreduce", "MP", mp, alpha, ms_per_byte(5e9)),
            exact_fit("gemm", "local", 1, alpha, 2e-9),
            exact_fit("gate", "local", 1, 0.0, 1e-9),
            exact_fit("order", "local", 1, 0.0, 1e-9),
            exact_fit("combine", "local", 1, 0.0, 1e-9)};
  return k;
}

std::vector<ScheduleKind> pipelined() {
  std::vector<ScheduleKind> out;
  for (ScheduleKind base : kAllSchedules)
    for (int r : {2, 4, 8}) out.push_back(pipelined_variant(base, r)->kind);
  return out;
}

}  // namespace

class TestTimelineChunks : public QObject {
  Q_OBJECT
 private slots:
  void chunkedOpsOncePerChunkOnFifoLanes() {
    for (const Config& c : {worked_cases::tc1(), worked_cases::tc4()}) {
      const DerivedSizes d = derive_sizes(c);
      const Calibration calib = calibration(c, 0.01);
      for (ScheduleKind kind : pipelined()) {
        const TimelinePrediction t = predict_timeline(c, d, calib, kind);
        const Schedule s = build_schedule(kind, c.parallel);
        const QString who = QString::fromUtf8(to_string(kind).data());
        for (int phase = 0; phase < 2; ++phase) {
          const auto& list = phase == 0 ? s.forward : s.backward;
          const ChunkRegion region = chunk_region(list);
          const int chunks = planned_chunks(s, phase == 0 ? Direction::Forward : Direction::Backward, d);
          QVERIFY2(chunks > 1, qPrintable(who));
          // (op, chunk) -> intervals; plain chunked ops have their chunk, pipeline steps chunk * W + step.
          std::map<std::pair<std::size_t, int>, std::vector<const PredictedInterval*>> seen;
          for (const auto& iv : t.intervals)
            if (iv.phase == phase && iv.op >= region.first && iv.op < region.last) {
              const bool step = list[iv.op].kind == OpKind::Pipeline;
              const int chunk = step ? iv.chunk / static_cast<int>(d.n_ep) : iv.chunk;
              QVERIFY2(chunk >= 0 && chunk < chunks, qPrintable(who));
              seen[{iv.op, chunk}].push_back(&iv);
            }
          QCOMPARE(seen.size(), region.size() * static_cast<std::size_t>(chunks));
          // Chunk k's op j starts after chunk k's op j-1 has ended.
          for (int k = 0; k < chunks; ++k)
            for (std::size_t j = region.first + 1; j < region.last; ++j) {
              double prev_end = 0, start = 1e300;
              for (const auto* iv : seen[{j - 1, k}]) prev_end = std::max(prev_end, iv->end_ms);
              for (const auto* iv : seen[{j, k}]) start = std::min(start, iv->start_ms);
              QVERIFY2(start >= prev_end - 1e-9, qPrintable(who + QString(" chunk %1 op %2").arg(k).arg(j)));
            }
        }
        // FIFO lanes: no two intervals of a lane overlap (on one node the two link lanes share one link).
        for (int lane = 0; lane < kLaneCount; ++lane) {
          std::vector<std::pair<double, double>> spans;
          for (const auto& iv : t.intervals)
            if (static_cast<int>(iv.lane) == lane && iv.end_ms > iv.start_ms)
              spans.emplace_back(iv.start_ms, iv.end_ms);
          std::sort(spans.begin(), spans.end());
          for (std::size_t i = 1; i < spans.size(); ++i)
            QVERIFY2(
                spans[i].first >= spans[i - 1].second - 1e-9,
                qPrintable(
                    who +
                    QString(" lane %1: %2 < %3").arg(lane).arg(spans[i].first).arg(spans[i - 1].second)));
        }
        const TimelinePrediction plain = predict_timeline(c, d, calib, base_of(kind));
        QCOMPARE(t.forward_comm_ms, plain.forward_comm_ms);
      }
    }
  }

  // Free latency: on tc1 every schedule's exposed communication falls with r = 2 and the layer gets faster;
  // the selection over {1, 2, 4, 8} picks a pipelined one, and says what it hides.
  void overlapPaysWithoutLatency() {
    const Config c = worked_cases::tc1();
    const DerivedSizes d = derive_sizes(c);
    const Calibration calib = calibration(c, 0.0);
    for (ScheduleKind base : kAllSchedules) {
      const TimelinePrediction plain = predict_timeline(c, d, calib, base);
      const TimelinePrediction two = predict_timeline(c, d, calib, pipelined_variant(base, 2)->kind);
      QVERIFY2(two.layer_ms - two.compute_ms < plain.layer_ms - plain.compute_ms,
               qPrintable(QString("%1: exposed %2 vs %3")
                              .arg(to_string(base).data())
                              .arg(two.layer_ms - two.compute_ms)
                              .arg(plain.layer_ms - plain.compute_ms)));
      QVERIFY(two.layer_ms < plain.layer_ms);
    }
    const Recommendation r = recommend(c, calib, {{1, 2, 4, 8}});
    QVERIFY(!spec_of(r.chosen).base.empty());
    QVERIFY(r.speedup_vs_parm(r.chosen) > 1.0);
    QVERIFY(recommendation_reason(r).find("at r = 1: exposed communication") != std::string::npos);
    const nlohmann::json j = recommendation_layer_json(r);
    QCOMPARE(j["pipeline_degree"]["forward"].get<int>(), spec_of(r.chosen).pipeline_degree.forward);
    QCOMPARE(j["parm_best"].get<std::string>(), std::string(to_string(r.parm_best)));
    QCOMPARE(spec_of(r.parm_best).family, ScheduleFamily::Parm);
    QVERIFY(spec_of(r.parm_best).base.empty());
  }

  // The "chunk" fit of `parm calibrate` (ms per chunked call r adds) makes every pipelined schedule slower
  // and leaves r = 1 alone; a large one makes the widened selection choose what Parm's space chooses.
  void chunkFitChargesChunkedCalls() {
    const Config c = worked_cases::tc1();
    const DerivedSizes d = derive_sizes(c);
    const Calibration free = calibration(c, 0.0);
    for (double extra : {0.5, 1000.0}) {
      Calibration charged = free;
      CalibrationFit fit = exact_fit("chunk", "EP", 8, extra, 0.0);
      fit.samples = {{2, extra}, {4, extra}, {8, extra}};
      charged.fits.push_back(fit);
      for (ScheduleKind base : kAllSchedules) {
        QCOMPARE(predict_timeline(c, d, charged, base).layer_ms, predict_timeline(c, d, free, base).layer_ms);
        for (int r : {2, 4, 8}) {
          const ScheduleKind k = pipelined_variant(base, r)->kind;
          QVERIFY(predict_timeline(c, d, charged, k).layer_ms > predict_timeline(c, d, free, k).layer_ms);
        }
      }
      if (extra > 100) {
        const Recommendation wide = recommend(c, charged, {{1, 2, 4, 8}});
        QVERIFY(spec_of(wide.chosen).base.empty());
        QCOMPARE(wide.chosen, recommend(c, charged).chosen);
      }
    }
  }

  // A latency far above the transfer times: r calls cost r alphas, so every degree above 1 is slower and the
  // widened selection chooses what Parm's space chooses.
  void latencyKeepsDegreeOne() {
    const Config c = worked_cases::tc1();
    const DerivedSizes d = derive_sizes(c);
    const Calibration calib = calibration(c, 50.0);
    for (ScheduleKind base : kAllSchedules)
      QVERIFY(predict_timeline(c, d, calib, pipelined_variant(base, 8)->kind).layer_ms >
              predict_timeline(c, d, calib, base).layer_ms);
    const Recommendation wide = recommend(c, calib, {{1, 2, 4, 8}});
    const Recommendation parm = recommend(c, calib);
    QCOMPARE(wide.chosen, parm.chosen);
    QCOMPARE(wide.speedup_vs_parm(wide.chosen), parm.speedup_vs_parm(parm.chosen));
    QCOMPARE(parm.timelines.size(), std::size(kAllSchedules));
    QCOMPARE(wide.timelines.size(), 16 * std::size(kAllSchedules));  // every forward x backward degree
  }
};

QTEST_APPLESS_MAIN(TestTimelineChunks)
#include "test_engine_timeline_chunks.moc"
