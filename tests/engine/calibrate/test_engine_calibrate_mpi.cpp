// The calibration library (engine/calibrate) on 2 and 4 ranks: the sweep, the harness's ways of timing an
// op (median call of the slowest rank; on the backend's streams, between events, not around the enqueue),
// the concurrent timing behind the interference factor, the collectives' data check (#wrong) against a
// reference simulated here, what a calibration records about where it ran, and the collective, sync and
// fused-pipeline families on a real layout's communicators (every communicator, each size's data checked),
// checked by what they fit.
// Every rank enters the same collectives before asserting (tests/engine/mpi_test_main.h).
#include <QtTest>
#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/backend/cpu/cpu_streams.h"
#include "engine/calibrate/collective_check.h"
#include "engine/calibrate/collectives.h"
#include "engine/calibrate/harness.h"
#include "engine/calibrate/overheads.h"
#include "engine/calibrate/pipeline.h"
#include "engine/calibrate/run_environment.h"
#include "engine/comm/comm_mpi.h"
#include "engine/comm/mpi_world.h"
#include "engine/core/rank_layout.h"
#include "tests/engine/mpi_test_main.h"

using namespace parm;
using namespace parm::calibrate;
using parm::test::world_size;
using namespace std::chrono_literals;

namespace {

// Static: MPI is finalised by the test main, and the world's destructor then finds it finalised.
const comm::MpiWorld& world() {
  static const comm::MpiWorld w;
  return w;
}

SweepOptions quick_sweep() {
  SweepOptions s;
  s.begin = 4096;
  s.end = 65536;
  s.iters = 3;
  s.warmup = 1;
  s.quick = true;
  return s;
}

// EP 2 with MP 1 on 2 ranks; EP 2 with MP = ESP 2 on 4.
Config layout_config() {
  Config c;
  c.name = "calibrate-test";
  c.layer.batch = 2;
  c.layer.seq_len = 8;
  c.layer.hidden = 8;
  c.layer.ffn_hidden = 16;
  c.layer.num_experts = 8;
  c.layer.top_k = 2;
  const int n = world_size() >= 4 ? 2 : 1;
  c.parallel = {world_size(), world_size(), n, n};
  return c;
}

// Enqueues `work` on the cpu backend's `lane` stream: a stand-in op whose run time the test controls.
void enqueue_on(backend::Backend& b, Lane lane, std::function<void()> work) {
  backend::cpu::cpu_stream(b.stream(lane)).enqueue(std::move(work));
}

const Measurement* find(const std::vector<Measurement>& fits, const std::string& op,
                        const std::string& communicator = "") {
  for (const Measurement& m : fits)
    if (m.op == op && (communicator.empty() || m.communicator == communicator)) return &m;
  return nullptr;
}

// What rank `me` of `n` receives, simulated from every rank's pattern buffer the way each collective is
// defined (not through expected_value): the reference the checker must agree with.
std::vector<float> simulated_output(CheckedCollective op, int n, int me, std::size_t c) {
  std::vector<std::vector<float>> send;
  for (int q = 0; q < n; ++q) send.push_back(pattern_buffer(q, input_elements(op, n, c)));
  std::vector<float> out;
  switch (op) {
    case CheckedCollective::AlltoAll:  // peer q's block `me`, in peer order
      for (int q = 0; q < n; ++q)
        out.insert(out.end(), send[q].begin() + std::ptrdiff_t(me * c),
                   send[q].begin() + std::ptrdiff_t((me + 1) * c));
      break;
    case CheckedCollective::AllGather:
      for (int q = 0; q < n; ++q) out.insert(out.end(), send[q].begin(), send[q].end());
      break;
    case CheckedCollective::ReduceScatter:
    case CheckedCollective::AllReduce: {
      const std::size_t first = op == CheckedCollective::ReduceScatter ? std::size_t(me) * c : 0;
      out.assign(c, 0.0f);
      for (int q = 0; q < n; ++q)
        for (std::size_t i = 0; i < c; ++i) out[i] += send[q][first + i];
      break;
    }
    case CheckedCollective::SendRecv:
      out = send[(me + n - 1) % n];
      break;
  }
  return out;
}

// A communicator whose AlltoAll delivers one wrong element: the calibration of a broken interconnect.
class CorruptingAlltoAll : public backend::StreamCommunicator {
 public:
  explicit CorruptingAlltoAll(std::unique_ptr<backend::StreamCommunicator> inner)
      : inner_(std::move(inner)) {}
  int size() const override { return inner_->size(); }
  int rank() const override { return inner_->rank(); }
  std::string name() const override { return inner_->name(); }
  void all_to_all(backend::Stream& s, const void* send, void* recv, std::size_t count,
                  comm::DataType type) override {
    inner_->all_to_all(s, send, recv, count, type);
    backend::cpu::cpu_stream(s).enqueue([recv] { static_cast<float*>(recv)[1] += 1.0f; });
  }
  void all_to_all_v(backend::Stream& s, const void* send, std::vector<std::size_t> sc, void* recv,
                    std::vector<std::size_t> rc, comm::DataType type) override {
    inner_->all_to_all_v(s, send, std::move(sc), recv, std::move(rc), type);
  }
  void all_gather(backend::Stream& s, const void* send, void* recv, std::size_t count,
                  comm::DataType type) override {
    inner_->all_gather(s, send, recv, count, type);
  }
  void reduce_scatter(backend::Stream& s, const void* send, void* recv, std::size_t count,
                      comm::DataType type) override {
    inner_->reduce_scatter(s, send, recv, count, type);
  }
  void all_reduce(backend::Stream& s, void* buffer, std::size_t count, comm::DataType type,
                  comm::ReduceOp op) override {
    inner_->all_reduce(s, buffer, count, type, op);
  }
  void send_recv(backend::Stream& s, const void* send, std::size_t sn, int dst, void* recv, std::size_t rn,
                 int src, comm::DataType type) override {
    inner_->send_recv(s, send, sn, dst, recv, rn, src, type);
  }
  void barrier(backend::Stream& s) override { inner_->barrier(s); }

 private:
  std::unique_ptr<backend::StreamCommunicator> inner_;
};

}  // namespace

class TestCalibrate : public QObject {
  Q_OBJECT

 private slots:
  void sweepSizesFollowNcclTests() {
    QCOMPARE(sweep_sizes(64 * 1024, 16 * 1024 * 1024, 4, false),
             (std::vector<std::int64_t>{65536, 262144, 1048576, 4194304, 16777216}));
    QCOMPARE(sweep_sizes(64 * 1024, 16 * 1024 * 1024, 4, true),
             (std::vector<std::int64_t>{65536, 1048576, 16777216}));
    QCOMPARE(sweep_sizes(1000, 1000, 2, true), (std::vector<std::int64_t>{1000}));
    QCOMPARE(sweep_sizes(1000, 3000, 2, false), (std::vector<std::int64_t>{1000, 2000}));
  }

  // The last rank's calls take 20 ms: every rank reports at least that. One slow call in five on every rank
  // does not move the median.
  void timeOpIsTheMedianCallOfTheSlowestRank() {
    SweepOptions s = quick_sweep();
    s.iters = 5;
    s.warmup = 0;
    const Harness harness(world(), s);
    const bool last = world().rank() == world().size() - 1;
    const double slowest = harness.time_op([&] {
      if (last) std::this_thread::sleep_for(20ms);
    });
    int call = 0;
    const double median = harness.time_op([&] {
      if (call++ == 0) std::this_thread::sleep_for(200ms);
    });
    QVERIFY2(slowest >= 20.0, qPrintable(QString::number(slowest)));
    QVERIFY2(median < 200.0, qPrintable(QString::number(median)));
    QCOMPARE(call, 5);
  }

  // The same on a backend stream: the time is the ops' run on the stream (the enqueue itself returns at
  // once), the median of the timed calls (a slow lead-in call is not one of them) of the slowest rank. Every
  // call sleeps 1 ms, far longer than enqueueing the batch, so one lead-in call is enough.
  void timeEnqueuedIsTheMedianStreamTimeOfTheSlowestRank() {
    SweepOptions s = quick_sweep();
    s.iters = 5;
    s.warmup = 0;
    const Harness harness(world(), s);
    const auto b = backend::make_backend(parm::Backend::Cpu);
    backend::Stream& stream = b->stream(Lane::Compute);
    const bool last = world().rank() == world().size() - 1;
    const double slowest = harness.time_enqueued(*b, stream, [&] {
      enqueue_on(*b, Lane::Compute, [last] { std::this_thread::sleep_for(last ? 20ms : 1ms); });
    });
    std::atomic<int> ran{0};
    const double median = harness.time_enqueued(*b, stream, [&] {
      enqueue_on(*b, Lane::Compute, [&ran] {
        std::this_thread::sleep_for(ran++ == 1 ? 200ms : 1ms);  // 1: the first timed call
      });
    });
    QVERIFY2(slowest >= 20.0, qPrintable(QString::number(slowest)));
    QVERIFY2(median >= 1.0 && median < 200.0, qPrintable(QString::number(median)));
    QVERIFY2(ran.load() >= 1 + 5, qPrintable(QString::number(ran.load())));  // lead-in and timed calls
  }

  // A call far faster than its enqueueing (the stream overtakes the host) is rerun behind longer lead-ins,
  // on every rank alike, so collectives stay matched: 1 + 4 + 16 + 64 lead-in calls and 4 batches of 3.
  void timeEnqueuedRerunsAnOvertakenBatchBehindLongerLeadIns() {
    SweepOptions s = quick_sweep();
    s.warmup = 0;
    const Harness harness(world(), s);
    const auto b = backend::make_backend(parm::Backend::Cpu);
    std::atomic<int> ran{0};
    const double t = harness.time_enqueued(*b, b->stream(Lane::Compute), [&] {
      std::this_thread::sleep_for(2ms);  // the host's enqueueing is the slow part
      enqueue_on(*b, Lane::Compute, [&ran] { ++ran; });
    });
    QCOMPARE(ran.load(), 1 + 4 + 16 + 64 + 4 * s.iters);
    // Past the last lead-in it is timed as it can be: at the rate the host enqueues it.
    QVERIFY2(t >= 1.0, qPrintable(QString::number(t)));
  }

  // An op that starts on one stream and ends on another is timed from the call before it to its end there.
  void timeEnqueuedSpansTheStreamsOfTheOp() {
    SweepOptions s = quick_sweep();
    s.warmup = 0;
    const Harness harness(world(), s);
    const auto b = backend::make_backend(parm::Backend::Cpu);
    const auto handoff = b->make_event();
    const double t = harness.time_enqueued(*b, b->stream(Lane::Compute), b->stream(Lane::Inter), [&] {
      enqueue_on(*b, Lane::Compute, [] { std::this_thread::sleep_for(3ms); });
      b->stream(Lane::Compute).record(*handoff);
      b->stream(Lane::Inter).wait(*handoff);
      enqueue_on(*b, Lane::Inter, [] { std::this_thread::sleep_for(2ms); });
    });
    QVERIFY2(t >= 5.0, qPrintable(QString::number(t)));
  }

  void timeEnqueuedDuringRunsTheBackgroundBesideTheOp() {
    const Harness harness(world(), quick_sweep());
    const auto b = backend::make_backend(parm::Backend::Cpu);
    std::atomic<int> background{0}, op{0};
    const double t = harness.time_enqueued_during(
        *b, b->stream(Lane::Inter),
        [&] {
          enqueue_on(*b, Lane::Inter, [&op] {
            ++op;
            std::this_thread::sleep_for(2ms);
          });
        },
        [&] { enqueue_on(*b, Lane::Intra, [&background] { ++background; }); });
    QCOMPARE(background.load(), quick_sweep().iters);
    QCOMPARE(op.load(), quick_sweep().warmup + quick_sweep().iters);
    QVERIFY2(t >= 2.0, qPrintable(QString::number(t)));
  }

  // The checker agrees with each collective simulated from the pattern, and counts what a broken transfer
  // would leave: corrupted elements, a NaN (an output never written), one element off by one.
  void collectiveCheckCountsWrongElements() {
    const CheckedCollective kinds[] = {CheckedCollective::AlltoAll, CheckedCollective::AllGather,
                                       CheckedCollective::ReduceScatter, CheckedCollective::AllReduce,
                                       CheckedCollective::SendRecv};
    for (const CheckedCollective op : kinds) {
      const int n = 4, me = 1;
      const std::size_t c = 1000;  // past the pattern's period in index (977): rank and index both matter
      std::vector<float> out = simulated_output(op, n, me, c);
      QCOMPARE(out.size(), output_elements(op, n, c));
      QCOMPARE(count_wrong(op, n, me, c, out.data()), std::int64_t{0});
      // AllReduce and AllGather give every rank the same output; the others give each rank its own.
      if (op != CheckedCollective::AllReduce && op != CheckedCollective::AllGather)
        QVERIFY(count_wrong(op, n, me + 1, c, out.data()) > 0);
      out[0] += 1.0f;
      out[out.size() / 2] = std::numeric_limits<float>::quiet_NaN();
      out.back() = -out.back() - 1.0f;
      QCOMPARE(count_wrong(op, n, me, c, out.data()), std::int64_t{3});
    }
    // Every sum is an exact small integer: 4 ranks' values of [-30, 30].
    QCOMPARE(pattern_value(0, 0), -30.0f);
    QCOMPARE(pattern_value(1, 0), -23.0f);
    QCOMPARE(pattern_value(0, 1), -17.0f);
    QVERIFY(pattern_value(0, 977) == pattern_value(0, 0));
  }

  // What the calibration records about where it ran: the transport per backend, the NCCL_* variables only,
  // where NCCL's topology is, and this rank's devices gathered to rank 0.
  void environmentIsRecorded() {
    QCOMPARE(transport_description("cuda", "NCCL 2.28.9", "Open MPI v4.1.4"), std::string("NCCL 2.28.9"));
    QCOMPARE(transport_description("cuda+mpi", "", "Open MPI v4.1.4"),
             std::string("MPI staged through pinned host memory (Open MPI v4.1.4)"));
    QCOMPARE(transport_description("cpu", "", "Open MPI v4.1.4"), std::string("Open MPI v4.1.4"));
    const char* env[] = {"PATH=/bin", "NCCL_DEBUG=INFO", "NCCL_ALGO=Ring",
                         "XNCCL_X=1", "NCCL_IB_HCA=",    nullptr};
    const std::map<std::string, std::string> nccl = nccl_environment(env);
    QCOMPARE(nccl, (std::map<std::string, std::string>{
                       {"NCCL_ALGO", "Ring"}, {"NCCL_DEBUG", "INFO"}, {"NCCL_IB_HCA", ""}}));
    QVERIFY(nccl_topology_note("cpu", nccl).empty());
    QVERIFY(nccl_topology_note("cuda", nccl).find("each rank's stderr") != std::string::npos);
    QVERIFY(nccl_topology_note("cuda", {}).find("NCCL_DEBUG=INFO") != std::string::npos);
    QVERIFY(nccl_topology_note("cuda", {}).find("not recorded") != std::string::npos);
    const std::string mpi = mpi_library_version();
    QVERIFY2(!mpi.empty() && mpi.find(',') == std::string::npos, mpi.c_str());

    const auto b = backend::make_backend(parm::Backend::Cpu);
    const RecordedEnvironment where = record_environment(*b, world());
    QCOMPARE(where.backend, std::string("cpu"));
    QCOMPARE(where.transport, mpi);
    QVERIFY(where.comm_library.empty());
    QCOMPARE(where.devices.size(), world().rank() == 0 ? std::size_t(world().size()) : std::size_t{0});
    for (const std::string& d : where.devices) QCOMPARE(d, std::string("cpu"));
    std::ostringstream table;
    write_environment(table, where);
    if (world().rank() == 0)
      QCOMPARE(table.str(), "# backend cpu: collectives over " + mpi +
                                "\n# devices: " + std::to_string(world().size()) + " x cpu\n");
    Calibration c;
    apply_environment(where, c);
    QCOMPARE(c.transport, mpi);
    QCOMPARE(c.devices, where.devices);
  }

  // A wrong element in a real run of the collective fails the calibration on every rank alike, in one line
  // naming the op, the communicator and the size; the table already shows the row with its #wrong.
  void wrongDataFailsTheCalibration() {
    const Config c = layout_config();
    const RankLayout layout = make_rank_layout(c, world().rank());
    const auto b = backend::make_backend(c.run.backend);
    comm::CommGroups groups = comm::make_mpi_groups(layout, 20'000ms);
    backend::StreamGroups streams = b->make_groups(groups);
    auto& ep = streams.by_kind[static_cast<std::size_t>(comm::GroupKind::EP)];
    ep = std::make_unique<CorruptingAlltoAll>(std::move(ep));
    const Harness harness(world(), quick_sweep());
    std::vector<Measurement> fits;
    std::ostringstream table;
    std::string error;
    try {
      time_collectives(c, *b, streams, harness, fits, table);
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
    b->synchronize();
    world().barrier();
    QCOMPARE(error, std::string("calibration: alltoall on EP of 4096 B: 1 wrong elements in the data check "
                                "(#wrong)"));
    QVERIFY2(table.str().find("float") != std::string::npos, qPrintable(QString::fromStdString(table.str())));
    QVERIFY(fits.empty());  // nothing fitted from a broken collective
  }

  // The families on the layout's groups: what each fits, on which communicator and group size, and the
  // pipeline's step sizes (size / W floats, one EP peer's chunk).
  void familiesFitTheLayoutsGroups() {
    const Config c = layout_config();
    const RankLayout layout = make_rank_layout(c, world().rank());
    const auto b = backend::make_backend(c.run.backend);
    comm::CommGroups groups = comm::make_mpi_groups(layout, 20'000ms);
    const backend::StreamGroups streams = b->make_groups(groups);
    SweepOptions full = quick_sweep();  // the same 3 sizes as a full sweep: every communicator is measured
    full.quick = false;
    full.factor = 4;
    const Harness harness(world(), full);
    std::vector<Measurement> fits;
    std::ostringstream table;
    const double interference = time_collectives(c, *b, streams, harness, fits, table);
    time_sync_overheads(c, *b, streams, harness, fits, table);
    time_pipeline(c, layout, *b, groups, harness, fits, table);
    b->synchronize();
    world().barrier();

    const int w = groups.ep->size(), n = groups.mp->size();
    QCOMPARE(w, 2);
    QVERIFY(interference >= 1.0);
    const Measurement* a2a = find(fits, "alltoall");
    QVERIFY(a2a);
    QCOMPARE(a2a->communicator, std::string("EP"));
    QCOMPARE(a2a->group_size, w);
    QCOMPARE(a2a->samples.size(), std::size_t(3));
    QVERIFY(a2a->fit.fitted);
    QVERIFY(a2a->fit.line.alpha >= 0 && a2a->fit.line.beta >= 0);
    QVERIFY(find(fits, "p2p"));
    QVERIFY(find(fits, "sync"));
    QCOMPARE(find(fits, "allgather") != nullptr, n > 1);  // a group of one is not measured
    // Every communicator the collective runs on, the cost model's first; each size's data was checked.
    QVERIFY(find(fits, "alltoall", "EP#fused"));
    QCOMPARE(find(fits, "alltoall")->communicator, std::string("EP"));
    for (const char* comm : {"ESP", "MP#fused", "ESP#fused"}) {
      QCOMPARE(find(fits, "allgather", comm) != nullptr, n > 1);
      QCOMPARE(find(fits, "reducescatter", comm) != nullptr, n > 1);
    }
    QCOMPARE(find(fits, "allreduce", "ESP") != nullptr, n > 1);
    if (n > 1) QCOMPARE(find(fits, "allgather")->communicator, std::string("MP"));
    QCOMPARE(find(fits, "p2p")->communicator, std::string("EP"));
    QVERIFY2(table.str().find("#wrong") != std::string::npos,
             qPrintable(QString::fromStdString(table.str())));
    QVERIFY2(table.str().find("# alltoall on EP#fused (2 ranks)") != std::string::npos,
             qPrintable(QString::fromStdString(table.str())));
    QCOMPARE(find(fits, "sync_mp") != nullptr, n > 1);
    const Measurement* pipe = find(fits, "pipeline");
    QVERIFY(pipe);
    QCOMPARE(pipe->group_size, w);
    std::vector<double> steps;
    for (const FitSample& s : pipe->samples) steps.push_back(s.n);
    QCOMPARE(steps, (std::vector<double>{4096.0 / w, 16384.0 / w, 65536.0 / w}));
    QVERIFY(pipe->fit.fitted);
    const std::string header = "# pipeline (SAA over 2 steps, MP " + std::to_string(n) + ")";
    QVERIFY2(table.str().find(header) != std::string::npos, qPrintable(QString::fromStdString(table.str())));
  }
};

PARM_MPI_QTEST_MAIN(TestCalibrate)
#include "test_engine_calibrate_mpi.moc"
