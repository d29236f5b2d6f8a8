// The timeline model and the selection with the hierarchical (2DH) AlltoAll (issue 19): its interval is the
// EP-intra and EP-inter AlltoAll fits over the whole send buffer plus four copy passes, on the same bytes as
// the flat AlltoAll; a calibration without the sub-group fits is refused for it, naming the fit; the
// selection over {flat, 2dh} takes 2DH when the flat AlltoAll's latency (its W - L inter-node messages)
// outweighs the extra intra-node exchange, and flat otherwise, with the message counts in the reason; a
// layout where 2DH is the flat exchange offers no 2DH option.
#include <QtTest>

#include "engine/core/validation.h"
#include "engine/model/recommendation.h"
#include "engine/model/timeline_model.h"
#include "engine/schedules/alltoall_algorithm.h"
#include "engine/schedules/schedule_registry.h"
#include "tests/support/worked_cases.h"

using namespace parm;

namespace {

using worked_cases::exact_fit;
using worked_cases::ms_per_byte;

// tc1's layer with 128 tokens per MP group (latency matters) on 4 nodes x 4 GPUs with N_MP = N_ESP = 2:
// N_EP = 8, L = 2 EP ranks per node.
Config layer() {
  Config c = worked_cases::tc1();
  c.layer.batch = 1;
  c.layer.seq_len = 128;
  c.parallel = {16, 4, 2, 2};
  return c;
}

// Flat EP AlltoAll latency `flat_alpha`; the sub-groups' latencies `intra_alpha`, `inter_alpha`.
Calibration calibration(const Config& c, double flat_alpha, double intra_alpha, double inter_alpha,
                        bool sub_groups = true) {
  Calibration k;
  k.id = "2dh";
  k.layout = c.parallel;
  k.dtype = c.layer.dtype;
  const int ep = static_cast<int>(c.parallel.ep()), mp = static_cast<int>(c.parallel.mp);
  k.fits = {exact_fit("alltoall", "EP", ep, flat_alpha, ms_per_byte(3e9)),
            exact_fit("p2p", "EP", ep, flat_alpha / 2, ms_per_byte(3e9)),  // a pipeline step: 1 message
            exact_fit("allgather", "MP", mp, 0.01, ms_per_byte(10e9)),
            exact_fit("reducescatter", "MP", mp, 0.01, ms_per_byte(10e9)),
            exact_fit("allreduce", "MP", mp, 0.01, ms_per_byte(5e9)),
            exact_fit("gemm", "local", 1, 0.01, 2e-9),
            exact_fit("copy", "local", 1, 0.0, ms_per_byte(20e9))};
  if (sub_groups) {
    k.fits.push_back(exact_fit("alltoall", "EP-intra", 2, intra_alpha, ms_per_byte(10e9)));
    k.fits.push_back(exact_fit("alltoall", "EP-inter", ep / 2, inter_alpha, ms_per_byte(3e9)));
  }
  return k;
}

const PredictedInterval& first_alltoall(const TimelinePrediction& t) {
  for (const auto& iv : t.intervals)
    if (iv.name.rfind("AlltoAll(EP", 0) == 0) return iv;
  qFatal("no AlltoAll interval");
}

const ScheduleSpec& hier(ScheduleKind base) {
  return *schedule_variant(base, 1, AlltoAllAlgorithm::Hierarchical);
}

}  // namespace

class TestTimeline2dh : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QVERIFY(!validate(layer()).has_errors());
    QVERIFY(hierarchical_alltoall_applies(layer().parallel));
  }

  void pricedOnTheSubGroupFits() {
    const Config c = layer();
    const DerivedSizes d = derive_sizes(c);
    const Calibration k = calibration(c, 0.5, 0.02, 0.1);
    for (ScheduleKind base : {ScheduleKind::B_DS, ScheduleKind::S1, ScheduleKind::S2}) {
      const PredictedInterval flat = first_alltoall(predict_timeline(c, d, k, base));
      const PredictedInterval h = first_alltoall(predict_timeline(c, d, k, hier(base).kind));
      QCOMPARE(h.name, std::string("AlltoAll(EP,2DH)"));
      QCOMPARE(h.bytes, flat.bytes);
      QCOMPARE(h.lane, flat.lane);
      const double n = static_cast<double>(h.bytes);
      const double copy = n * ms_per_byte(20e9);
      QCOMPARE(flat.end_ms - flat.start_ms, 0.5 + n * ms_per_byte(3e9) + copy);
      const double want = 0.02 + n * ms_per_byte(10e9) + 0.1 + n * ms_per_byte(3e9) + 4 * copy;
      QVERIFY2(std::abs((h.end_ms - h.start_ms) - want) < 1e-9 * want,
               qPrintable(
                   QString("%1: %2 vs %3").arg(hier(base).name.data()).arg(h.end_ms - h.start_ms).arg(want)));
    }
  }

  void missingFitRefusedByName() {
    const Config c = layer();
    const Calibration k = calibration(c, 0.5, 0.02, 0.1, false);
    try {
      predict_timeline(c, derive_sizes(c), k, hier(ScheduleKind::S1).kind);
      QFAIL("no error for a 2DH AlltoAll without the EP-intra fit");
    } catch (const std::runtime_error& e) {
      QVERIFY2(std::string(e.what()).find("'alltoall' fit on EP-intra") != std::string::npos, e.what());
    }
    recommend(c, k);  // the flat space needs no sub-group fit
  }

  void selectionFollowsTheMessageCounts() {
    const Config c = layer();
    SelectionSpace space;
    space.algorithms = {AlltoAllAlgorithm::Flat, AlltoAllAlgorithm::Hierarchical};
    // Latency-bound: the flat AlltoAll pays for 7 messages, 6 of them between nodes; 2DH for 3 + 1.
    const Recommendation wins = recommend(c, calibration(c, 3.0, 0.02, 0.4), space);
    QCOMPARE(spec_of(wins.chosen).alltoall, AlltoAllAlgorithm::Hierarchical);
    QVERIFY(wins.speedup_vs_parm(wins.chosen) > 1.05);
    const std::string why = recommendation_reason(wins);
    QVERIFY2(why.find("2DH pays") != std::string::npos, why.c_str());
    QVERIFY2(why.find("3 inter-node messages of 2 blocks (2DH) instead of 6") != std::string::npos,
             why.c_str());
    QCOMPARE(recommendation_layer_json(wins)["alltoall"].get<std::string>(), std::string("2dh"));
    // The sub-groups cost as much latency as the flat exchange: 2DH only adds an exchange and two passes.
    const Recommendation loses = recommend(c, calibration(c, 0.1, 0.1, 0.1), space);
    QCOMPARE(spec_of(loses.chosen).alltoall, AlltoAllAlgorithm::Flat);
    const std::string not_why = recommendation_reason(loses);
    QVERIFY2(not_why.find("2DH does not pay") != std::string::npos, not_why.c_str());
    QCOMPARE(recommendation_layer_json(loses)["alltoall"].get<std::string>(), std::string("flat"));
    // Each timeline of the space once: 7 flat schedules and 5 hierarchical ones.
    QCOMPARE(wins.timelines.size(), std::size_t(12));
  }

  void noOptionWhereItIsFlat() {
    Config c = layer();
    c.parallel = {16, 4, 4, 4};  // L = 1
    SelectionSpace space;
    space.algorithms = {AlltoAllAlgorithm::Flat, AlltoAllAlgorithm::Hierarchical};
    QVERIFY(space.widened());
    for (ScheduleKind k : space.candidates(c.parallel))
      QCOMPARE(spec_of(k).alltoall, AlltoAllAlgorithm::Flat);
    QCOMPARE(space.candidates(c.parallel).size(), std::size(kAllSchedules));
  }
};

QTEST_APPLESS_MAIN(TestTimeline2dh)
#include "test_engine_timeline_2dh.moc"
