// Pipeline degree r (issue 19): every schedule at r = 2, 4 and 8 executed on MPI ranks equals the
// single-process reference (spec section 8) in the no-drop, the large-capacity and the drop regimes, moves
// exactly the bytes of r = 1 in r times the calls, and traces each chunked op once per chunk. Run with 2, 4
// and 8 ranks; each row picks layouts that fit the world size.
#include <QtTest>
#include <cmath>
#include <map>
#include <set>

#include "engine/comm/comm_mpi.h"
#include "engine/core/sizes.h"
#include "engine/run/executor.h"
#include "engine/run/verify.h"
#include "engine/run/worker.h"
#include "engine/schedules/chunk_plan.h"
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

Config tiny_config(int mp, int esp) {
  Config c = parm::test::tiny_layer(mp, esp, 7);
  c.run.iterations = 1;
  return c;
}

std::vector<std::pair<int, int>> layouts() {
  return parm::test::tiny_layouts();
}

// Every built-in schedule at each degree above 1.
std::vector<ScheduleKind> pipelined() {
  std::vector<ScheduleKind> out;
  for (ScheduleKind base : kAllSchedules)
    for (int r : {2, 4, 8}) out.push_back(pipelined_variant(base, r)->kind);
  return out;
}

// Equal to fp64 rounding: |a - b| <= 1e-12 x the largest |b| (and 1e-12 absolute).
bool same(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  double scale = 1, worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, std::abs(b[i]));
    worst = std::max(worst, std::abs(a[i] - b[i]));
  }
  return worst <= 1e-12 * scale;
}

// Degree pairs that cover every regroup: a whole forward cut for a chunked backward and back, a finer
// backward (a slice of one forward state) and a coarser one (forward states placed side by side).
constexpr std::pair<int, int> kSeparateDegrees[] = {{1, 2}, {4, 1}, {2, 8}, {8, 2}};

template <typename T>
parm::test::LayerOutcome<T> run(const Config& c, ScheduleKind kind) {
  return parm::test::traced_layer_run<T>(c, kind, kTimeout);
}

QString describe(const VerifyReport& v) {
  return QString("out %1 dX %2 dWg %3 experts %4")
      .arg(v.output)
      .arg(v.input_grad)
      .arg(v.router_grad)
      .arg(v.expert_grads);
}

// "pass op group purpose fused" -> (bytes, calls)
std::map<std::string, std::pair<std::int64_t, std::int64_t>> by_collective(
    const std::vector<CommCounter>& cs) {
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> out;
  for (const CommCounter& k : cs) {
    auto& [bytes, calls] = out[k.pass + " " + k.op + " " + k.group + " " + k.purpose + " " + k.fused];
    bytes += k.bytes;
    calls += k.calls;
  }
  return out;
}

// The counter keys of the schedule's chunked collectives (as the executor counts them).
std::set<std::string> chunked_keys(const Schedule& s) {
  std::set<std::string> out;
  for (const auto* list : {&s.forward, &s.backward})
    for (const Op& op : *list) {
      if (!op.chunked) continue;
      const std::string pass = op.direction == Direction::Forward ? "fwd" : "bwd";
      if (op.kind == OpKind::Pipeline) {
        for (const Stage& st : op.stages)
          out.insert(pass + " " + std::string(to_string(st.kind)) + " " + std::string(to_string(st.group)) +
                     " " + op.label + " " + op.name());
      } else if (op.communicates()) {
        out.insert(pass + " " + std::string(to_string(op.kind)) + " " + std::string(to_string(op.group)) +
                   " " + op.label + " ");
      }
    }
  return out;
}

}  // namespace

class TestChunkedMpi : public QObject {
  Q_OBJECT
 private slots:
  void matchesReference_data() {
    QTest::addColumn<Config>("config");
    QTest::addColumn<double>("tolerance");
    for (auto [mp, esp] : layouts()) {
      for (int regime = 0; regime < parm::test::kRegimes; ++regime) {
        const parm::test::Regime r = parm::test::tiny_regime(tiny_config(mp, esp), regime);
        QTest::newRow(qPrintable(QString("MP%1 ESP%2 %3").arg(mp).arg(esp).arg(r.name)))
            << r.config << r.tolerance;
      }
    }
  }
  // The reference check (or, where a schedule routes its own token slice, the routing-validity check) passes
  // for every pipelined schedule, within the dtype's tolerance.
  void matchesReference() {
    QFETCH(Config, config);
    QFETCH(double, tolerance);
    for (ScheduleKind kind : pipelined()) {
      const VerifyReport report = config.layer.dtype == DType::Fp64 ? run<double>(config, kind).report
                                                                    : run<float>(config, kind).report;
      QVERIFY2(report.passed && report.worst() < tolerance,
               qPrintable(QString(to_string(kind).data()) + ": " + describe(report) + " " +
                          report.failure().c_str()));
    }
  }

  // r_fwd != r_bwd: the backward regroups the forward's saved expert states into its own chunks. The result
  // passes the reference, and since a regrouped state holds exactly the rows the backward's own degree would
  // have saved, the input and parameter gradients equal the same-degree run at the backward's degree (and
  // the output the one at the forward's) to the last bits in fp64: the GEMMs of a forward in other chunks
  // round differently (2.8e-17 measured), a row out of place would be off by the values themselves.
  void separateDegreesRegroupTheSavedState_data() { matchesReference_data(); }
  void separateDegreesRegroupTheSavedState() {
    QFETCH(Config, config);
    QFETCH(double, tolerance);
    if (config.layer.dtype != DType::Fp64) QSKIP("the fp64 rows check the regroup bit for bit");
    for (ScheduleKind base : kAllSchedules) {
      for (auto [f, b] : kSeparateDegrees) {
        const ScheduleSpec* v = schedule_variant(base, {f, b}, AlltoAllAlgorithm::Flat);
        QVERIFY(v && v->pipeline_degree.forward == f && v->pipeline_degree.backward == b);
        const auto mixed = run<double>(config, v->kind);
        const QString name = QString(v->name.data());
        QVERIFY2(mixed.report.passed && mixed.report.worst() < tolerance,
                 qPrintable(name + ": " + describe(mixed.report) + " " + mixed.report.failure().c_str()));
        const auto forward_twin =
            run<double>(config, schedule_variant(base, f, AlltoAllAlgorithm::Flat)->kind);
        const auto backward_twin =
            run<double>(config, schedule_variant(base, b, AlltoAllAlgorithm::Flat)->kind);
        QVERIFY2(same(mixed.output, forward_twin.output), qPrintable(name + ": output"));
        QVERIFY2(same(mixed.input_grad, backward_twin.input_grad), qPrintable(name + ": dX"));
        const auto& g = mixed.grads;
        const auto& t = backward_twin.grads;
        QVERIFY2(same(g.dw1, t.dw1) && same(g.db1, t.db1) && same(g.dw3, t.dw3) && same(g.db3, t.db3) &&
                     same(g.dw2, t.dw2) && same(g.db2, t.db2) && same(g.dwg, t.dwg),
                 qPrintable(name + ": expert or router gradients"));
      }
    }
  }

  // Chunking moves no byte more or less: each collective's bytes equal r = 1's, in (chunks x) its calls; and
  // the trace holds what expected_trace_events plans (each chunked op once per chunk).
  void sameBytesMoreCalls() {
    for (auto [mp, esp] : layouts()) {
      Config c = tiny_config(mp, esp);
      c.layer.dtype = DType::Fp32;
      c.layer.capacity_factor = 2.0;
      const DerivedSizes d = derive_sizes(c);
      for (ScheduleKind base : kAllSchedules) {
        const auto plain = by_collective(run<float>(c, base).counters);
        for (int r : {2, 4}) {
          const ScheduleKind kind = pipelined_variant(base, r)->kind;
          const auto o = run<float>(c, kind);
          const Schedule s = build_schedule(kind, c.parallel);
          const int chunks = planned_chunks(s, Direction::Forward, d);
          QVERIFY(chunks >= 2);
          const auto got = by_collective(o.counters);
          QCOMPARE(got.size(), plain.size());
          for (const auto& [key, value] : plain) {
            const auto it = got.find(key);
            QVERIFY2(it != got.end(), key.c_str());
            QVERIFY2(it->second.first == value.first,
                     qPrintable(QString("%1 %2: bytes").arg(to_string(kind).data(), key.c_str())));
            const bool chunked = chunked_keys(s).count(key) == 1;
            QVERIFY2(it->second.second == value.second * (chunked ? chunks : 1),
                     qPrintable(QString("%1 %2: calls %3 vs %4")
                                    .arg(to_string(kind).data(), key.c_str())
                                    .arg(it->second.second)
                                    .arg(value.second)));
          }
          QCOMPARE(o.traced, expected_trace_events(c, {kind}));
        }
      }
    }
  }
};

PARM_MPI_QTEST_MAIN(TestChunkedMpi)
#include "test_engine_chunked_mpi.moc"
