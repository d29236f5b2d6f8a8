// Derived sizes and collective volumes against the worked cases of spec parm.md section 7 (TC-1, TC-2, TC-5).
#include <QtTest>

#include "engine/core/config_json.h"
#include "engine/core/rank_memory.h"
#include "engine/core/sizes.h"
#include "engine/schedules/volumes.h"
#include "resources/presets.h"
#include "tests/support/worked_cases.h"

using namespace parm;

namespace {

using worked_cases::preset;

std::vector<CollectiveVolume> forward(const Config& c, ScheduleKind s) {
  std::vector<CollectiveVolume> out;
  for (const auto& v : schedule_volumes(c, derive_sizes(c), s))
    if (v.pass == Pass::Forward) out.push_back(v);
  return out;
}

std::int64_t bytes_of(const Config& c, ScheduleKind s, Collective coll, const std::string& purpose) {
  for (const auto& v : forward(c, s))
    if (v.collective == coll && v.purpose == purpose) return v.bytes;
  return -1;
}

}  // namespace

class TestSizes : public QObject {
  Q_OBJECT
 private slots:
  void tc1Sizes() {
    const DerivedSizes d = derive_sizes(preset("tc1"));
    QCOMPARE(d.S, std::int64_t(4096));
    QCOMPARE(d.n_ep, std::int64_t(8));
    QCOMPARE(d.C0, std::int64_t(1229));
    QCOMPARE(d.D0, std::int64_t(10'067'968));
    QCOMPARE(d.C1, std::int64_t(308));
    QCOMPARE(d.D1, std::int64_t(2'523'136));
    QCOMPARE(d.C2, std::int64_t(1232));
    QCOMPARE(d.D2, std::int64_t(10'092'544));
    QCOMPARE(d.D2 / d.N, std::int64_t(2'523'136));
    QCOMPARE(d.bytes_per_element, 2);
  }

  void tc2Bytes() {
    const Config c = preset("tc1");
    QCOMPARE(bytes_of(c, ScheduleKind::B_DS, Collective::AlltoAll, "dispatch"), std::int64_t(20'135'936));
    QCOMPARE(bytes_of(c, ScheduleKind::B_DS, Collective::AlltoAll, "combine"), std::int64_t(20'135'936));
    QCOMPARE(bytes_of(c, ScheduleKind::B0, Collective::AllGather, "expert input"), std::int64_t(80'543'744));
    QCOMPARE(bytes_of(c, ScheduleKind::S1, Collective::AlltoAll, "dispatch"), std::int64_t(5'046'272));
    QCOMPARE(bytes_of(c, ScheduleKind::S1, Collective::AllGather, "expert input"), std::int64_t(20'185'088));
    QCOMPARE(bytes_of(c, ScheduleKind::S1, Collective::AllGather, "tokens"), std::int64_t(8'388'608));
    QCOMPARE(bytes_of(c, ScheduleKind::S2, Collective::AlltoAll, "dispatch"), std::int64_t(5'046'272));
    QCOMPARE(bytes_of(c, ScheduleKind::S2, Collective::AllGather, "dispatch"), std::int64_t(20'185'088));
  }

  // Fused variants move the same bytes as their unfused schedule, only grouped into pipelines.
  void fusedMovesSameBytes_data() {
    QTest::addColumn<int>("plain");
    QTest::addColumn<int>("fused");
    QTest::addColumn<int>("steps");  // collectives inside pipelines: S1F SAA + RSA, S2F SAA + RS>A2A>AG
    QTest::newRow("S1/S1F") << int(ScheduleKind::S1) << int(ScheduleKind::S1F) << 4;
    QTest::newRow("S2/S2F") << int(ScheduleKind::S2) << int(ScheduleKind::S2F) << 5;
  }
  void fusedMovesSameBytes() {
    QFETCH(int, plain);
    QFETCH(int, fused);
    QFETCH(int, steps);
    const Config c = preset("tc1");
    const auto a = schedule_volumes(c, derive_sizes(c), ScheduleKind(plain));
    const auto b = schedule_volumes(c, derive_sizes(c), ScheduleKind(fused));
    QCOMPARE(a.size(), b.size());
    int fused_steps = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      QCOMPARE(a[i].bytes, b[i].bytes);
      QCOMPARE(a[i].collective, b[i].collective);
      QVERIFY(a[i].fused.empty());
      fused_steps += b[i].fused.empty() ? 0 : 1;
    }
    QCOMPARE(fused_steps, steps);
  }

  // Wire bytes apply the nccl-tests bus factors: AlltoAll (W-1)/W, AllReduce 2(N-1)/N.
  void wireBytesUseBusFactors() {
    const Config c = preset("tc1");
    const auto v = forward(c, ScheduleKind::B_DS);
    QCOMPARE(v[0].collective, Collective::AlltoAll);
    QCOMPARE(v[0].wire_bytes, 20'135'936.0 * 7.0 / 8.0);
    QCOMPARE(v[1].collective, Collective::AllReduce);
    QCOMPARE(v[1].wire_bytes, 20'135'936.0 * 2.0 * 3.0 / 4.0);
  }

  void s1AddsRouterGradAllReduce() {
    const Config c = preset("tc1");
    const auto all = schedule_volumes(c, derive_sizes(c), ScheduleKind::S1);
    QCOMPARE(all.back().pass, Pass::Backward);
    QCOMPARE(all.back().collective, Collective::AllReduce);
    QCOMPARE(all.back().elements, c.layer.hidden * c.layer.num_experts);
  }

  // TC-5: B=1, L=128, M=512, E=8, k=1, f=1.0, min_capacity=1, N=4, N_EP=8 -> C1=4, C2=16.
  void tc5Capacities() {
    const Config c = worked_cases::tc5();
    const DerivedSizes d = derive_sizes(c);
    QCOMPARE(d.C0, std::int64_t(16));
    QCOMPARE(d.C1, std::int64_t(4));
    QCOMPARE(d.C2, std::int64_t(16));
  }

  // N_ESP = 1: no ESP collectives; B_DS sends D2/N per rank and ends with an MP-AllGather of D2.
  void wholeExpertsDropEspCollectives() {
    Config c = preset("tc1");
    c.parallel.esp = 1;
    const DerivedSizes d = derive_sizes(c);
    for (ScheduleKind s : kAllSchedules)
      for (const auto& v : schedule_volumes(c, d, s)) QVERIFY(v.group != CommGroup::ESP);
    const auto b = forward(c, ScheduleKind::B_DS);
    QCOMPARE(b.size(), std::size_t(3));
    QCOMPARE(b[0].elements, d.D2 / d.N);
    QCOMPARE(b[2].collective, Collective::AllGather);
    QCOMPARE(b[2].elements, d.D2);
    const auto b0 = forward(c, ScheduleKind::B0);
    QCOMPARE(b0[0].elements, d.D0);  // every MP rank sends all of D0: N-fold redundant
  }
  // One rank's buffers, worked by hand for a one-rank B0 layer: S = 16, C0 = 4, D0 = E*C0*M = 128.
  void rankMemoryByHand() {
    Config c;
    c.layer = {1,     16,         8, 16, 4, 1, 1.0, 0, CapacityRounding::Exact, true, Activation::Gelu,
               false, DType::Fp32};
    c.parallel = {1, 1, 1, 1};
    c.run.schedules = {ScheduleKind::B0};
    const auto m = estimate_rank_memory(c, derive_sizes(c));
    QVERIFY(m);
    QCOMPARE(m->activations, std::int64_t((4 * 16 * 8 + 2 * 16 * 4) * 4));  // x, dout, out, dx; probs x2
    QCOMPARE(m->dispatched, std::int64_t(3 * 128 * 4));
    QCOMPARE(m->expert_hidden, std::int64_t(2 * (128 / 8) * 16 * 4));  // (rows, H) twice, gelu
    QCOMPARE(m->weights, std::int64_t((8 * 4 + 2 * 4 * 8 * 16) * 4));  // router + W1, W2
    QCOMPARE(m->gradients, m->weights);
    QCOMPARE(m->pipeline, std::int64_t(0));
    QCOMPARE(m->total, std::int64_t(14592));
    // A fused schedule stages its pipeline on top; the peak is the most demanding schedule.
    c.run.schedules = {ScheduleKind::B0, ScheduleKind::S1F};
    const auto fused = estimate_rank_memory(c, derive_sizes(c));
    QVERIFY(fused && fused->total >= m->total);
  }

  // Every product is checked: an overflow is reported with the field that drives it, never wrapped.
  void checkedSizesReportOverflow() {
    Config c = preset("tc1");
    QVERIFY(derive_sizes_checked(c).sizes);
    c.layer.min_capacity = std::int64_t(1) << 53;
    CheckedSizes checked = derive_sizes_checked(c);
    QVERIFY(!checked.sizes && checked.overflow);
    QCOMPARE(QString::fromStdString(checked.overflow->field), QString("layer.min_capacity"));
    QVERIFY_THROWS_EXCEPTION(std::logic_error, derive_sizes(c));
    c = preset("tc1");
    c.layer.batch = std::int64_t(1) << 57;  // S = 2^57 * 2048 wraps to 0 unchecked
    checked = derive_sizes_checked(c);
    QVERIFY(checked.overflow);
    QCOMPARE(QString::fromStdString(checked.overflow->field), QString("layer.batch"));
    c = preset("tc1");
    c.layer.drop_tokens = false;  // a no-drop capacity reaches S: E*S*M must fit as well
    c.layer.hidden = std::int64_t(1) << 45;
    c.layer.num_experts = 64;
    checked = derive_sizes_checked(c);
    QVERIFY(checked.overflow);
    QCOMPARE(QString::fromStdString(checked.overflow->field), QString("layer.hidden"));
  }
};

QTEST_APPLESS_MAIN(TestSizes)
#include "test_engine_sizes.moc"
