// bf16/fp16 through the engine without a device: the element-type mapping, the verification tolerance
// table, the cpu backend's one-line refusal, and every schedule enqueued as LayerExecutor<Bf16>/<F16> on an
// enqueue-only backend, whose byte counters must equal the spec's volume formulas at b = 2 bytes and half
// of the fp32 run's.
#include <QtTest>
#include <algorithm>
#include <stdexcept>
#include <string>

#include "engine/backend/element_type.h"
#include "engine/core/sizes.h"
#include "engine/run/executor.h"
#include "engine/run/executor_support.h"
#include "engine/run/tensor_init.h"
#include "engine/run/verify.h"
#include "engine/run/worker.h"
#include "engine/schedules/volumes.h"
#include "tests/engine/run/enqueue_only_backend.h"

using namespace parm;

namespace {

Config tiny_config(int ranks, int mp, int esp, DType dtype) {
  Config c;
  c.name = "tiny";
  c.layer.batch = 2;
  c.layer.seq_len = 8;  // S = 16: divisible by every N_MP used here
  c.layer.hidden = 8;
  c.layer.ffn_hidden = 16;
  c.layer.num_experts = 8;
  c.layer.top_k = 2;
  c.layer.min_capacity = 1;
  c.layer.dtype = dtype;
  c.parallel = {ranks, std::min(ranks, 4), mp, esp};
  c.run.seed = 99;
  return c;
}

QString describe(const CommCounter& k) {
  return QString("%1 %2 %3 %4 %5 %6 x%7")
      .arg(k.pass.c_str(), k.op.c_str(), k.group.c_str(), k.purpose.c_str(), k.fused.c_str())
      .arg(k.bytes)
      .arg(k.calls);
}

// One measured forward + backward of `kind` as rank `rank` of the layout, on the enqueue-only backend.
template <typename T>
std::vector<CommCounter> enqueue_counters(const Config& c, int rank, ScheduleKind kind,
                                          comm::DataType* last_type = nullptr) {
  const RankLayout layout = make_rank_layout(c, rank);
  test::EnqueueOnlyBackend backend(layout);
  comm::CommGroups transport;  // unused: drop_tokens means no capacity agreement over the world
  LayerExecutor<T> exec(backend, c, layout, transport, build_schedule(kind, c.parallel));
  const std::int64_t sm = c.layer.tokens() * c.layer.hidden;
  std::vector<T> x(static_cast<std::size_t>(sm)), dout(x.size());
  fill(x.data(), sm, c.run.seed, TensorId::Input, 0, 1.0);
  fill(dout.data(), sm, c.run.seed, TensorId::OutputGrad, 0, 1.0);
  exec.forward(x);
  exec.backward(dout);
  if (last_type) *last_type = backend.last_type();
  return exec.counters();
}

}  // namespace

class TestRunSixteenBit : public QObject {
  Q_OBJECT

 private slots:
  void elementTypesMapToTheirCommTypes() {
    static_assert(backend::comm_data_type<float>() == comm::DataType::F32);
    static_assert(backend::comm_data_type<double>() == comm::DataType::F64);
    static_assert(backend::comm_data_type<Bf16>() == comm::DataType::BF16);
    static_assert(backend::comm_data_type<F16>() == comm::DataType::F16);
    static_assert(backend::dtype_of<Bf16>() == DType::Bf16 && backend::dtype_of<F16>() == DType::Fp16);
    QCOMPARE(detail::data_type<Bf16>(), comm::DataType::BF16);
    QCOMPARE(detail::data_type<F16>(), comm::DataType::F16);
    QCOMPARE(detail::data_type<float>(), comm::DataType::F32);
    QCOMPARE(detail::data_type<double>(), comm::DataType::F64);
    QCOMPARE(comm::size_of(detail::data_type<Bf16>()), sizeof(Bf16));
    // A generated value is stored through fp32: 1/3 in double, rounded to float, then to bf16 / fp16.
    const double third = 1.0 / 3.0;
    QCOMPARE(backend::from_double<Bf16>(third).bits, Bf16(static_cast<float>(third)).bits);
    QCOMPARE(backend::from_double<Bf16>(third).bits, std::uint16_t(0x3eab));
    QCOMPARE(backend::from_double<F16>(third).bits, std::uint16_t(0x3555));
    QCOMPARE(backend::from_double<float>(third), static_cast<float>(third));
  }

  void toleranceTable() {
    QCOMPARE(verify_tolerance(DType::Fp32), 1e-5);
    QCOMPARE(verify_tolerance(DType::Fp64), 1e-12);
    QCOMPARE(verify_tolerance(DType::Bf16), 2e-2);
    QCOMPARE(verify_tolerance(DType::Fp16), 1e-2);
  }

  // The executor on the cpu backend (config.run.backend) refuses a 16-bit dtype with one line naming it.
  void cpuBackendRefusesSixteenBitInOneLine() {
    for (DType dtype : {DType::Bf16, DType::Fp16}) {
      const Config c = tiny_config(1, 1, 1, dtype);
      const RankLayout layout = make_rank_layout(c, 0);
      comm::CommGroups none;
      const std::string name(to_string(dtype));
      QString what;
      try {
        if (dtype == DType::Bf16)
          LayerExecutor<Bf16>(c, layout, none, build_schedule(ScheduleKind::B_DS, c.parallel));
        else
          LayerExecutor<F16>(c, layout, none, build_schedule(ScheduleKind::B_DS, c.parallel));
      } catch (const std::runtime_error& e) {
        what = e.what();
      }
      QVERIFY2(
          what.startsWith(QString::fromStdString("layer.dtype = " + name + ": the cpu backend computes")),
          qPrintable(what));
      QVERIFY2(what.contains("cuda") && !what.contains('\n'), qPrintable(what));

      // The worker's dtype switch reaches the same refusal (before any collective).
      QString worker_what;
      try {
        run_worker_rank(c, WorkerOptions{}, layout, none);
      } catch (const std::runtime_error& e) {
        worker_what = e.what();
      }
      QCOMPARE(worker_what, what);
    }
  }

  void countersAtTwoBytesPerElement_data() {
    QTest::addColumn<int>("mp");
    QTest::addColumn<int>("esp");
    QTest::addColumn<int>("rank");
    QTest::newRow("mp2 esp2 rank0") << 2 << 2 << 0;
    QTest::newRow("mp2 esp1 rank5") << 2 << 1 << 5;
    QTest::newRow("mp4 esp4 rank6") << 4 << 4 << 6;
    QTest::newRow("mp1 esp1 rank3") << 1 << 1 << 3;
  }

  // The counters of every schedule's enqueue (8 ranks, one of them simulated): bf16 and fp16 count the
  // spec's volumes at b = 2, exactly half the fp32 bytes, in the same calls; the collectives carry BF16/F16.
  void countersAtTwoBytesPerElement() {
    QFETCH(int, mp);
    QFETCH(int, esp);
    QFETCH(int, rank);
    for (ScheduleKind kind : kAllSchedules) {
      const Config c16 = tiny_config(8, mp, esp, DType::Bf16);
      const DerivedSizes d = derive_sizes(c16);
      QCOMPARE(d.bytes_per_element, 2);
      comm::DataType bf16_type{}, f16_type{};
      const auto bf16 = enqueue_counters<Bf16>(c16, rank, kind, &bf16_type);
      const auto f16 = enqueue_counters<F16>(tiny_config(8, mp, esp, DType::Fp16), rank, kind, &f16_type);
      const auto f32 = enqueue_counters<float>(tiny_config(8, mp, esp, DType::Fp32), rank, kind);
      QCOMPARE(bf16_type, comm::DataType::BF16);
      QCOMPARE(f16_type, comm::DataType::F16);
      const QString where =
          QString("MP%1 ESP%2 rank%3 %4").arg(mp).arg(esp).arg(rank).arg(to_string(kind).data());

      QVERIFY2(!bf16.empty(), qPrintable(where));
      QCOMPARE(bf16.size(), f32.size());
      QCOMPARE(f16.size(), f32.size());
      for (std::size_t i = 0; i < f32.size(); ++i) {
        CommCounter half = f32[i];
        half.bytes /= 2;
        QVERIFY2(f32[i].bytes % 2 == 0, qPrintable(where + ": " + describe(f32[i])));
        QVERIFY2(describe(bf16[i]) == describe(half),
                 qPrintable(where + ": " + describe(bf16[i]) + " vs " + describe(half)));
        QVERIFY2(describe(f16[i]) == describe(half), qPrintable(where + ": " + describe(f16[i])));
      }

      // Against the volume formulas of spec section 5 (as test_engine_executor_mpi does for fp32).
      QStringList got, want;
      for (const auto& k : bf16)
        if (k.pass == "fwd" || k.purpose == "router grad")
          got << QString("%1 %2 %3 %4%5")
                     .arg(k.pass.c_str(), k.op.c_str(), k.group.c_str())
                     .arg(k.bytes)
                     .arg(k.fused.empty() ? "" : "*");
      for (const auto& v : schedule_volumes(c16, d, kind)) {
        QCOMPARE(v.bytes, 2 * v.elements);
        want << QString("%1 %2 %3 %4%5")
                    .arg(to_string(v.pass).data(), to_string(v.collective).data(), to_string(v.group).data())
                    .arg(v.bytes)
                    .arg(v.fused.empty() ? "" : "*");
      }
      got.sort();
      want.sort();
      QVERIFY2(got == want, qPrintable(where + "\n got: " + got.join(", ") + "\nwant: " + want.join(", ")));
    }
  }
};

QTEST_APPLESS_MAIN(TestRunSixteenBit)
#include "test_engine_run_sixteen_bit.moc"
