// wait_watching_comm without a device: what the cuda backend's synchronize waits through. A failure a
// communicator saw is rethrown (also when the device is already there), a stall past the context's timeout
// asks the watchers (an NCCL op pending is aborted and thrown), progress or local-only slowness keeps
// waiting.
#include <QtTest>
#include <atomic>
#include <chrono>

#include "engine/backend/cuda/comm_watch.h"

using namespace parm;
using namespace parm::backend::cuda;
using Clock = std::chrono::steady_clock;

namespace {

class FakeWatcher final : public CommWatcher {
 public:
  bool failed = false;
  bool grows = false;          // progress() grows on every call
  bool stuck_op = false;       // on_stall throws (an NCCL op pending)
  std::atomic<int> stalls{0};  // on_stall calls
  std::uint64_t count = 0;

  void rethrow_failure() override {
    if (failed)
      throw comm::CommError("AllReduce on group MP (world ranks 0,1) failed: remote process exited");
  }
  std::uint64_t progress() override { return grows ? ++count : count; }
  void on_stall() override {
    ++stalls;
    if (stuck_op) throw comm::CommError("AlltoAll on group EP (world ranks 0,2) did not complete");
  }
};

// `reached` turns true after `after`.
auto reached_after(std::chrono::milliseconds after) {
  const auto at = Clock::now() + after;
  return [at] { return Clock::now() >= at; };
}

}  // namespace

class TestCudaCommWatch : public QObject {
  Q_OBJECT

 private slots:
  void failureIsRethrownEvenWhenReached() {
    CudaContext context;
    auto w = std::make_shared<FakeWatcher>();
    w->failed = true;
    watch_comm(context, w);
    QVERIFY_THROWS_EXCEPTION(comm::CommError, wait_watching_comm(context, [] { return true; }));
    QVERIFY_THROWS_EXCEPTION(comm::CommError, wait_watching_comm(context, [] { return true; }));
    unwatch_comm(context, w.get());
    wait_watching_comm(context, [] { return true; });  // unwatched: nothing to rethrow
  }

  void stuckOpThrowsAfterTheTimeout() {
    CudaContext context;
    context.timeout = std::chrono::milliseconds(60);
    auto w = std::make_shared<FakeWatcher>();
    w->stuck_op = true;
    watch_comm(context, w);
    const auto start = Clock::now();
    QVERIFY_THROWS_EXCEPTION(comm::CommError, wait_watching_comm(context, [] { return false; }));
    const auto waited = Clock::now() - start;
    QVERIFY(waited >= context.timeout);
    QVERIFY(waited < std::chrono::seconds(2));
    QCOMPARE(w->stalls.load(), 1);
  }

  void progressKeepsTheWaitAlive() {
    CudaContext context;
    context.timeout = std::chrono::milliseconds(30);
    auto w = std::make_shared<FakeWatcher>();
    w->grows = true;
    w->stuck_op = true;  // would throw if asked
    watch_comm(context, w);
    wait_watching_comm(context, reached_after(std::chrono::milliseconds(200)));
    QCOMPARE(w->stalls.load(), 0);
  }

  void slowLocalWorkIsNotAStall() {
    CudaContext context;
    context.timeout = std::chrono::milliseconds(30);
    auto w = std::make_shared<FakeWatcher>();  // no op pending: on_stall returns
    watch_comm(context, w);
    const auto start = Clock::now();
    // Reached only after the watchers were asked three times: the wait goes on after each.
    wait_watching_comm(context, [&] { return w->stalls.load() >= 3; });
    QVERIFY(Clock::now() - start >= 3 * context.timeout);
  }

  void watchersAreHeldWeaklyAndPerContext() {
    CudaContext a, b;
    auto failing = std::make_shared<FakeWatcher>();
    failing->failed = true;
    watch_comm(a, failing);
    QVERIFY_THROWS_EXCEPTION(comm::CommError, wait_watching_comm(a, [] { return true; }));
    wait_watching_comm(b, [] { return true; });  // another context's watcher is not asked
    failing.reset();                             // the groups went away
    wait_watching_comm(a, [] { return true; });
  }
};

QTEST_APPLESS_MAIN(TestCudaCommWatch)
#include "test_engine_cuda_comm_watch.moc"
