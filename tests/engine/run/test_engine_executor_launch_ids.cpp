// The executor's launch ids, capture brackets and NVTX ranges, on the enqueue-only backend (no device, no
// MPI): every traced op occurrence and pipeline step gets a launch id unique on the rank for the run, its
// launches are bracketed by push_launch(id) / pop_launch() of a live capture (never of an unavailable one),
// and one NVTX range per op and step (plus one around each pipeline) is pushed, traced or not, with the op's
// name, its lane's category and the iteration. The NVTX side is read back through the test's recording
// injection library (NVTX_INJECTION64_PATH), the host record through NvtxRangeLog.
#include <dlfcn.h>

#include <QtTest>
#include <cstdlib>
#include <set>

#include "engine/run/executor.h"
#include "engine/run/tensor_init.h"
#include "engine/run/worker.h"
#include "tests/engine/run/enqueue_only_backend.h"
#include "tests/profiler/nvtx_recording_injection.h"

using namespace parm;

namespace {

// A capture that records the brackets it is given.
class RecordingCapture final : public backend::ActivityCapture {
 public:
  explicit RecordingCapture(std::string unavailable = {}) : unavailable_(std::move(unavailable)) {}
  const std::string& unavailable() const override { return unavailable_; }
  void push_launch(std::int64_t id) override {
    pushed.push_back(id);
    deepest = std::max(deepest, ++depth);
  }
  void pop_launch() override {
    ++pops;
    --depth;
  }
  void collect(profiler::GpuActivity&) override {}

  std::vector<std::int64_t> pushed;
  int pops = 0, depth = 0, deepest = 0;

 private:
  std::string unavailable_;
};

Config tiny_config() {
  Config c;
  c.name = "tiny";
  c.layer.batch = 2;
  c.layer.seq_len = 8;
  c.layer.hidden = 8;
  c.layer.ffn_hidden = 16;
  c.layer.num_experts = 8;
  c.layer.top_k = 2;
  c.layer.min_capacity = 1;
  c.parallel = {8, 4, 2, 2};
  c.run.seed = 5;
  c.run.iterations = 1;  // expected_trace_events counts per measured iteration
  return c;
}

std::size_t pipelines_of(const Schedule& s) {
  std::size_t n = 0;
  for (const auto* list : {&s.forward, &s.backward})
    for (const Op& op : *list) n += op.kind == OpKind::Pipeline;
  return n;
}

const test::NvtxRecording* tool() {
#ifdef PARM_NVTX_INJECTION_PATH
  void* lib = ::dlopen(PARM_NVTX_INJECTION_PATH, RTLD_NOW | RTLD_NOLOAD);
  if (!lib) return nullptr;
  const auto get = reinterpret_cast<const test::NvtxRecording* (*)()>(::dlsym(lib, "parm_nvtx_recording"));
  return get ? get() : nullptr;
#else
  return nullptr;
#endif
}

}  // namespace

class TestExecutorLaunchIds : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
#ifdef PARM_NVTX_INJECTION_PATH
    QCOMPARE(::setenv("NVTX_INJECTION64_PATH", PARM_NVTX_INJECTION_PATH, 1),
             0);  // before the first NVTX call
#endif
  }

  void everyTracedOpGetsItsOwnBracketedLaunch_data() {
    QTest::addColumn<int>("kind");
    for (ScheduleKind k : kAllSchedules) QTest::newRow(std::string(to_string(k)).c_str()) << int(k);
  }

  void everyTracedOpGetsItsOwnBracketedLaunch() {
    QFETCH(int, kind);
    const Config c = tiny_config();
    const RankLayout layout = make_rank_layout(c, 3);
    test::EnqueueOnlyBackend backend(layout);
    comm::CommGroups transport;  // unused: drop_tokens, no capacity agreement
    const Schedule schedule = build_schedule(static_cast<ScheduleKind>(kind), c.parallel);
    LayerExecutor<float> exec(backend, c, layout, transport, schedule);
    const std::int64_t sm = c.layer.tokens() * c.layer.hidden;
    std::vector<float> x(static_cast<std::size_t>(sm)), dout(x.size());
    fill(x.data(), sm, c.run.seed, TensorId::Input, 0, 1.0);
    fill(dout.data(), sm, c.run.seed, TensorId::OutputGrad, 0, 1.0);

    const std::size_t per_iteration = expected_trace_events(c, {schedule.kind});
    const std::size_t pipelines = pipelines_of(schedule);
    const bool fused = schedule.kind == ScheduleKind::S1F || schedule.kind == ScheduleKind::S2F;
    QCOMPARE(pipelines > 0, fused);  // the fused schedules exercise the per-step ranges
    const test::NvtxRecording* nvtx = tool();
    QCOMPARE(nvtx != nullptr, profiler::NvtxRanges::compiled_in());

    // Untraced: NVTX ranges still, no launch ids, no brackets.
    RecordingCapture capture;
    profiler::NvtxRangeLog log(4 * (per_iteration + pipelines));
    const std::size_t tool_pushes_before = nvtx ? nvtx->pushes.size() : 0;
    const int tool_pops_before = nvtx ? nvtx->pops : 0;
    exec.set_gpu_capture(&capture, &log);
    exec.forward(x);
    exec.backward(dout);
    QVERIFY(capture.pushed.empty());
    QCOMPARE(log.size(), per_iteration + pipelines);
    for (std::size_t i = 0; i < log.size(); ++i) QCOMPARE(log[i].launch_id, std::int64_t(0));
    if (nvtx) {
      QCOMPARE(nvtx->pushes.size() - tool_pushes_before, per_iteration + pipelines);
      QCOMPARE(nvtx->pops - tool_pops_before, int(per_iteration + pipelines));
    }

    // Traced, two iterations, with a second executor on the same tracer: ids stay unique.
    profiler::OpTracer tracer(4 * per_iteration);
    profiler::GpuActivity activity;
    log.move_into(activity);  // drop the untraced ranges
    activity = {};
    for (std::int32_t it = 0; it < 2; ++it) {
      exec.set_trace(&tracer, it);
      exec.forward(x);
      exec.backward(dout);
    }
    {
      LayerExecutor<float> other(backend, c, layout, transport, schedule);
      other.set_trace(&tracer, 0);
      other.forward(x);
      other.backward(dout);
    }
    const auto events = tracer.events();
    QCOMPARE(events.size(), 3 * per_iteration);
    std::set<std::int64_t> ids;
    for (const auto& e : events) {
      QVERIFY(e.launch_id > 0);
      ids.insert(e.launch_id);
    }
    QCOMPARE(ids.size(), events.size());
    // The capture saw exactly the first executor's launches, in enqueue order, each closed before the next.
    QCOMPARE(capture.pushed.size(), 2 * per_iteration);
    QCOMPARE(capture.pops, int(capture.pushed.size()));
    QCOMPARE(capture.deepest, 1);
    for (std::size_t i = 0; i < capture.pushed.size(); ++i) QVERIFY(ids.count(capture.pushed[i]) == 1);

    // The kept ranges: one per traced op and step (its launch id, lane category, name, iteration) and one
    // per pipeline (launch id 0).
    log.move_into(activity);
    QCOMPARE(activity.nvtx.size(), 2 * (per_iteration + pipelines));
    const std::vector<std::string>& names = tracer.names();
    std::size_t matched = 0;
    for (const profiler::NvtxRangeRecord& r : activity.nvtx) {
      if (r.launch_id == 0) continue;
      const auto e = std::find_if(events.begin(), events.end(),
                                  [&](const auto& ev) { return ev.launch_id == r.launch_id; });
      QVERIFY(e != events.end());
      ++matched;
      QCOMPARE(r.category, e->lane + 1);
      QCOMPARE(r.payload, std::uint64_t(e->iteration));
      QCOMPARE(activity.names[std::size_t(r.text)], names[std::size_t(e->op)]);
    }
    QCOMPARE(matched, 2 * per_iteration);

    // An unavailable capture is never bracketed.
    RecordingCapture off("CUPTI unavailable: CUPTI_ERROR_UNKNOWN");
    exec.set_gpu_capture(&off, nullptr);
    exec.forward(x);
    exec.backward(dout);
    QVERIFY(off.pushed.empty());
    if (nvtx) QCOMPARE(nvtx->depth, 0);
  }
};

QTEST_APPLESS_MAIN(TestExecutorLaunchIds)
#include "test_engine_executor_launch_ids.moc"
