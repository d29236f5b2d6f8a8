// The predicted timeline (engine/model/timeline_model.h) and calibration files (engine/model/calibration.h):
// forward communication equals the cost model's predict_forward_comm for every schedule, lanes never overlap,
// compute terms from the gemm fit, monotone in every beta, JSON round trip, and refusal of a mismatched
// layout.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "engine/core/config_json.h"
#include "engine/model/calibration.h"
#include "engine/model/cost_model.h"
#include "engine/model/timeline_model.h"
#include "engine/schedules/schedule_ir.h"
#include "resources/presets.h"
#include "tests/support/worked_cases.h"

using namespace parm;

namespace {

using worked_cases::tc1;
using worked_cases::tc4;

Calibration tc3_calibration(bool with_compute = true) {
  return worked_cases::tc3_calibration(tc1().parallel, with_compute);
}

std::vector<Config> configs() {
  Config whole = tc1();
  whole.parallel.esp = 1;
  return {tc1(), tc4(), whole};
}

}  // namespace

class TestTimelineModel : public QObject {
  Q_OBJECT
 private slots:
  void commParamsConvertsBusFactor() {
    const CommCostParams p = tc3_calibration().comm_params();
    QVERIFY(std::abs(p.allgather.beta_ms_per_byte - worked_cases::ms_per_byte(10e9)) < 1e-18);
    QVERIFY(std::abs(p.allreduce.beta_ms_per_byte - worked_cases::ms_per_byte(10e9)) < 1e-18);
    QCOMPARE(p.p2p_alpha_ms, 0.02);
  }

  void forwardCommMatchesCostModel() {
    for (const Config& base : configs()) {
      Calibration calib = tc3_calibration();
      calib.layout = base.parallel;
      for (double interference : {1.0, 1.3}) {
        calib.interference = interference;
        const DerivedSizes d = derive_sizes(base);
        for (ScheduleKind k : kAllSchedules) {
          const TimelinePrediction t = predict_timeline(base, d, calib, k);
          const double expected = predict_forward_comm(base, d, calib.comm_params(), k).forward_comm_ms;
          if (std::abs(t.forward_comm_ms - expected) > 1e-9 * std::max(1.0, expected))
            QFAIL(qPrintable(QString("%1 (P=%2, esp=%3): timeline %4 ms, cost model %5 ms")
                                 .arg(QString::fromStdString(std::string(to_string(k))))
                                 .arg(base.parallel.ranks)
                                 .arg(base.parallel.esp)
                                 .arg(t.forward_comm_ms, 0, 'g', 12)
                                 .arg(expected, 0, 'g', 12)));
        }
      }
    }
  }

  void tc3TimesReproduced() {
    const Config c = tc1();
    const TimelinePrediction t = predict_timeline(c, derive_sizes(c), tc3_calibration(), ScheduleKind::S2F);
    QCOMPARE(std::round(t.forward_comm_ms * 1000) / 1000, 5.799);
    const TimelinePrediction b = predict_timeline(c, derive_sizes(c), tc3_calibration(), ScheduleKind::B_DS);
    QCOMPARE(std::round(b.forward_comm_ms * 1000) / 1000, 16.894);
  }

  void lanesNeverOverlap() {
    for (const Config& base : configs()) {
      Calibration calib = tc3_calibration();
      calib.layout = base.parallel;
      calib.interference = 1.2;
      const DerivedSizes d = derive_sizes(base);
      for (ScheduleKind k : kAllSchedules) {
        const TimelinePrediction t = predict_timeline(base, d, calib, k);
        QVERIFY(!t.intervals.empty());
        for (std::size_t i = 0; i < t.intervals.size(); ++i) {
          const auto& a = t.intervals[i];
          QVERIFY(a.end_ms >= a.start_ms);
          QVERIFY(a.start_ms >= 0);
          QVERIFY(a.end_ms <= t.layer_ms + 1e-9);
          for (std::size_t j = i + 1; j < t.intervals.size(); ++j) {
            const auto& b = t.intervals[j];
            if (a.lane != b.lane) continue;
            const bool overlap = std::min(a.end_ms, b.end_ms) - std::max(a.start_ms, b.start_ms) > 1e-12;
            if (overlap)
              QFAIL(qPrintable(QString("%1: %2 and %3 overlap on lane %4")
                                   .arg(QString::fromStdString(std::string(to_string(k))))
                                   .arg(QString::fromStdString(a.name))
                                   .arg(QString::fromStdString(b.name))
                                   .arg(int(a.lane))));
          }
        }
        QVERIFY(std::abs(t.layer_ms - (t.forward_ms + t.backward_ms)) < 1e-12);
      }
    }
  }

  void backwardUsesGemmFit() {
    const Config c = tc1();
    const DerivedSizes d = derive_sizes(c);
    for (ScheduleKind k : kAllSchedules) {
      const TimelinePrediction with = predict_timeline(c, d, tc3_calibration(true), k);
      const TimelinePrediction without = predict_timeline(c, d, tc3_calibration(false), k);
      QVERIFY(with.backward_ms > 0);
      QVERIFY(with.forward_compute_ms > 0);
      QCOMPARE(without.forward_compute_ms, 0.0);
      QVERIFY(with.backward_ms > without.backward_ms);
      QVERIFY(!without.notes.empty());  // "no 'gemm' fit: gemm time 0"
      // Experts backward = 2 x forward.
      double fwd = 0, bwd = 0;
      for (const auto& iv : with.intervals) {
        if (iv.name == "experts") fwd += iv.end_ms - iv.start_ms;
        if (iv.name == "experts_bwd") bwd += iv.end_ms - iv.start_ms;
      }
      QVERIFY(fwd > 0);
      QVERIFY(std::abs(bwd - 2 * fwd) < 1e-9 * bwd);
    }
  }

  void expertsFitsOfTheOpArePreferred() {
    const Config c = tc1();
    const DerivedSizes d = derive_sizes(c);
    Calibration calib = tc3_calibration(true);
    auto add = [&](const char* op, double alpha, double beta) {
      CalibrationFit f;
      f.op = op;
      f.communicator = "local";
      f.fit.alpha = alpha;
      f.fit.beta = beta;
      calib.fits.push_back(f);
    };
    add("experts", 0.5, 3e-9);
    add("experts_bwd", 0.7, 7e-9);
    add("copy", 0.001, 1e-7);
    const double e_loc = double(d.local_experts), gemms = 2.0, M = double(c.layer.hidden);
    for (ScheduleKind k : kAllSchedules) {
      const TimelinePrediction t = predict_timeline(c, d, calib, k);
      for (const auto& iv : t.intervals) {
        if (iv.name != "experts" && iv.name != "experts_bwd") continue;
        // Invert the interval to the rows it priced: t = e_loc * (alpha + beta * rows*M*Hs*G).
        const bool bwd = iv.name == "experts_bwd";
        const double alpha = bwd ? 0.7 : 0.5, beta = bwd ? 7e-9 : 3e-9;
        const double rows =
            ((iv.end_ms - iv.start_ms) / e_loc - alpha) / (beta * M * double(d.h_shard) * gemms);
        QVERIFY2(rows > 0 && std::abs(rows - std::round(rows)) < 1e-6,
                 qPrintable(QString("%1 %2: %3 rows")
                                .arg(QString::fromStdString(std::string(to_string(k))))
                                .arg(QString::fromStdString(iv.name))
                                .arg(rows)));
      }
      // Local data movement is priced once there is a copy fit: Split ops take time.
      for (const auto& iv : t.intervals)
        if (iv.name.rfind("Split", 0) == 0) QVERIFY(iv.end_ms > iv.start_ms);
    }
  }

  // "sync" (EP) and "sync_mp" (MP/ESP) charge every collective of a group of 2+ beta times the compute since
  // the previous collective; "pipeline" adds its extra to every stage-step of a fused pipeline.
  void syncAndPipelineFitsAreChargedPerCollective() {
    const Config c = tc1();
    const DerivedSizes d = derive_sizes(c);
    const Calibration base = tc3_calibration(true);
    auto with = [&](const char* op, double alpha, double beta) {
      Calibration calib = base;
      CalibrationFit f;
      f.op = op;
      f.communicator = std::string(op) == "sync_mp" ? "MP" : "EP";
      f.fit.alpha = alpha;
      f.fit.beta = beta;
      calib.fits.push_back(f);
      return calib;
    };
    for (ScheduleKind k : kAllSchedules) {
      const TimelinePrediction plain = predict_timeline(c, d, base, k);
      QCOMPARE(plain.sync_ms, 0.0);
      // Count the collectives of groups of 2+ per group, from the schedule itself.
      const Schedule sched = build_schedule(k, c.parallel);
      int ep = 0, mp = 0;
      for (const auto* list : {&sched.forward, &sched.backward})
        for (const Op& op : *list) {
          const Group g = op.kind == OpKind::Pipeline ? op.stages.front().group : op.group;
          const std::int64_t n = g == Group::EP ? d.n_ep : (g == Group::ESP ? d.n_esp : d.N);
          if ((op.communicates() || op.kind == OpKind::Pipeline) && n > 1) (g == Group::EP ? ep : mp) += 1;
        }
      // The fixed part is stored, not charged; the drift part is charged before each collective of a group of
      // 2+.
      const TimelinePrediction a = predict_timeline(c, d, with("sync", 0.25, 0.0), k);
      QCOMPARE(a.layer_ms, plain.layer_ms);
      const TimelinePrediction only_ep = predict_timeline(c, d, with("sync", 0.0, 0.1), k);
      const TimelinePrediction only_mp = predict_timeline(c, d, with("sync_mp", 0.0, 0.1), k);
      QCOMPARE(only_ep.sync_ms > 0, ep > 0);
      QCOMPARE(only_mp.sync_ms > 0, mp > 0);
      QVERIFY(std::abs(only_ep.layer_ms - plain.layer_ms - only_ep.sync_ms) < 1e-9);
      // The drift term: bounded by beta times all the compute, and positive when there is an EP collective.
      const TimelinePrediction drift = predict_timeline(c, d, with("sync", 0.0, 0.1), k);
      QVERIFY(drift.sync_ms > 0);
      QVERIFY(drift.sync_ms <= 0.1 * plain.compute_ms + 1e-9);
      const TimelinePrediction piped = predict_timeline(c, d, with("pipeline", 0.5, 0.0), k);
      const bool fused = k == ScheduleKind::S1F || k == ScheduleKind::S2F;
      QCOMPARE(piped.layer_ms > plain.layer_ms, fused);
    }
  }

  // A "pipeline" fit with samples charges the measured curve at the step's bytes, not its line (the extra
  // jumps once a step overflows the transport's buffers, which no line follows).
  void pipelineExtraFollowsTheMeasuredSamples() {
    const Config c = tc1();
    const DerivedSizes d = derive_sizes(c);
    const Calibration base = tc3_calibration(true);
    for (ScheduleKind k : {ScheduleKind::S1F, ScheduleKind::S2F}) {
      const TimelinePrediction plain = predict_timeline(c, d, base, k);
      double step_bytes = 0;
      for (const auto& iv : plain.intervals)
        if (iv.name.size() > 9 && iv.name.substr(iv.name.size() - 9) == "/AlltoAll")
          step_bytes = double(iv.bytes);
      QVERIFY(step_bytes > 0);
      auto with = [&](double alpha, std::vector<FitSample> samples) {
        Calibration calib = base;
        calib.fits.push_back(CalibrationFit{"pipeline", "EP", 2, {}, std::move(samples), {}});
        calib.fits.back().fit.alpha = alpha;
        return predict_timeline(c, d, calib, k);
      };
      // Halfway between 0 and 0.4 ms; the line's alpha of 5 ms is not used when samples are there.
      const TimelinePrediction curve = with(5.0, {{0.5 * step_bytes, 0.0}, {1.5 * step_bytes, 0.4}});
      const TimelinePrediction line = with(0.2, {});
      QVERIFY(curve.layer_ms > plain.layer_ms);
      QVERIFY2(std::abs(curve.layer_ms - line.layer_ms) < 1e-9, std::string(to_string(k)).c_str());
      QVERIFY(std::abs(curve.interference_ms - line.interference_ms) < 1e-9);
    }
  }

  void monotoneInEveryBeta() {
    for (const Config& base : configs()) {
      Calibration calib = tc3_calibration();
      calib.layout = base.parallel;
      const DerivedSizes d = derive_sizes(base);
      for (std::size_t f = 0; f < calib.fits.size(); ++f) {
        Calibration more = calib;
        more.fits[f].fit.beta *= 1.5;
        for (ScheduleKind k : kAllSchedules) {
          const TimelinePrediction a = predict_timeline(base, d, calib, k);
          const TimelinePrediction b = predict_timeline(base, d, more, k);
          QVERIFY2(b.layer_ms >= a.layer_ms - 1e-12, more.fits[f].op.c_str());
          QVERIFY2(b.forward_comm_ms >= a.forward_comm_ms - 1e-12, more.fits[f].op.c_str());
        }
      }
    }
  }

  void selectByTimeKeepsTieRule() {
    using K = ScheduleKind;
    QCOMPARE(select_by_time({{K::S2F, 1.0}, {K::S1, 1.0}, {K::S2, 1.0}}), K::S1);
    QCOMPARE(select_by_time({{K::S2F, 0.9}, {K::S1, 1.0}}), K::S2F);
    QCOMPARE(select_by_time({{K::B_DS, 2.0}, {K::S2, 1.0 + 1e-9}, {K::S1F, 1.0}}), K::S2);
  }

  void calibrationJsonRoundTrip() {
    Calibration c = tc3_calibration();
    c.created_at = "2026-11-27T23:10:00Z";
    c.host = "node0";
    c.cluster = "emu";
    c.interference = 1.25;
    c.fits[0].samples = {{1024, 0.3}, {2048, 0.5}};
    const Calibration back = calibration_from_json(nlohmann::json::parse(to_json(c).dump()));
    QCOMPARE(to_json(back), to_json(c));
    QCOMPARE(back.fits.size(), c.fits.size());
    QCOMPARE(back.layout.ranks, std::int64_t{32});

    QTemporaryDir dir;
    const std::string path = dir.filePath("calib.json").toStdString();
    save_calibration_file(c, path);
    QCOMPARE(to_json(load_calibration_file(path)), to_json(c));
  }

  void badFieldsAreNamed() {
    nlohmann::json j = to_json(tc3_calibration());
    j["fits"][2].erase("beta");
    try {
      calibration_from_json(j);
      QFAIL("accepted a fit without beta");
    } catch (const std::runtime_error& e) {
      QVERIFY2(std::string(e.what()).find("fits[2].beta") != std::string::npos, e.what());
    }
    nlohmann::json k = to_json(tc3_calibration());
    k["layout"]["mp"] = "four";
    try {
      calibration_from_json(k);
      QFAIL("accepted a string mp");
    } catch (const std::runtime_error& e) {
      QVERIFY2(std::string(e.what()).find("layout.mp") != std::string::npos, e.what());
    }
  }

  void missingFitIsNamed() {
    Calibration c = tc3_calibration();
    c.fits.erase(c.fits.begin() + 2);  // allgather
    try {
      (void)c.comm_params();
      QFAIL("comm_params without an allgather fit");
    } catch (const std::runtime_error& e) {
      QVERIFY2(std::string(e.what()).find("allgather") != std::string::npos, e.what());
    }
  }

  void mismatchNamesTheField() {
    const Calibration c = tc3_calibration();
    QVERIFY(!calibration_mismatch(c, tc1()).has_value());
    Config other = tc1();
    other.parallel.mp = 2;
    other.parallel.esp = 2;
    const auto why = calibration_mismatch(c, other);
    QVERIFY(why.has_value());
    QVERIFY2(why->find("mp") != std::string::npos, why->c_str());
    Config nodes = tc1();
    nodes.parallel.ranks = 16;
    const auto why2 = calibration_mismatch(c, nodes);
    QVERIFY(why2.has_value());
    QVERIFY2(why2->find("nodes") != std::string::npos, why2->c_str());
  }

  void tinyAndHugeSizesStayFinite() {
    Config c = tc1();
    for (std::int64_t batch : {std::int64_t{1}, std::int64_t{4096}}) {
      c.layer.batch = batch;
      c.layer.seq_len = batch == 1 ? 8 : 4096;
      c.layer.min_capacity = 1;
      const DerivedSizes d = derive_sizes(c);
      for (ScheduleKind k : kAllSchedules) {
        const TimelinePrediction t = predict_timeline(c, d, tc3_calibration(), k);
        QVERIFY(std::isfinite(t.layer_ms));
        QVERIFY(t.layer_ms > 0);
        for (const auto& iv : t.intervals) QVERIFY(iv.end_ms >= iv.start_ms);
      }
    }
  }
};

QTEST_GUILESS_MAIN(TestTimelineModel)
#include "test_engine_timeline_model.moc"
