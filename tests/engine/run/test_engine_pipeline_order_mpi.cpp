// The executor issues a fused pipeline's steps in the one order of engine/schedules/pipeline_plan.h: on 4
// local ranks (N_MP = N_ESP = 2, N_EP = 2, two virtual nodes) S1F's and S2F's forward and backward run
// traced, and on every rank and lane the traced steps of each pipeline, in start order, are
// pipeline_issue_order filtered to that lane (the order the timeline model simulates). The emulated-cluster
// version of this check runs the same comparison across real nodes.
#include <QtTest>
#include <algorithm>
#include <map>
#include <tuple>

#include "engine/comm/comm_mpi.h"
#include "engine/run/executor.h"
#include "engine/schedules/group_specs.h"
#include "engine/schedules/pipeline_plan.h"
#include "profiler/op_tracer.h"
#include "tests/engine/mpi_test_main.h"
#include "tests/engine/run/mp_group_tensor.h"
#include "tests/engine/run/tiny_layer.h"

using namespace parm;
using parm::test::world_size;

Q_DECLARE_METATYPE(ScheduleKind)

namespace {

constexpr std::chrono::milliseconds kTimeout{20'000};

Config tiny_config() {
  Config c = parm::test::tiny_layer(2, 2, 11);  // 4 ranks: 2 nodes x 2, N_MP = N_ESP = 2, N_EP = 2
  c.layer.dtype = DType::Fp32;
  return c;
}

// The stage index of a traced step named "<pipeline>:<stage kind>" in `op`, or stages.size().
std::size_t stage_of(const std::string& stage_kind, const Op& op) {
  for (std::size_t s = 0; s < op.stages.size(); ++s)
    if (to_string(op.stages[s].kind) == stage_kind) return s;
  return op.stages.size();
}

}  // namespace

class TestPipelineOrderMpi : public QObject {
  Q_OBJECT
 private slots:
  void stepsFollowTheIssueOrder_data() {
    QTest::addColumn<ScheduleKind>("kind");
    QTest::newRow("S1F") << ScheduleKind::S1F;
    QTest::newRow("S2F") << ScheduleKind::S2F;
  }
  void stepsFollowTheIssueOrder() {
    if (world_size() != 4) QSKIP("needs 4 ranks");
    QFETCH(ScheduleKind, kind);
    const Config c = tiny_config();
    const RankLayout layout = make_rank_layout(c, parm::test::world_rank());
    comm::CommGroups groups = comm::make_mpi_groups(layout, kTimeout);
    const Schedule schedule = build_schedule(kind, c.parallel);
    profiler::OpTracer tracer(4096);
    {
      LayerExecutor<float> exec(c, layout, groups, schedule);
      exec.set_trace(&tracer, 0);
      try {
        exec.forward(parm::test::mp_group_tensor<float>(c, layout, TensorId::Input));
        exec.backward(parm::test::mp_group_tensor<float>(c, layout, TensorId::OutputGrad));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "rank %d, %s: %s\n", layout.rank, to_string(kind).data(), e.what());
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
    }
    QCOMPARE(tracer.overflow(), std::size_t(0));
    const std::vector<std::string>& names = tracer.names();
    const std::int64_t W = c.parallel.ep();
    int pipelines = 0;
    for (int phase = 0; phase < 2; ++phase) {
      const std::vector<Op>& list = phase == 0 ? schedule.forward : schedule.backward;
      for (const Op& op : list) {
        if (op.kind != OpKind::Pipeline) continue;
        ++pipelines;
        // This pipeline's traced steps per lane: (start, end, step, stage).
        std::map<int, std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::size_t>>> traced;
        for (const profiler::TraceEvent& e : tracer.events()) {
          if (e.phase != phase || e.chunk < 0) continue;
          const std::string& name = names[static_cast<std::size_t>(e.op)];
          const std::size_t colon = name.find(':');
          if (colon == std::string::npos || name.substr(0, colon) != op.name() ||
              names[static_cast<std::size_t>(e.purpose)] != op.label)
            continue;
          traced[e.lane].emplace_back(e.start_ns, e.end_ns, e.chunk, stage_of(name.substr(colon + 1), op));
        }
        std::map<int, std::vector<std::pair<std::int64_t, std::size_t>>> issued, executed;
        for (const PipelineStep& ps : pipeline_issue_order(W, op.stages.size()))
          issued[static_cast<int>(pipeline_stage_lane(op, ps.stage))].emplace_back(ps.step, ps.stage);
        for (auto& [lane, steps] : traced) {
          std::stable_sort(steps.begin(), steps.end());
          for (const auto& [start, end, step, stage] : steps) executed[lane].emplace_back(step, stage);
        }
        QVERIFY2(executed == issued,
                 qPrintable(QString("rank %1, %2 phase %3, %4 %5: traced step order per lane differs")
                                .arg(layout.rank)
                                .arg(to_string(kind).data())
                                .arg(phase)
                                .arg(QString::fromStdString(op.name()))
                                .arg(QString::fromStdString(op.label))));
      }
    }
    QVERIFY(pipelines >= 2);
  }
};

PARM_MPI_QTEST_MAIN(TestPipelineOrderMpi)
#include "test_engine_pipeline_order_mpi.moc"
