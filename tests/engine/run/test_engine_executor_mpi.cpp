// Every schedule executed for real on MPI ranks against the single-process reference (spec section 8), the
// byte counters against the formulas of section 5, and the fused pipelines against their unfused collectives.
// Run with 2, 4 and 8 ranks; each row picks layouts that fit the world size.
#include <QtTest>
#include <cmath>
#include <cstring>
#include <map>

#include "engine/comm/comm_mpi.h"
#include "engine/core/sizes.h"
#include "engine/run/executor.h"
#include "engine/run/tensor_init.h"
#include "engine/run/verify.h"
#include "engine/schedules/volumes.h"
#include "tests/engine/mpi_test_main.h"
#include "tests/engine/run/mp_group_tensor.h"
#include "tests/engine/run/tiny_layer.h"

using namespace parm;
using parm::test::world_size;

Q_DECLARE_METATYPE(Config)

namespace {

constexpr std::chrono::milliseconds kTimeout{20'000};

Config tiny_config(int mp, int esp) {
  return parm::test::tiny_layer(mp, esp, 99);
}

std::vector<std::pair<int, int>> layouts() {
  return parm::test::tiny_layouts();
}

template <typename T>
VerifyReport run_and_verify(const Config& c, ScheduleKind kind, std::vector<CommCounter>* counters = nullptr,
                            backend::HostRouting* routing = nullptr) {
  const RankLayout layout = make_rank_layout(c, parm::test::world_rank());
  comm::CommGroups groups = comm::make_mpi_groups(layout, kTimeout);
  LayerExecutor<T> exec(c, layout, groups, build_schedule(kind, c.parallel));
  try {
    exec.forward(parm::test::mp_group_tensor<T>(c, layout, TensorId::Input));
    exec.backward(parm::test::mp_group_tensor<T>(c, layout, TensorId::OutputGrad));
  } catch (const std::exception& e) {  // a broken collective: say which, then stop every rank
    std::fprintf(stderr, "rank %d, %s: %s\n", layout.rank, to_string(kind).data(), e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  if (counters) *counters = exec.counters();
  if (routing) *routing = exec.routing();
  return verify_against_reference(c, layout, groups, exec);
}

QString describe(const VerifyReport& v) {
  return QString("out %1 dX %2 dWg %3 experts %4")
      .arg(v.output)
      .arg(v.input_grad)
      .arg(v.router_grad)
      .arg(v.expert_grads);
}

// Runs a one-op (or two-op) schedule on a token tensor of `rows` rows of width M and returns the output.
template <typename T>
std::vector<T> run_ops(const Config& c, comm::CommGroups& groups, const RankLayout& layout,
                       std::vector<Op> ops, const std::vector<T>& x) {
  Schedule s;
  s.forward = std::move(ops);
  LayerExecutor<T> exec(c, layout, groups, s);
  exec.forward(x);
  return exec.output();
}

}  // namespace

class TestExecutorMpi : public QObject {
  Q_OBJECT
 private slots:
  // No-drop regime: every schedule equals the reference (fp64 < 1e-12, fp32 < 1e-5).
  void noDropMatchesReference_data() {
    QTest::addColumn<Config>("config");
    QTest::addColumn<double>("tolerance");
    for (auto [mp, esp] : layouts()) {
      for (auto act : {Activation::Gelu, Activation::Swiglu}) {
        for (bool fp64 : {true, false}) {
          Config c = tiny_config(mp, esp);
          c.layer.activation = act;
          c.layer.dtype = fp64 ? DType::Fp64 : DType::Fp32;
          c.layer.drop_tokens = !fp64;  // fp64 rows: dynamic capacity; fp32 rows: a factor large enough
          c.layer.capacity_factor = fp64 ? 1.0 : 8.0;
          const QString name = QString("MP%1 ESP%2 EP%3 %4 %5")
                                   .arg(mp)
                                   .arg(esp)
                                   .arg(world_size() / mp)
                                   .arg(to_string(act).data())
                                   .arg(fp64 ? "fp64 no-drop" : "fp32 f=8");
          QTest::newRow(qPrintable(name)) << c << (fp64 ? 1e-12 : 1e-5);
        }
      }
    }
  }
  void noDropMatchesReference() {
    QFETCH(Config, config);
    QFETCH(double, tolerance);
    for (ScheduleKind kind : kAllSchedules) {
      backend::HostRouting routing;
      const VerifyReport v = config.layer.dtype == DType::Fp64
                                 ? run_and_verify<double>(config, kind, nullptr, &routing)
                                 : run_and_verify<float>(config, kind, nullptr, &routing);
      QVERIFY2(routing.dropped_choices() == 0, to_string(kind).data());
      QVERIFY2(v.worst() < tolerance, qPrintable(QString(to_string(kind).data()) + ": " + describe(v)));
    }
  }

  // Drop regime with C0 a multiple of N: B_DS2 and S2 use C2 = C0, so they drop exactly what B_DS (and the
  // reference) drop; S1 routes per token slice with C1, a different but valid routing.
  void dropRegime() {
    for (auto [mp, esp] : layouts()) {
      Config c = tiny_config(mp, esp);
      c.layer.dtype = DType::Fp64;
      c.layer.capacity_factor = 1.0;  // C0 = ceil(16/8 * 1 * 2) = 4, a multiple of N in {1, 2, 4}
      QCOMPARE(derive_sizes(c).C0 % mp, std::int64_t(0));
      for (ScheduleKind kind : kAllSchedules) {
        backend::HostRouting routing;
        const VerifyReport v = run_and_verify<double>(c, kind, nullptr, &routing);
        // Valid routing on every rank: slots unique per expert and below the capacity.
        std::map<std::pair<int, std::int64_t>, int> seen;
        for (std::size_t i = 0; i < routing.position.size(); ++i) {
          if (routing.position[i] < 0) continue;
          QVERIFY(routing.position[i] < routing.capacity);
          const std::pair<int, std::int64_t> slot{routing.expert[i], routing.position[i]};
          QVERIFY(++seen[slot] == 1);
        }
        if (kind == ScheduleKind::S1 ||
            kind == ScheduleKind::S1F) {  // valid, and equal to the reference on it
          QVERIFY(v.check == VerifyCheck::RoutingValidity || (v.dropped == 0 && v.reference_dropped == 0));
          QVERIFY2(v.passed && v.worst() < 1e-12, qPrintable(describe(v) + " " + v.failure().c_str()));
          continue;
        }
        QVERIFY2(v.worst() < 1e-12,
                 qPrintable(QString("MP%1 ESP%2 %3: ").arg(mp).arg(esp).arg(to_string(kind).data()) +
                            describe(v)));
      }
    }
  }

  // The counted bytes of every forward collective equal the spec's volume formulas (section 5), fused steps
  // included, and the one backward-only collective (S1's router gradient) too.
  void countersMatchVolumeFormulas() {
    for (auto [mp, esp] : layouts()) {
      Config c = tiny_config(mp, esp);
      c.layer.dtype = DType::Fp32;
      const DerivedSizes d = derive_sizes(c);
      for (ScheduleKind kind : kAllSchedules) {
        std::vector<CommCounter> counters;
        run_and_verify<float>(c, kind, &counters);
        QStringList got, want;
        for (const auto& k : counters)
          if (k.pass == "fwd" || k.purpose == "router grad")
            got << QString("%1 %2 %3 %4%5")
                       .arg(k.pass.c_str(), k.op.c_str(), k.group.c_str())
                       .arg(k.bytes)
                       .arg(k.fused.empty() ? "" : "*");
        for (const auto& v : schedule_volumes(c, d, kind))
          want << QString("%1 %2 %3 %4%5")
                      .arg(to_string(v.pass).data(), to_string(v.collective).data(),
                           to_string(v.group).data())
                      .arg(v.bytes)
                      .arg(v.fused.empty() ? "" : "*");
        got.sort();
        want.sort();
        QVERIFY2(got == want, qPrintable(QString("MP%1 ESP%2 %3\n got: %4\nwant: %5")
                                             .arg(mp)
                                             .arg(esp)
                                             .arg(to_string(kind).data(), got.join(", "), want.join(", "))));
      }
    }
  }

  // SAA is bitwise AllGather(AlltoAll(x)) for (W, N) in {(2,2), (4,2), (2,4)}, with 60-byte chunks (not a
  // multiple of 16), for both placements; RSA equals ReduceScatter then AlltoAll within rounding.
  void fusedPipelinesEqualUnfused_data() {
    QTest::addColumn<int>("mp");
    if (world_size() == 2) {  // degenerate pipelines: one step, or a group of one
      QTest::newRow("W=2 N=1") << 1;
      QTest::newRow("W=1 N=2") << 2;
    }
    if (world_size() == 4) QTest::newRow("W=2 N=2") << 2;
    if (world_size() == 8) {
      QTest::newRow("W=4 N=2") << 2;
      QTest::newRow("W=2 N=4") << 4;
    }
  }
  void fusedPipelinesEqualUnfused() {
    QFETCH(int, mp);
    Config c = tiny_config(mp, mp);
    c.layer.hidden = 3;  // rows of 12 bytes
    const RankLayout layout = make_rank_layout(c, parm::test::world_rank());
    comm::CommGroups groups = comm::make_mpi_groups(layout, kTimeout);
    const std::int64_t W = layout.ep_size, N = layout.mp_size, rows = W * N * 5;  // chunk: 5 rows = 60 bytes
    std::vector<float> x(static_cast<std::size_t>(rows * 3));
    fill(x.data(), rows * 3, 7, TensorId::Input, static_cast<std::uint64_t>(layout.rank * rows * 3), 1.0);
    using namespace ops;
    const Op a2a = collective(OpKind::AlltoAll, Group::EP, Dim::None, "x");
    const Stage a2a_stage{OpKind::AlltoAll, Group::EP, Dim::None};
    for (Dim dim : {Dim::Peer, Dim::Capacity}) {
      const auto unfused =
          run_ops<float>(c, groups, layout, {a2a, collective(OpKind::AllGather, Group::MP, dim, "x")}, x);
      const auto fused = run_ops<float>(c, groups, layout,
                                        {pipeline({a2a_stage, {OpKind::AllGather, Group::MP, dim}}, "x")}, x);
      QCOMPARE(fused.size(), unfused.size());
      QVERIFY2(std::memcmp(fused.data(), unfused.data(), fused.size() * sizeof(float)) == 0,
               to_string(dim).data());
    }
    const auto rs_a2a = run_ops<float>(
        c, groups, layout, {collective(OpKind::ReduceScatter, Group::MP, Dim::Peer, "x"), a2a}, x);
    const auto rsa = run_ops<float>(
        c, groups, layout, {pipeline({{OpKind::ReduceScatter, Group::MP, Dim::Peer}, a2a_stage}, "x")}, x);
    QCOMPARE(rsa.size(), rs_a2a.size());
    for (std::size_t i = 0; i < rsa.size(); ++i)
      QVERIFY(std::fabs(rsa[i] - rs_a2a[i]) <= 1e-6f * (1.0f + std::fabs(rs_a2a[i])));
  }
};

PARM_MPI_QTEST_MAIN(TestExecutorMpi)
#include "test_engine_executor_mpi.moc"
