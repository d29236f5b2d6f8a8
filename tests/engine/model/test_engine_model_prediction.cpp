// The predicted training step of a whole model (issue 18, item 5): its parts add up to the iteration; the
// schedules differ exactly by their MoE layers' timelines; each calibrated family moves exactly the part it
// prices; one data-parallel replica has no sync and N_MP = 1 no tensor-parallel AllReduce; a slow gradient
// AllReduce is exposed after the backward; a calibration without the model's fits is refused naming the fit.
#include <QtTest>
#include <cmath>

#include "engine/core/sizes.h"
#include "engine/model/model_prediction.h"
#include "engine/model/timeline_model.h"
#include "tests/support/worked_cases.h"

using namespace parm;
using worked_cases::exact_fit;
using worked_cases::preset;

namespace {

// TC-3's communication and compute constants, plus the model's fits.
Calibration model_calibration(const Config& c, double dp_ms_per_byte = 1e-9) {
  Calibration cal = worked_cases::tc3_calibration(c.parallel, true);
  cal.dtype = c.layer.dtype;
  const int ep = static_cast<int>(c.parallel.mp_groups());
  for (const char* op : {"experts", "experts_bwd"}) cal.fits.push_back(exact_fit(op, "local", 1, 0.01, 1e-9));
  for (const char* op : {"attention", "attention_bwd"})
    cal.fits.push_back(exact_fit(op, "local", 1, 0.02, 1e-8));
  for (const char* op : {"layernorm", "layernorm_bwd", "elementwise", "elementwise_bwd"})
    cal.fits.push_back(exact_fit(op, "local", 1, 0.001, 1e-8));
  cal.fits.push_back(exact_fit("allreduce", "EP", ep, 0.05, dp_ms_per_byte));
  return cal;
}

CalibrationFit& fit_of(Calibration& cal, const std::string& op) {
  for (CalibrationFit& f : cal.fits)
    if (f.op == op) return f;
  throw std::logic_error("no fit " + op);
}

bool close(double a, double b) {
  return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b));
}

}  // namespace

class TestModelPrediction : public QObject {
  Q_OBJECT

 private slots:
  void partsAddUpToTheIteration() {
    for (const char* name : {"gpt2-moe-small", "bert-moe-small"}) {
      const Config c = preset(name);
      const Calibration cal = model_calibration(c);
      for (ScheduleKind kind : all_schedules()) {
        const ModelPrediction p = predict_model(c, cal, kind);
        QVERIFY2(close(p.iteration_ms, p.forward_ms + p.backward_ms + p.exposed_sync_ms), name);
        QVERIFY2(p.exposed_sync_ms <= p.sync_ms + 1e-12 && p.sync_ms > 0, name);
        const TimelinePrediction layer = predict_timeline(c, derive_sizes(c), cal, kind);
        QVERIFY2(close(p.moe_ms, double(c.model->moe_blocks()) * layer.layer_ms), name);
        QVERIFY2(p.attention_ms > 0 && p.head_ms > 0 && p.tensor_parallel_ms > 0, name);
        QCOMPARE(p.dense_ffn_ms > 0, c.model->moe_blocks() < c.model->layers);
      }
    }
  }

  // The blocks around the MoE layers cost the same under every schedule: iterations differ by the layers'
  // timelines (the sync stays after the backward, one bucket at its end).
  void schedulesDifferByTheirMoeLayers() {
    const Config c = preset("gpt2-moe-small");
    const Calibration cal = model_calibration(c);
    const ModelPrediction base = predict_model(c, cal, ScheduleKind::B_DS);
    const double base_layer = predict_timeline(c, derive_sizes(c), cal, ScheduleKind::B_DS).layer_ms;
    for (ScheduleKind kind : all_schedules()) {
      const ModelPrediction p = predict_model(c, cal, kind);
      const double layer = predict_timeline(c, derive_sizes(c), cal, kind).layer_ms;
      QVERIFY(
          close(p.iteration_ms - base.iteration_ms, double(c.model->moe_blocks()) * (layer - base_layer)));
    }
  }

  // One more millisecond per attention call adds one per block to the forward and nothing to the backward.
  void eachFitMovesItsPart() {
    const Config c = preset("gpt2-moe-small");
    Calibration cal = model_calibration(c);
    const ModelPrediction before = predict_model(c, cal, ScheduleKind::S1);
    fit_of(cal, "attention").fit.alpha += 1.0;
    const ModelPrediction after = predict_model(c, cal, ScheduleKind::S1);
    const double layers = double(c.model->layers);
    QVERIFY(close(after.forward_ms - before.forward_ms, layers));
    QVERIFY(close(after.backward_ms, before.backward_ms));
    QVERIFY(close(after.attention_ms - before.attention_ms, layers));
    fit_of(cal, "layernorm_bwd").fit.alpha += 1.0;  // LN1, LN2 per block and the final LayerNorm
    const ModelPrediction ln = predict_model(c, cal, ScheduleKind::S1);
    QVERIFY(close(ln.backward_ms - after.backward_ms, 2 * layers + 1));
  }

  void oneReplicaHasNoSyncAndOneMpRankNoTensorParallelism() {
    Config c = preset("gpt2-moe-small");
    c.parallel = {2, 2, 2, 2};  // one MP group: N_EP = 1
    const ModelPrediction one = predict_model(c, model_calibration(c), ScheduleKind::B_DS);
    QCOMPARE(one.sync_ms, 0.0);
    QCOMPARE(one.exposed_sync_ms, 0.0);
    Config d = preset("gpt2-moe-small");
    d.parallel = {2, 1, 1, 1};  // N_MP = 1 over two nodes
    const ModelPrediction no_tp = predict_model(d, model_calibration(d), ScheduleKind::B_DS);
    QCOMPARE(no_tp.tensor_parallel_ms, 0.0);
    QVERIFY(no_tp.sync_ms > 0);
  }

  // A gradient AllReduce slower than the backward is exposed after it.
  void slowSyncIsExposed() {
    const Config c = preset("gpt2-moe-small");
    const ModelPrediction fast = predict_model(c, model_calibration(c, 1e-9), ScheduleKind::S2);
    const ModelPrediction slow = predict_model(c, model_calibration(c, 1e-4), ScheduleKind::S2);
    QVERIFY(slow.sync_ms > slow.backward_ms);
    QVERIFY(slow.exposed_sync_ms > fast.exposed_sync_ms + 0.5 * (slow.sync_ms - fast.sync_ms));
    QVERIFY(close(slow.forward_ms, fast.forward_ms));
  }

  // The predicted step on the lanes, named as a model run traces it, ends with the iteration.
  void intervalsAreTheStep() {
    const Config c = preset("gpt2-moe-small");
    const ModelPrediction p = predict_model(c, model_calibration(c, 1e-6), ScheduleKind::S1);
    double end = 0;
    bool attention = false, moe = false, bucket = false, tp = false;
    for (const PredictedInterval& v : p.intervals) {
      QVERIFY(v.end_ms >= v.start_ms);
      end = std::max(end, v.end_ms);
      if (v.phase == 0) QVERIFY(v.end_ms <= p.forward_ms + 1e-9);
      if (v.phase == 1) QVERIFY(v.start_ms >= p.forward_ms - 1e-9);
      attention |= v.name == "Attention" && v.purpose == "block0" && v.lane == Lane::Compute;
      moe |= v.purpose.rfind("block1 ", 0) == 0 && v.group == "EP";
      bucket |= v.group == "DP" && v.purpose == "gradient bucket 0" && v.lane == Lane::Inter;
      tp |= v.group == "TP" && v.purpose == "block2 ffn" && v.lane == Lane::Intra;
    }
    QVERIFY(close(end, p.iteration_ms));
    QVERIFY(attention && moe && bucket && tp);
  }

  void missingFitsAreNamed() {
    const Config c = preset("gpt2-moe-small");
    for (const char* op : {"attention", "layernorm", "experts_bwd"}) {
      Calibration cal = model_calibration(c);
      std::erase_if(cal.fits, [&](const CalibrationFit& f) { return f.op == op; });
      try {
        predict_model(c, cal, ScheduleKind::B_DS);
        QFAIL(op);
      } catch (const std::runtime_error& e) {
        QVERIFY2(std::string(e.what()).find(std::string("'") + op + "'") != std::string::npos, e.what());
      }
    }
    Calibration cal = model_calibration(c);
    std::erase_if(cal.fits,
                  [](const CalibrationFit& f) { return f.op == "allreduce" && f.communicator == "EP"; });
    try {
      predict_model(c, cal, ScheduleKind::B_DS);
      QFAIL("no EP allreduce");
    } catch (const std::runtime_error& e) {
      QVERIFY2(std::string(e.what()).find("on EP") != std::string::npos, e.what());
    }
  }
};

QTEST_APPLESS_MAIN(TestModelPrediction)
#include "test_engine_model_prediction.moc"
