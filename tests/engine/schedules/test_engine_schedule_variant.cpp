// A schedule added outside the engine (fixture_schedule_b_ds_copy.cpp: a copy of B_DS under the name
// B_DS_COPY, one register_schedule line) is a schedule like the built-ins: parsed from a config and written
// back, built, priced by the cost model and the timeline model exactly as B_DS is, and selected and named by
// the recommendation, with no other file knowing about it.
#include <QtTest>

#include "engine/core/config_json.h"
#include "engine/model/cost_model.h"
#include "engine/model/recommendation.h"
#include "engine/model/timeline_model.h"
#include "engine/schedules/schedule_registry.h"
#include "resources/presets.h"
#include "tests/support/worked_cases.h"

using namespace parm;

namespace {

constexpr double kMsPerByte(double bytes_per_s) {
  return 1e3 / bytes_per_s;
}

Config tc1() {
  return *config_from_json_text(*resources::embedded_preset("tc1")).config;
}

ScheduleKind copy_kind() {
  const ScheduleSpec* s = find_schedule("B_DS_COPY");
  if (!s) qFatal("the fixture schedule is not registered");
  return s->kind;
}

QString names(const std::vector<Op>& ops) {
  QStringList out;
  for (const auto& op : ops) out << QString::fromStdString(op.name());
  return out.join(' ');
}

// TC-3's constants, except that AllGather and ReduceScatter cost 1000x more: B_DS (and its copy), whose only
// intra-node collective is an AllReduce, are then the fastest schedules.
Calibration gathers_expensive(const Config& c) {
  Calibration cal;
  cal.id = "calib-expensive-gathers";
  cal.layout = c.parallel;
  cal.dtype = c.layer.dtype;
  auto fit = [&](const char* op, const char* comm, int n, double alpha, double beta) {
    cal.fits.push_back(worked_cases::exact_fit(op, comm, n, alpha, beta));
  };
  const double share = 3.0 / 4.0;
  fit("alltoall", "EP", 8, 0.2, kMsPerByte(3e9));
  fit("p2p", "EP", 8, 0.02, kMsPerByte(3e9));
  fit("allgather", "MP", 4, 30, kMsPerByte(10e6) * share);
  fit("reducescatter", "MP", 4, 30, kMsPerByte(10e6) * share);
  fit("allreduce", "MP", 4, 0.05, kMsPerByte(10e9) * 2 * share);
  fit("gemm", "local", 1, 0.01, 1e-9);
  return cal;
}

}  // namespace

class TestScheduleVariant : public QObject {
  Q_OBJECT
 private slots:
  void registeredAfterTheBuiltIns() {
    const ScheduleKind k = copy_kind();
    // After the built-ins, their pipelined variants (15 pairs of forward and backward degrees each) and the
    // hierarchical variants of the 5 unfused ones (16 pairs each), and last in all_schedules().
    QCOMPARE(k.index(), int(16 * std::size(kAllSchedules) + 5 * 16));
    QCOMPARE(every_schedule().back(), k);
    QCOMPARE(all_schedules().size(), std::size(kAllSchedules) + 1);
    QCOMPARE(all_schedules().back(), k);
    QVERIFY(pipelined_variant(k, 2) == nullptr);  // the registry pipelines only its own built-ins
    QCOMPARE(std::string(to_string(k)), std::string("B_DS_COPY"));
    QVERIFY(schedule_names().ends_with(", S2F, B_DS_COPY"));
  }

  void configNamesIt() {
    const ConfigLoad load = config_from_json_text(R"({"run": {"schedules": ["B_DS_COPY", "S1"]}})");
    QVERIFY(load.ok());
    QCOMPARE(load.config->run.schedules, (std::vector<ScheduleKind>{copy_kind(), ScheduleKind::S1}));
    QCOMPARE(config_to_json(*load.config)["run"]["schedules"].get<std::vector<std::string>>(),
             (std::vector<std::string>{"B_DS_COPY", "S1"}));
    QCOMPARE(Config().run.schedules.back(), copy_kind());  // the default runs every registered schedule
    const ConfigLoad bad = config_from_json_text(R"({"run": {"schedules": ["B_DS_CPY"]}})");
    QVERIFY(!bad.ok());
  }

  void builtLikeBds() {
    for (const ParallelConfig& p : {ParallelConfig{8, 4, 4, 4}, ParallelConfig{8, 4, 2, 1}}) {
      const Schedule copy = build_schedule(copy_kind(), p);
      const Schedule bds = build_schedule(ScheduleKind::B_DS, p);
      QCOMPARE(copy.kind, copy_kind());
      QCOMPARE(names(copy.forward), names(bds.forward));
      QCOMPARE(names(copy.backward), names(bds.backward));
      QCOMPARE(copy.capacity, bds.capacity);
      QCOMPARE(copy.fused, bds.fused);
    }
  }

  // TC-3: the cost model prices the copy at B_DS's 16.894 ms; the timeline model gives both the same layer.
  void pricedLikeBds() {
    const Config c = tc1();
    const DerivedSizes d = derive_sizes(c);
    const Calibration cal = gathers_expensive(c);
    const auto copy = predict_forward_comm(c, d, cal.comm_params(), copy_kind());
    const auto bds = predict_forward_comm(c, d, cal.comm_params(), ScheduleKind::B_DS);
    QCOMPARE(copy.kind, copy_kind());
    QCOMPARE(copy.forward_comm_ms, bds.forward_comm_ms);
    QCOMPARE(std::round(copy.forward_comm_ms * 1000) / 1000, 16.894);
    const auto t_copy = predict_timeline(c, d, cal, copy_kind());
    const auto t_bds = predict_timeline(c, d, cal, ScheduleKind::B_DS);
    QCOMPARE(t_copy.layer_ms, t_bds.layer_ms);
    QCOMPARE(t_copy.intervals.size(), t_bds.intervals.size());
    QVERIFY(t_copy.layer_ms > 0);
  }

  // B_DS and its copy are the fastest with expensive gathers and tie; the copy's tie rank (-1) wins the tie,
  // so the recommendation chooses it and words the reason from its spec.
  void selectedAndNamedByTheRecommendation() {
    const Config c = tc1();
    const Calibration cal = gathers_expensive(c);
    std::vector<SchedulePrediction> preds;
    for (ScheduleKind k : all_schedules())
      preds.push_back(predict_forward_comm(c, derive_sizes(c), cal.comm_params(), k));
    QCOMPARE(select_schedule(preds), copy_kind());

    const Recommendation r = recommend(c, cal);
    QCOMPARE(r.timelines.size(), all_schedules().size());
    QCOMPARE(r.chosen, copy_kind());
    QCOMPARE(r.speedup(r.chosen), 1.0);
    const nlohmann::json j = recommendation_layer_json(r);
    QCOMPARE(j["chosen"].get<std::string>(), std::string("B_DS_COPY"));
    QVERIFY(j["predicted_ms"].contains("B_DS_COPY"));
    QCOMPARE(j["predicted_ms"]["B_DS_COPY"].get<double>(), j["predicted_ms"]["B_DS"].get<double>());
    const std::string reason = j["reason"];
    QVERIFY2(reason.starts_with("B_DS_COPY: a copy of B_DS registered by a test fixture"), reason.c_str());
    QVERIFY2(reason.find("runner-up B_DS ") != std::string::npos, reason.c_str());
  }
};

QTEST_APPLESS_MAIN(TestScheduleVariant)
#include "test_engine_schedule_variant.moc"
