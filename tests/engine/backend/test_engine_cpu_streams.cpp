// The cpu backend's streams and events (engine/backend/cpu/cpu_streams.h, through backend.h): per-stream
// order, cross-stream waits, real concurrency between streams, failure propagation with skipping, event
// times on the host clock, host memory buffers and the bare GEMM op.
#include <QtTest>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/backend/cpu/cpu_streams.h"
#include "profiler/op_tracer.h"

using namespace parm;
using namespace parm::backend;
using namespace std::chrono_literals;

namespace {

// Every caller announces itself and waits (bounded) until `parties` have arrived: true only if they were all
// running at the same time.
struct Rendezvous {
  explicit Rendezvous(int n) : parties(n) {}
  bool meet() {
    arrived.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (arrived.load() < parties)
      if (std::chrono::steady_clock::now() > deadline)
        return false;
      else
        std::this_thread::sleep_for(100us);
    return true;
  }
  const int parties;
  std::atomic<int> arrived{0};
};

std::string error_of(backend::Event& e) {
  try {
    e.synchronize();
  } catch (const std::exception& x) {
    return x.what();
  }
  return {};
}

void enqueue(backend::Backend& b, Lane lane, std::function<void()> work) {
  cpu::cpu_stream(b.stream(lane)).enqueue(std::move(work));
}

}  // namespace

class TestCpuStreams : public QObject {
  Q_OBJECT
 private slots:
  void orderPerStream() {
    auto b = make_backend(parm::Backend::Cpu);
    QCOMPARE(b->name(), std::string_view("cpu"));
    std::vector<int> seen[kLaneCount];  // each written by its own stream's thread only
    for (int i = 0; i < 300; ++i) {
      const int lane = i % kLaneCount;
      enqueue(*b, static_cast<Lane>(lane), [&seen, lane, i] {
        if (i % 7 == 0) std::this_thread::sleep_for(100us);  // uneven durations
        seen[lane].push_back(i);
      });
    }
    b->synchronize();
    for (int lane = 0; lane < kLaneCount; ++lane) {
      QCOMPARE(b->stream(static_cast<Lane>(lane)).lane(), static_cast<Lane>(lane));
      QCOMPARE(seen[lane].size(), std::size_t(100));
      for (std::size_t k = 0; k < seen[lane].size(); ++k) QCOMPARE(seen[lane][k], int(k) * kLaneCount + lane);
    }
  }

  void crossStreamWaitsOrderWork() {
    // A chain bouncing between streams through events, each step slow enough that an unordered successor
    // would read a stale value: step s on stream s%3 reads step s-1's output and must see it.
    auto b = make_backend(parm::Backend::Cpu);
    constexpr int kSteps = 12;
    std::atomic<int> value{0};
    std::vector<int> read(kSteps, -1);
    std::vector<std::unique_ptr<backend::Event>> events;
    for (int s = 0; s < kSteps; ++s) {
      Stream& stream = b->stream(static_cast<Lane>(s % kLaneCount));
      if (s > 0) stream.wait(*events.back());
      enqueue(*b, stream.lane(), [&, s] {
        read[s] = value.load();
        std::this_thread::sleep_for(5ms);
        value.store(s + 1);
      });
      events.push_back(b->make_event());
      stream.record(*events.back());
    }
    events.back()->synchronize();
    QVERIFY(events.back()->done());
    for (int s = 0; s < kSteps; ++s) QCOMPARE(read[s], s);

    // A waiting stream also holds back the work queued behind the wait.
    std::atomic<int> order{0};
    int late_pos = -1, behind_pos = -1;
    auto slow = b->make_event();
    enqueue(*b, Lane::Compute, [] { std::this_thread::sleep_for(30ms); });
    b->stream(Lane::Compute).record(*slow);
    b->stream(Lane::Inter).wait(*slow);
    enqueue(*b, Lane::Inter, [&] { late_pos = order++; });
    enqueue(*b, Lane::Inter, [&] { behind_pos = order++; });
    b->stream(Lane::Inter).synchronize();
    QVERIFY(late_pos >= 0 && behind_pos == late_pos + 1);
    b->synchronize();
  }

  void streamsRunConcurrently() {
    // One task per stream, each waiting until all three run: only possible if the streams run at once.
    auto b = make_backend(parm::Backend::Cpu);
    Rendezvous meeting(kLaneCount);
    std::atomic<bool> met[kLaneCount] = {false, false, false};
    for (int lane = 0; lane < kLaneCount; ++lane)
      enqueue(*b, static_cast<Lane>(lane), [&, lane] { met[lane] = meeting.meet(); });
    b->synchronize();
    for (int lane = 0; lane < kLaneCount; ++lane) QVERIFY2(met[lane].load(), "streams did not overlap");
  }

  void eventTimesBracketTheWork() {
    // Two events around a 20 ms task on one stream: their interval covers the task, measured on the host
    // clock the tracer uses, and does not include the time the host spent enqueueing before.
    auto b = make_backend(parm::Backend::Cpu);
    auto before = b->make_event(), after = b->make_event();
    Stream& s = b->stream(Lane::Intra);
    const std::int64_t t0 = profiler::now_ns();
    s.record(*before);
    enqueue(*b, Lane::Intra, [] { std::this_thread::sleep_for(20ms); });
    s.record(*after);
    s.synchronize();
    const std::int64_t t1 = profiler::now_ns();
    const std::int64_t start = b->event_time_ns(*before), end = b->event_time_ns(*after);
    QVERIFY(t0 <= start && start < end && end <= t1);
    QVERIFY2(end - start >= 20'000'000, qPrintable(QString::number(end - start)));
    // Re-recording moves the event to the stream's new position.
    enqueue(*b, Lane::Intra, [] { std::this_thread::sleep_for(5ms); });
    s.record(*after);
    after->synchronize();
    QVERIFY(b->event_time_ns(*after) >= end + 5'000'000);
  }

  void failureSkipsLaterWorkAndRethrows() {
    auto b = make_backend(parm::Backend::Cpu);
    std::atomic<bool> ran_dependent{false}, ran_same_stream{false}, ran_later{false};
    auto failed = b->make_event(), same = b->make_event(), dependent = b->make_event();
    enqueue(*b, Lane::Compute, [] {
      std::this_thread::sleep_for(10ms);
      throw std::runtime_error("boom in compute");
    });
    b->stream(Lane::Compute).record(*failed);
    enqueue(*b, Lane::Compute, [&] { ran_same_stream = true; });
    b->stream(Lane::Compute).record(*same);
    b->stream(Lane::Intra).wait(*failed);
    enqueue(*b, Lane::Intra, [&] { ran_dependent = true; });
    b->stream(Lane::Intra).record(*dependent);
    QCOMPARE(error_of(*failed), std::string("boom in compute"));
    // Enqueued after the failure, on a stream that never failed, with no dependency: still skipped.
    enqueue(*b, Lane::Inter, [&] { ran_later = true; });
    QCOMPARE(error_of(*same), std::string("boom in compute"));
    QCOMPARE(error_of(*dependent), std::string("boom in compute"));
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, b->stream(Lane::Inter).synchronize());
    QVERIFY(!ran_same_stream && !ran_dependent && !ran_later);
    try {
      b->synchronize();
      QFAIL("synchronize did not rethrow");
    } catch (const std::runtime_error& e) {
      QCOMPARE(std::string(e.what()), std::string("boom in compute"));
    }
  }

  void hostBuffers() {
    auto b = make_backend(parm::Backend::Cpu);
    Buffer<double> buf(b->allocator(), 1000);
    QCOMPARE(buf.size(), std::size_t(1000));
    QVERIFY(reinterpret_cast<std::uintptr_t>(buf.data()) % 64 == 0);
    std::vector<double> host(1000), back(1000);
    for (std::size_t i = 0; i < host.size(); ++i) host[i] = 0.5 * double(i);
    b->allocator().copy_from_host(buf.data(), host.data(), host.size() * sizeof(double));
    // An op on a stream (the compute interface) moves it; the host reads the result back.
    Buffer<double> out(b->allocator(), 1000);
    b->compute<double>().scale(b->stream(Lane::Compute), buf.view(), 2.0);
    b->compute<double>().copy(b->stream(Lane::Compute), buf.view(), out.view());
    b->stream(Lane::Compute).synchronize();
    b->allocator().copy_to_host(back.data(), out.data(), back.size() * sizeof(double));
    for (std::size_t i = 0; i < host.size(); ++i) QCOMPARE(back[i], double(i));
    Buffer<double> moved = std::move(out);
    QVERIFY(out.data() == nullptr && out.empty());
    QCOMPARE(moved.size(), std::size_t(1000));
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, make_backend(parm::Backend::Cuda));
  }

  // The bare GEMM calibration times: c (2,3) = a (2,4) * b (4,3), row-major, c overwritten.
  void gemmOnTheComputeStream() {
    auto b = make_backend(parm::Backend::Cpu);
    const std::vector<float> a = {1, 2, 3, 4, 0, 1, 0, 1}, bm = {1, 0, 2, 0, 1, 0, 1, 1, 1, 2, 0, 3};
    Buffer<float> da(b->allocator(), a.size()), db(b->allocator(), bm.size()), dc(b->allocator(), 6);
    const std::vector<float> stale(6, 99.0f);
    b->allocator().copy_from_host(da.data(), a.data(), a.size() * sizeof(float));
    b->allocator().copy_from_host(db.data(), bm.data(), bm.size() * sizeof(float));
    b->allocator().copy_from_host(dc.data(), stale.data(), stale.size() * sizeof(float));
    b->compute<float>().gemm(b->stream(Lane::Compute), da.view(), db.view(), 2, 3, 4, dc.view());
    b->stream(Lane::Compute).synchronize();
    std::vector<float> c(6);
    b->allocator().copy_to_host(c.data(), dc.data(), c.size() * sizeof(float));
    QCOMPARE(c, (std::vector<float>{12, 5, 17, 2, 1, 3}));
  }
};

QTEST_APPLESS_MAIN(TestCpuStreams)
#include "test_engine_cpu_streams.moc"
