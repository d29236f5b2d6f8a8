// The step timeline of fused pipelines (engine/model/pipeline_steps.h) on a small fixture: S2F on 2 x 2
// (W = 2) whose "measured" steps come from FIFO lanes fed in the executor's wavefront order and whose
// "prediction" is the step-major order the model used before issue 17 (RS>A2A>AG takes turns on the intra
// lane step after step). Checked: the per-lane issue order (written out by hand), times relative to the
// pipeline's first start with their median, lane positions, the order check of every rank-iteration and of
// the prediction, warm-up, incomplete and foreign samples ignored, the slowest rank; and reading a project
// (pipeline_steps_load.h): a validation run stands for its measured run, other runs are refused in one line.
#include <QTemporaryDir>
#include <QtTest>
#include <array>
#include <map>

#include "db/database.h"
#include "engine/core/config_json.h"
#include "engine/model/pipeline_steps.h"
#include "engine/model/pipeline_steps_load.h"

using namespace parm;

namespace {

constexpr const char* kConfig = R"({"name": "tiny",
  "layer": {"batch": 2, "seq_len": 8, "hidden": 8, "ffn_hidden": 16, "num_experts": 4, "top_k": 2},
  "parallel": {"ranks": 4, "gpus_per_node": 2, "mp": 2, "esp": 2},
  "run": {"schedules": ["B_DS", "S1F", "S2F"], "warmup": 1, "iterations": 2}})";

Config tiny() {
  const ConfigLoad load = config_from_json_text(kConfig);
  if (!load.ok()) qFatal("fixture config does not load");
  return *load.config;
}

const PipelineOp& pipeline_named(const StepTimeline& t, int phase, const std::string& name) {
  for (const PipelineOp& p : t.pipelines)
    if (p.phase == phase && p.name == name) return p;
  qFatal("no pipeline %s", name.c_str());
}

std::size_t index_of(const StepTimeline& t, const PipelineOp& p) {
  return static_cast<std::size_t>(&p - t.pipelines.data());
}

// The stage-steps of `p` on FIFO lanes, issued in `order`: each starts when its lane is free and the step's
// previous stage has ended; stage s takes dur[s] ms. Times from `origin_ms`.
std::vector<StepSample> simulate(const PipelineOp& p, const std::vector<PipelineStep>& order,
                                 const std::vector<double>& dur, double origin_ms, int rank, int iteration,
                                 bool with_chunk) {
  std::array<double, kLaneCount> lane_free{origin_ms, origin_ms, origin_ms};
  std::map<std::pair<std::int64_t, std::size_t>, double> ended;
  std::vector<StepSample> out;
  for (const PipelineStep& x : order) {
    double& free = lane_free[static_cast<std::size_t>(p.lanes[x.stage])];
    const double ready = x.stage == 0 ? origin_ms : ended.at({x.step, x.stage - 1});
    const double start = std::max(free, ready), end = start + dur[x.stage];
    free = end;
    ended[{x.step, x.stage}] = end;
    out.push_back({"S2F", rank, iteration, p.phase, p.name + (with_chunk ? ":" : "/") + p.stages[x.stage],
                   p.purpose, with_chunk ? static_cast<int>(x.step) : -1,
                   static_cast<std::int64_t>(start * 1e6), static_cast<std::int64_t>(end * 1e6)});
  }
  return out;
}

std::vector<PipelineStep> step_major(std::int64_t W, std::size_t stages) {
  std::vector<PipelineStep> out;
  for (std::int64_t i = 0; i < W; ++i)
    for (std::size_t s = 0; s < stages; ++s) out.push_back({i, s});
  return out;
}

const StepRow& row_of(const StepTimeline& t, std::size_t pipeline, int rank, std::size_t stage,
                      std::int64_t step) {
  for (const StepRow& r : t.rows)
    if (r.pipeline == pipeline && r.rank == rank && r.stage == stage && r.step == step) return r;
  qFatal("no row");
}

const PipelineCheck& check_of(const StepTimeline& t, std::size_t pipeline, int rank) {
  for (const PipelineCheck& c : t.checks)
    if (c.pipeline == pipeline && c.rank == rank) return c;
  qFatal("no check");
}

struct Fixture {
  Schedule schedule = build_schedule(ScheduleKind::S2F, tiny().parallel);
  std::int64_t W = 2;
  std::vector<StepSample> measured, predicted;
};

// Every pipeline of S2F on ranks 0 and 1 (rank 1 twice as slow), iterations -1 (warm-up), 0 and 1, in
// wavefront order; the prediction in step-major order, one rank, no chunks. Stages take 1, 2, 1 ms (or 1, 2).
Fixture fixture() {
  Fixture f;
  double origin = 0;
  for (const PipelineOp& p : pipelines_of(f.schedule)) {
    std::vector<double> dur = p.stages.size() == 3 ? std::vector<double>{1, 2, 1} : std::vector<double>{2, 1};
    for (int rank = 0; rank < 2; ++rank)
      for (int it = -1; it < 2; ++it) {
        std::vector<double> d = dur;
        for (double& x : d) x *= (rank + 1) * (it < 0 ? 5 : 1);
        auto s = simulate(p, pipeline_issue_order(f.W, p.stages.size()), d, origin + 100 * (it + 1), rank, it,
                          true);
        f.measured.insert(f.measured.end(), s.begin(), s.end());
      }
    auto s = simulate(p, step_major(f.W, p.stages.size()), dur, origin, 0, 0, false);
    f.predicted.insert(f.predicted.begin(), s.rbegin(), s.rend());  // input order must not matter
    origin += 1000;
  }
  // Foreign samples: another schedule, a non-pipeline op.
  f.measured.push_back({"S1F", 0, 0, 0, "SAA:AlltoAll", "dispatch", 0, 0, 5});
  f.measured.push_back({"S2F", 0, 0, 0, "experts", "experts", -1, 0, 5});
  return f;
}

}  // namespace

class TestPipelineSteps : public QObject {
  Q_OBJECT

 private slots:
  void laneIssueOrderIsTheWavefrontPerLane() {
    const StepTimeline t = step_timeline(fixture().schedule, 2, {}, {});
    const PipelineOp& chain = pipeline_named(t, 0, "RS>A2A>AG");
    QCOMPARE(chain.stages, (std::vector<std::string>{"ReduceScatter", "AlltoAll", "AllGather"}));
    QCOMPARE(order_text(chain, lane_issue_order(chain, 2, Lane::Intra)),
             std::string("ReduceScatter 0, ReduceScatter 1, AllGather 0, AllGather 1"));
    QCOMPARE(order_text(chain, lane_issue_order(chain, 2, Lane::Inter)),
             std::string("AlltoAll 0, AlltoAll 1"));
    QVERIFY(lane_issue_order(chain, 2, Lane::Compute).empty());
    // S2F: forward SAA dispatch and the chain combine, backward SAA combine and the chain dispatch.
    QCOMPARE(t.pipelines.size(), std::size_t{4});
    QCOMPARE(pipeline_named(t, 1, "SAA").purpose, std::string("combine"));
  }

  void measuredAndPredictedStepsLineUp() {
    const Fixture f = fixture();
    const StepTimeline t = step_timeline(f.schedule, f.W, f.measured, f.predicted);
    const std::size_t chain = index_of(t, pipeline_named(t, 0, "RS>A2A>AG"));
    // Wavefront on FIFO lanes (1, 2, 1 ms): RS0 0-1, RS1 1-2, A2A0 1-3, AG0 3-4, A2A1 3-5, AG1 5-6.
    const StepRow& ag1 = row_of(t, chain, 0, 2, 1);
    QCOMPARE(ag1.lane, Lane::Intra);
    QCOMPARE(ag1.measured_start_ms.p50, 5.0);
    QCOMPARE(ag1.measured_end_ms.p50, 6.0);
    QCOMPARE(ag1.measured_start_ms.n, std::size_t{2});  // two measured iterations, the warm-up left out
    // Step-major (the old model): RS0 0-1, A2A0 1-3, AG0 3-4, RS1 4-5, A2A1 5-7, AG1 7-8.
    QCOMPARE(*ag1.predicted_start_ms, 7.0);
    QCOMPARE(*ag1.predicted_end_ms, 8.0);
    const StepRow& rs1 = row_of(t, chain, 0, 0, 1);
    QCOMPARE(rs1.issue_position, 1);
    QCOMPARE(rs1.measured_position, 1);
    QCOMPARE(rs1.predicted_position, 2);                              // after AG0 on the intra lane
    QCOMPARE(row_of(t, chain, 1, 2, 1).measured_start_ms.p50, 10.0);  // rank 1: twice as slow

    const PipelineCheck& c = check_of(t, chain, 0);
    QCOMPARE(c.iterations, 2);
    QCOMPARE(c.iterations_in_order, 2);
    QVERIFY(c.first_disorder.empty());
    QCOMPARE(c.measured_span_ms.p50, 6.0);
    QCOMPARE(*c.predicted_span_ms, 8.0);
    QCOMPARE(*c.predicted_in_order, false);
    QCOMPARE(
        c.predicted_disorder,
        std::string("intra lane started ReduceScatter 0, AllGather 0, ReduceScatter 1, AllGather 1; issue "
                    "order ReduceScatter 0, ReduceScatter 1, AllGather 0, AllGather 1"));
    // SAA's two stages are on different lanes: both orders agree there.
    const PipelineCheck& saa = check_of(t, index_of(t, pipeline_named(t, 0, "SAA")), 1);
    QCOMPARE(saa.iterations_in_order, 2);
    QCOMPARE(*saa.predicted_in_order, true);
    QCOMPARE(t.slowest_rank, 1);
    QCOMPARE(t.checks.size(), std::size_t{8});  // 4 pipelines x 2 ranks
    QCOMPARE(t.rows.size(), std::size_t{2 * (4 + 6 + 4 + 6)});
  }

  void aStepOutOfOrderIsNamed() {
    Fixture f = fixture();
    // Rank 0, iteration 1: the intra lane ran AllGather 0 before ReduceScatter 1 of the forward chain.
    StepSample *rs1 = nullptr, *ag0 = nullptr;
    for (StepSample& s : f.measured) {
      if (s.rank != 0 || s.iteration != 1 || s.phase != 0) continue;
      if (s.op == "RS>A2A>AG:ReduceScatter" && s.chunk == 1) rs1 = &s;
      if (s.op == "RS>A2A>AG:AllGather" && s.chunk == 0) ag0 = &s;
    }
    QVERIFY(rs1 && ag0);
    std::swap(rs1->start_ns, ag0->start_ns);
    std::swap(rs1->end_ns, ag0->end_ns);
    const StepTimeline t = step_timeline(f.schedule, f.W, f.measured, f.predicted);
    const PipelineCheck& c = check_of(t, index_of(t, pipeline_named(t, 0, "RS>A2A>AG")), 0);
    QCOMPARE(c.iterations, 2);
    QCOMPARE(c.iterations_in_order, 1);
    QVERIFY2(
        c.first_disorder.starts_with("rank 0 iteration 1: intra lane started ReduceScatter 0, AllGather 0, "
                                     "ReduceScatter 1"),
        c.first_disorder.c_str());
  }

  void incompleteIterationsAreNotCounted() {
    Fixture f = fixture();
    std::erase_if(f.measured, [](const StepSample& s) {
      return s.rank == 1 && s.iteration == 0 && s.op == "SAA:AllGather" && s.phase == 0 && s.chunk == 1;
    });
    f.predicted.clear();
    const StepTimeline t = step_timeline(f.schedule, f.W, f.measured, f.predicted);
    const std::size_t saa = index_of(t, pipeline_named(t, 0, "SAA"));
    QCOMPARE(check_of(t, saa, 1).iterations, 1);
    QCOMPARE(check_of(t, saa, 0).iterations, 2);
    QVERIFY(!check_of(t, saa, 0).predicted_in_order.has_value());
    QVERIFY(!row_of(t, saa, 0, 0, 0).predicted_start_ms.has_value());
    QCOMPARE(row_of(t, saa, 0, 0, 0).predicted_position, -1);
  }

  void aProjectRunIsReadThroughItsValidation() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("p.sqlite").toStdString();
    const Fixture f = fixture();
    std::int64_t measured = 0, validation = 0, grid = 0, calibration = 0;
    {
      db::Database d = db::Database::open(path, true);
      db::RunInfo info;
      info.name = "tiny";
      info.kind = "calibration";
      info.started_at = "2026-12-02T00:00:00Z";
      info.backend = "cpu";
      info.ranks = 4;
      calibration = d.begin_run(info);
      d.finish_run(calibration);
      info.kind = "measured";
      info.config_json = kConfig;
      measured = d.begin_run(info);
      const auto rows = [&](const std::vector<StepSample>& samples) {
        std::vector<db::EventRow> out;
        for (const StepSample& s : samples) {
          db::EventRow r;
          r.rank = s.rank;
          r.lane = 1;
          r.schedule = d.intern(s.schedule);
          r.iteration = s.iteration;
          r.phase = s.phase;
          r.op = d.intern(s.op);
          r.group = d.intern("EP");
          r.purpose = d.intern(s.purpose);
          r.chunk = s.chunk;
          r.start_ns = s.start_ns;
          r.end_ns = s.end_ns;
          out.push_back(r);
        }
        return out;
      };
      d.add_events(measured, rows(f.measured));
      d.add_predictions(measured, rows(f.predicted));
      d.finish_run(measured);
      info.kind = "validation";
      info.config_json.clear();
      validation = d.begin_run(info);
      d.set_result(validation, R"({"layers": [{"measured_run": )" + std::to_string(measured) + "}]}");
      d.finish_run(validation);
      grid = d.begin_run(info);
      d.set_result(grid, R"({"layers": [{"measured_run": 2}, {"measured_run": 7}]})");
      d.finish_run(grid);
    }
    const db::Database d = db::Database::open(path, false);
    const StoredSteps by_validation = load_stored_steps(d, validation);
    QCOMPARE(by_validation.run, measured);
    QCOMPARE(by_validation.steps, std::int64_t{2});
    QCOMPARE(by_validation.schedules, (std::vector<std::string>{"S1F", "S2F"}));
    QCOMPARE(load_stored_steps(d, measured).measured.size(),
             f.measured.size() - 1);  // "experts" has no chunk
    const StepTimeline t = stored_step_timeline(by_validation, "S2F");
    const PipelineCheck& c = check_of(t, index_of(t, pipeline_named(t, 0, "RS>A2A>AG")), 0);
    QCOMPARE(c.iterations_in_order, 2);
    QCOMPARE(*c.predicted_span_ms, 8.0);

    const auto refusal = [&](std::optional<std::int64_t> run) -> std::string {
      try {
        load_stored_steps(d, run);
      } catch (const std::exception& e) {
        return e.what();
      }
      return "";
    };
    QCOMPARE(refusal(grid), "run " + std::to_string(grid) +
                                " validated 2 layers: pass one of their measured runs with --run (2, 7)");
    QCOMPARE(refusal(calibration), "run " + std::to_string(calibration) +
                                       " is a calibration run, not a measured one (`parm runs` lists the "
                                       "measured runs)");
    QCOMPARE(refusal(99), path + ": no run 99");
    QVERIFY(refusal(std::nullopt).find("validated 2 layers") != std::string::npos);  // the newest validation
  }
};

QTEST_GUILESS_MAIN(TestPipelineSteps)
#include "test_engine_pipeline_steps.moc"
