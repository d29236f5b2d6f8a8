// The hierarchical (2DH) AlltoAll (issue 19) on MPI ranks: every unfused schedule with it, at r = 1, 2 and 4,
// equals the single-process reference in the no-drop, the large-capacity and the drop regimes, and gives
// the flat AlltoAll's output, input gradient and parameter gradients bit for bit (it only moves data by
// another route), with the same bytes in the same calls and the same traced ops. Run with 4 and 8 ranks, on
// the layouts where an EP group has 2+ ranks on each of 2+ nodes (tiny_layer: G = 2 on 4 ranks, 4 on 8).
#include <QtTest>

#include "engine/comm/comm_mpi.h"
#include "engine/run/executor.h"
#include "engine/run/verify.h"
#include "engine/run/worker.h"
#include "engine/schedules/alltoall_algorithm.h"
#include "engine/schedules/schedule_registry.h"
#include "profiler/op_tracer.h"
#include "tests/engine/mpi_test_main.h"
#include "tests/engine/run/mp_group_tensor.h"
#include "tests/engine/run/tiny_layer.h"
#include "tests/engine/run/traced_layer_run.h"

using namespace parm;
using parm::test::world_size;

Q_DECLARE_METATYPE(Config)

namespace {

constexpr std::chrono::milliseconds kTimeout{20'000};

// The tiny layouts on which 2DH is not the flat exchange.
std::vector<std::pair<int, int>> hierarchical_layouts() {
  std::vector<std::pair<int, int>> out;
  for (auto [mp, esp] : parm::test::tiny_layouts())
    if (hierarchical_alltoall_applies(parm::test::tiny_layer(mp, esp, 7).parallel)) out.push_back({mp, esp});
  return out;
}

// (flat, hierarchical) pairs: every unfused built-in at r = 1, 2, 4.
std::vector<std::pair<ScheduleKind, ScheduleKind>> pairs() {
  std::vector<std::pair<ScheduleKind, ScheduleKind>> out;
  for (ScheduleKind base : kAllSchedules)
    for (int r : {1, 2, 4})
      if (const ScheduleSpec* h = schedule_variant(base, r, AlltoAllAlgorithm::Hierarchical))
        out.push_back({pipelined_variant(base, r)->kind, h->kind});
  return out;
}

// How many AlltoAll ops of the built lists run 2DH.
int hierarchical_ops(const Config& c, ScheduleKind kind) {
  const Schedule schedule = build_schedule(kind, c.parallel);
  int n = 0;
  for (const auto* list : {&schedule.forward, &schedule.backward})
    for (const Op& op : *list) n += op.algorithm == AlltoAllAlgorithm::Hierarchical;
  return n;
}

template <typename T>
bool same_gradients(const LocalGradients<T>& a, const LocalGradients<T>& b) {
  return a.dwg == b.dwg && a.dw1 == b.dw1 && a.dw3 == b.dw3 && a.db1 == b.db1 && a.db3 == b.db3 &&
         a.dw2 == b.dw2 && a.db2 == b.db2;
}

bool same_counters(const std::vector<CommCounter>& a, const std::vector<CommCounter>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].pass != b[i].pass || a[i].op != b[i].op || a[i].group != b[i].group ||
        a[i].bytes != b[i].bytes || a[i].calls != b[i].calls)
      return false;
  return true;
}

template <typename T>
void check_pair(const Config& config, double tolerance, ScheduleKind flat, ScheduleKind hier) {
  const auto f = parm::test::traced_layer_run<T>(config, flat, kTimeout);
  const auto h = parm::test::traced_layer_run<T>(config, hier, kTimeout);
  const QString name(to_string(hier).data());
  QVERIFY2(hierarchical_ops(config, hier) >= 2, qPrintable(name + ": no 2DH AlltoAll in the lists"));
  QCOMPARE(hierarchical_ops(config, flat), 0);
  QVERIFY2(h.report.passed && h.report.worst() < tolerance,
           qPrintable(name + ": " + h.report.failure().c_str()));
  QVERIFY2(h.output == f.output, qPrintable(name + ": output differs from the flat AlltoAll's"));
  QVERIFY2(h.input_grad == f.input_grad, qPrintable(name + ": input gradient differs"));
  QVERIFY2(same_gradients(h.grads, f.grads), qPrintable(name + ": parameter gradients differ"));
  QVERIFY2(same_counters(h.counters, f.counters), qPrintable(name + ": bytes or calls differ"));
  QCOMPARE(h.traced, f.traced);
  QCOMPARE(h.traced, expected_trace_events(config, {hier}));
}

}  // namespace

class TestHierarchicalMpi : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { QVERIFY(!hierarchical_layouts().empty()); }

  void matchesFlatAndReference_data() {
    QTest::addColumn<Config>("config");
    QTest::addColumn<double>("tolerance");
    for (auto [mp, esp] : hierarchical_layouts()) {
      Config c = parm::test::tiny_layer(mp, esp, 11);
      c.run.iterations = 1;
      for (int regime = 0; regime < parm::test::kRegimes; ++regime) {
        const parm::test::Regime r = parm::test::tiny_regime(c, regime);
        QTest::newRow(qPrintable(QString("MP%1 ESP%2 %3").arg(mp).arg(esp).arg(r.name)))
            << r.config << r.tolerance;
      }
    }
  }
  void matchesFlatAndReference() {
    QFETCH(Config, config);
    QFETCH(double, tolerance);
    for (auto [flat, hier] : pairs()) {
      if (config.layer.dtype == DType::Fp64)
        check_pair<double>(config, tolerance, flat, hier);
      else
        check_pair<float>(config, tolerance, flat, hier);
      if (QTest::currentTestFailed()) return;
    }
  }
};

PARM_MPI_QTEST_MAIN(TestHierarchicalMpi)
#include "test_engine_hierarchical_mpi.moc"
