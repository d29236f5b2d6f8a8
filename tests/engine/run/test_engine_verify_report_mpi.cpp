// `--verify`'s report on MPI ranks (spec section 8): in the drop regime, schedules that route differently
// from the reference (S1/S1F's token slices with C1; B_DS2/S2/S2F's C2 when C0 % N != 0) get the
// routing-validity check and pass it; the others get the reference check. A routing corrupted on purpose on
// one rank fails on every rank, naming the rank and the rule. Run with 2 and 4 ranks.
#include <QtTest>
#include <cmath>

#include "engine/comm/comm_mpi.h"
#include "engine/core/sizes.h"
#include "engine/run/executor.h"
#include "engine/run/routing_validity.h"
#include "engine/run/verify.h"
#include "tests/engine/mpi_test_main.h"
#include "tests/engine/run/mp_group_tensor.h"
#include "tests/engine/run/tiny_layer.h"

using namespace parm;
using parm::test::world_rank;
using parm::test::world_size;

namespace {

constexpr std::chrono::milliseconds kTimeout{20'000};

// S = 16, E = 8, k = 2, f = 0.75: C0 = 3 (24 slots for 32 choices: the reference drops), odd, so C2 = 4 on
// N = 2 and 4; C1 = 2 on N = 2, 1 on N = 4.
Config drop_config(int mp, int esp) {
  Config c = parm::test::tiny_layer(mp, esp, 7);
  c.name = "drop";
  c.layer.capacity_factor = 0.75;
  c.layer.dtype = DType::Fp64;
  return c;
}

std::vector<std::pair<int, int>> layouts() {
  if (world_size() == 4) return {{2, 2}, {2, 1}, {4, 4}};
  return {{2, 2}, {2, 1}};
}

struct Run {
  RankLayout layout;
  comm::CommGroups groups;
  std::unique_ptr<LayerExecutor<double>> exec;
};

std::unique_ptr<Run> execute(const Config& c, ScheduleKind kind) {
  auto run = std::make_unique<Run>();
  run->layout = make_rank_layout(c, world_rank());
  run->groups = comm::make_mpi_groups(run->layout, kTimeout);
  run->exec =
      std::make_unique<LayerExecutor<double>>(c, run->layout, run->groups, build_schedule(kind, c.parallel));
  run->exec->forward(parm::test::mp_group_tensor<double>(c, run->layout, TensorId::Input));
  run->exec->backward(parm::test::mp_group_tensor<double>(c, run->layout, TensorId::OutputGrad));
  return run;
}

QString describe(ScheduleKind kind, const VerifyReport& v) {
  return QString("%1 %2: out %3 dX %4 dWg %5 experts %6 %7")
      .arg(to_string(kind).data(), to_string(v.check).data())
      .arg(v.output)
      .arg(v.input_grad)
      .arg(v.router_grad)
      .arg(v.expert_grads)
      .arg(QString::fromStdString(v.failure()));
}

// Two kept choices (token-major indices) of one expert in `r`, the first before the second choice-major.
std::pair<std::int64_t, std::int64_t> two_kept_of_one_expert(const backend::HostRouting& r) {
  for (std::size_t a = 0; a < r.position.size(); ++a)
    for (std::size_t b = 0; b < r.position.size(); ++b)
      if (a != b && r.expert[a] == r.expert[b] && r.position[a] == 0 && r.position[b] == 1)
        return {static_cast<std::int64_t>(a), static_cast<std::int64_t>(b)};
  return {-1, -1};
}

}  // namespace

class TestVerifyReportMpi : public QObject {
  Q_OBJECT
 private slots:
  // Every schedule passes; the ones whose capacity differs from C0 get the routing-validity check, with every
  // choice counted once and the slots their capacity gives.
  void dropRegimeReportsWhichCheck() {
    for (auto [mp, esp] : layouts()) {
      const Config c = drop_config(mp, esp);
      const DerivedSizes d = derive_sizes(c);
      QVERIFY(d.C0 % mp != 0);
      const std::int64_t choices = c.parallel.mp_groups() * c.layer.tokens() * c.layer.top_k;
      for (ScheduleKind kind : kAllSchedules) {
        const auto run = execute(c, kind);
        const VerifyReport v = verify_against_reference(c, run->layout, run->groups, *run->exec);
        const Schedule& s = run->exec->schedule();
        QVERIFY2(v.passed, qPrintable(describe(kind, v)));
        QVERIFY2(v.worst() < 1e-12, qPrintable(describe(kind, v)));
        QCOMPARE(v.tolerance, 1e-12);
        QVERIFY(v.reference_dropped > 0);
        const bool differs = s.capacity != CapacityRule::C0;
        QCOMPARE(v.check, differs ? VerifyCheck::RoutingValidity : VerifyCheck::Reference);
        if (!differs) continue;
        QCOMPARE(v.routing.kept + v.routing.dropped, choices);
        QCOMPARE(v.routing.dropped, v.dropped);
        const std::int64_t per_routing =
            s.split_tokens ? mp * c.layer.num_experts * d.C1 : c.layer.num_experts * d.C2;
        QCOMPARE(v.routing.capacity_slots, c.parallel.mp_groups() * per_routing);
        QVERIFY(v.rule_broken.empty());
        QCOMPARE(v.expert_params.size(), std::size_t(4));  // GELU with bias: dW1, db1, dW2, db2
      }
    }
  }

  // Corruptions of S1's routing on rank 1 only: every rank's report fails, names rank 1 and the rule, and
  // compares no tensor (an invalid routing is not run through the reference).
  void corruptedRoutingFailsNamingTheRule_data() {
    QTest::addColumn<int>("corruption");
    QTest::addColumn<QString>("rule");
    QTest::newRow("slot used twice") << 0 << "slot used twice";
    QTest::newRow("slots swapped") << 1 << "slots not choice-major";
    QTest::newRow("slot beyond capacity") << 2 << "kept choice outside capacity";
    QTest::newRow("kept choice dropped") << 3 << "slots not choice-major";
    QTest::newRow("expert out of range") << 4 << "expert out of range";
  }
  void corruptedRoutingFailsNamingTheRule() {
    QFETCH(int, corruption);
    QFETCH(QString, rule);
    const Config c = drop_config(2, 2);
    const auto run = execute(c, ScheduleKind::S1);
    backend::HostRouting routing = run->exec->routing();
    const auto [first, second] = two_kept_of_one_expert(routing);  // C1 = 2: some expert fills both slots
    QVERIFY(first >= 0);
    if (world_rank() == 1) {
      auto& pos = routing.position;
      const auto f = static_cast<std::size_t>(first), s = static_cast<std::size_t>(second);
      if (corruption == 0) pos[s] = pos[f];
      if (corruption == 1) std::swap(pos[f], pos[s]);
      if (corruption == 2) pos[s] = routing.capacity;
      if (corruption == 3) pos[s] = -1;
      if (corruption == 4) routing.expert[f] = static_cast<std::int32_t>(routing.experts);
    }
    const VerifyReport v = verify_against_reference(c, run->layout, run->groups, *run->exec, &routing);
    QCOMPARE(v.check, VerifyCheck::RoutingValidity);
    QVERIFY(!v.passed);
    QVERIFY2(QString::fromStdString(v.rule_broken).startsWith("rank 1: " + rule), v.rule_broken.c_str());
    QVERIFY2(QString::fromStdString(v.failure()).contains(rule), v.failure().c_str());
    QVERIFY(std::isnan(v.output) && std::isnan(v.worst()));
  }

  // The checker alone on a hand-made routing (3 tokens, k = 1, 2 experts, capacity 1): token 1 lost its only
  // choice, so its output row must be exactly zero.
  void droppedTokenMustOutputZero() {
    backend::HostRouting r;
    r.tokens = 3;
    r.experts = 2;
    r.top_k = 1;
    r.capacity = 1;
    r.expert = {0, 0, 1};
    r.position = {0, -1, 0};
    std::vector<float> out = {1, 2, 0, 0, 3, 4};  // (3 tokens, M = 2)
    const RoutingValidity ok = check_routing(r, out.data(), 2);
    QVERIFY2(ok.valid(), ok.rule_broken.c_str());
    QCOMPARE(ok.counts.kept, std::int64_t(2));
    QCOMPARE(ok.counts.dropped, std::int64_t(1));
    QCOMPARE(ok.counts.dropped_tokens, std::int64_t(1));
    QCOMPARE(ok.counts.capacity_slots, std::int64_t(2));
    out[3] = 1e-30f;
    const RoutingValidity bad = check_routing(r, out.data(), 2);
    QVERIFY(QString::fromStdString(bad.rule_broken).startsWith("dropped token's output not zero: token 1"));
    r.position = {-1, 0, 0};  // slot 0 of expert 0 belongs to token 0, the first in choice-major order
    QVERIFY(QString::fromStdString(check_routing(r).rule_broken).startsWith("slots not choice-major"));
  }
};

PARM_MPI_QTEST_MAIN(TestVerifyReportMpi)
#include "test_engine_verify_report_mpi.moc"
