// Execution lanes (engine/backend/cpu/lanes.h): per-lane order, cross-lane events, real concurrency between
// lanes, error propagation with skipping, and a destructor that drains pending work.
#include <QtTest>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "engine/backend/cpu/lanes.h"

using namespace parm;
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

std::string error_of(const EventPtr& e) {
  try {
    e->wait();
  } catch (const std::exception& x) {
    return x.what();
  }
  return {};
}

}  // namespace

class TestLanes : public QObject {
  Q_OBJECT
 private slots:
  void laneNames() {
    QCOMPARE(to_string(Lane::Compute), std::string_view("compute"));
    QCOMPARE(to_string(Lane::Intra), std::string_view("intra"));
    QCOMPARE(to_string(Lane::Inter), std::string_view("inter"));
  }

  void eventAcrossThreads() {
    Event ok;
    QVERIFY(!ok.done());
    std::thread t([&] {
      std::this_thread::sleep_for(20ms);
      ok.signal();
    });
    ok.wait();
    QVERIFY(ok.done());
    t.join();

    Event bad;
    std::thread f([&] { bad.fail(std::make_exception_ptr(std::runtime_error("late failure"))); });
    f.join();
    QVERIFY(bad.done());
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, bad.wait());
  }

  void submissionOrderPerLane() {
    LaneSet lanes;
    std::vector<int> seen[kLaneCount];  // each written by its own lane's worker only
    std::vector<EventPtr> events;
    for (int i = 0; i < 300; ++i) {
      const int lane = i % kLaneCount;
      events.push_back(lanes.submit(static_cast<Lane>(lane), [&seen, lane, i] {
        if (i % 7 == 0) std::this_thread::sleep_for(100us);  // uneven durations
        seen[lane].push_back(i);
      }));
    }
    lanes.synchronize();
    for (const auto& e : events) QVERIFY(e->done());
    for (int lane = 0; lane < kLaneCount; ++lane) {
      QCOMPARE(seen[lane].size(), std::size_t(100));
      for (std::size_t k = 0; k < seen[lane].size(); ++k) QCOMPARE(seen[lane][k], int(k) * kLaneCount + lane);
    }
  }

  void crossLaneWaitsOrderWork() {
    // A chain bouncing between lanes, each step slow enough that an unordered successor would read a stale
    // value: step s on lane s%3 reads step s-1's output and must see it.
    LaneSet lanes;
    constexpr int kSteps = 12;
    std::atomic<int> value{0};
    std::vector<int> read(kSteps, -1);
    EventPtr prev;
    for (int s = 0; s < kSteps; ++s) {
      std::vector<EventPtr> waits;
      if (prev) waits.push_back(prev);
      prev = lanes.submit(
          static_cast<Lane>(s % kLaneCount),
          [&, s] {
            read[s] = value.load();
            std::this_thread::sleep_for(5ms);
            value.store(s + 1);
          },
          waits);
    }
    lanes.synchronize();
    for (int s = 0; s < kSteps; ++s) QCOMPARE(read[s], s);

    // A waiting task also holds back the tasks queued behind it on its own lane, while the other lane goes
    // on. (Only the Inter lane counts in `order`: a Compute task counting too would race the two Inter
    // tasks.)
    std::atomic<int> order{0};
    std::atomic<bool> compute_went_on{false};
    int late_pos = -1, behind_pos = -1;
    EventPtr slow = lanes.submit(Lane::Compute, [&] { std::this_thread::sleep_for(30ms); });
    lanes.submit(Lane::Inter, [&] { late_pos = order++; }, {slow});
    lanes.submit(Lane::Inter, [&] { behind_pos = order++; });
    lanes.submit(Lane::Compute, [&] { compute_went_on = true; }, {});
    lanes.synchronize();
    QCOMPARE(late_pos, 0);
    QCOMPARE(behind_pos, 1);
    QVERIFY(compute_went_on.load());
  }

  void lanesRunConcurrently() {
    // Three tasks, one per lane, each waiting until all three are running: only possible if the lanes really
    // run at once (serialised lanes make the first one give up after 3 s).
    LaneSet lanes;
    Rendezvous meeting(kLaneCount);
    std::atomic<bool> met[kLaneCount] = {false, false, false};
    for (int lane = 0; lane < kLaneCount; ++lane)
      lanes.submit(static_cast<Lane>(lane), [&, lane] { met[lane] = meeting.meet(); });
    lanes.synchronize();
    for (int lane = 0; lane < kLaneCount; ++lane) QVERIFY2(met[lane].load(), "lanes did not overlap");

    // Overlap with dependencies: Intra's second task waits for Inter's first, which itself meets Intra's
    // first.
    Rendezvous pair(2);
    std::atomic<bool> a{false}, b{false}, after{false};
    lanes.submit(Lane::Intra, [&] { a = pair.meet(); });
    EventPtr inter = lanes.submit(Lane::Inter, [&] { b = pair.meet(); });
    lanes.submit(Lane::Intra, [&] { after = b.load(); }, {inter});
    lanes.synchronize();
    QVERIFY(a && b && after);
  }

  void errorFailsEventSkipsLaterWorkAndRethrows() {
    LaneSet lanes;
    std::atomic<bool> ran_before{false}, ran_dependent{false}, ran_same_lane{false}, ran_later{false};
    lanes.submit(Lane::Inter, [&] { ran_before = true; }).get()->wait();
    EventPtr failing = lanes.submit(Lane::Compute, [] {
      std::this_thread::sleep_for(10ms);
      throw std::runtime_error("boom in compute");
    });
    EventPtr same_lane = lanes.submit(Lane::Compute, [&] { ran_same_lane = true; });
    EventPtr dependent = lanes.submit(Lane::Intra, [&] { ran_dependent = true; }, {failing});
    QCOMPARE(error_of(failing), std::string("boom in compute"));
    // Submitted after the failure, on a lane that never failed, with no dependency: still skipped.
    EventPtr later = lanes.submit(Lane::Inter, [&] { ran_later = true; });
    QCOMPARE(error_of(same_lane), std::string("boom in compute"));
    QCOMPARE(error_of(dependent), std::string("boom in compute"));
    QCOMPARE(error_of(later), std::string("boom in compute"));
    QVERIFY(ran_before);
    QVERIFY(!ran_same_lane);
    QVERIFY(!ran_dependent);
    QVERIFY(!ran_later);
    try {
      lanes.synchronize();
      QFAIL("synchronize did not rethrow");
    } catch (const std::runtime_error& e) {
      QCOMPARE(std::string(e.what()), std::string("boom in compute"));
    }
    // The first error sticks: a second failure does not replace it.
    EventPtr second = lanes.submit(Lane::Intra, [] { throw std::logic_error("second"); });
    QCOMPARE(error_of(second), std::string("boom in compute"));
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, lanes.synchronize());
  }

  void destructorDrainsPendingWork() {
    std::atomic<int> done{0};
    std::vector<EventPtr> events;
    {
      LaneSet lanes;
      EventPtr prev;
      for (int i = 0; i < 60; ++i) {
        std::vector<EventPtr> waits;
        if (prev && i % 4 == 0) waits.push_back(prev);
        prev = lanes.submit(
            static_cast<Lane>(i % kLaneCount),
            [&] {
              std::this_thread::sleep_for(1ms);
              ++done;
            },
            waits);
        events.push_back(prev);
      }
      // No synchronize(): the destructor must run all of it before joining.
    }
    QCOMPARE(done.load(), 60);
    for (const auto& e : events) QVERIFY(e->done());

    // A failed task does not make the destructor throw or hang; queued work behind it is skipped.
    std::atomic<int> after{0};
    {
      LaneSet lanes;
      lanes.submit(Lane::Inter, [] { throw std::runtime_error("dies"); });
      for (int i = 0; i < 10; ++i) lanes.submit(Lane::Inter, [&] { ++after; });
    }
    QCOMPARE(after.load(), 0);
  }
};

QTEST_APPLESS_MAIN(TestLanes)
#include "test_engine_lanes.moc"
