// The op tracer (lock-free recording into a preallocated buffer) and the clock-offset estimate.
#include <QtTest>
#include <set>
#include <thread>

#include "profiler/clock_alignment.h"
#include "profiler/nvtx_ranges.h"
#include "profiler/op_tracer.h"

using namespace parm::profiler;

class TestProfilerTracing : public QObject {
  Q_OBJECT
 private slots:
  void concurrentRecordsAreAllKept() {
    OpTracer tracer(30'000);
    std::vector<std::thread> lanes;
    for (int lane = 0; lane < 3; ++lane)
      lanes.emplace_back([&tracer, lane] {
        for (int i = 0; i < 10'000; ++i) {
          TraceEvent e;
          e.lane = lane;
          e.seq = i;
          tracer.record(e);
        }
      });
    for (auto& t : lanes) t.join();
    QCOMPARE(tracer.events().size(), std::size_t(30'000));
    QCOMPARE(tracer.overflow(), std::size_t(0));
    std::set<std::pair<int, std::int64_t>> seen;
    for (const auto& e : tracer.events()) seen.insert({e.lane, e.seq});
    QCOMPARE(seen.size(), std::size_t(30'000));  // no record overwrote another
  }

  void overflowIsCountedNotStored() {
    OpTracer tracer(5);
    for (int i = 0; i < 8; ++i) tracer.record(TraceEvent{});
    QCOMPARE(tracer.events().size(), std::size_t(5));
    QCOMPARE(tracer.overflow(), std::size_t(3));
    tracer.clear();
    QCOMPARE(tracer.events().size(), std::size_t(0));
  }

  // However long the run, a rank's buffers stay within the budget (a million-iteration layer asked for
  // gigabytes per rank); below it they hold exactly what was asked.
  void buffersAreBoundedByBytes() {
    const std::size_t most = kTraceBufferBytes / sizeof(TraceEvent);
    QCOMPARE(OpTracer(1000).capacity(), std::size_t(1000));
    const OpTracer huge(std::size_t{40} << 30);
    QCOMPARE(huge.capacity(), most);
    QVERIFY(huge.capacity() * sizeof(TraceEvent) <= kTraceBufferBytes);
    QCOMPARE(bounded_records<NvtxRangeRecord>(std::size_t{1} << 40),
             kTraceBufferBytes / sizeof(NvtxRangeRecord));
    QCOMPARE(bounded_records<NvtxRangeRecord>(7), std::size_t(7));
  }

  void internGivesStableIds() {
    OpTracer tracer(1);
    const auto a = tracer.intern("AlltoAll");
    const auto b = tracer.intern("experts");
    QVERIFY(a != b);
    QCOMPARE(tracer.intern("AlltoAll"), a);
    QCOMPARE(tracer.names()[std::size_t(b)], std::string("experts"));
  }

  // A remote clock 5 ms ahead, one-way delays between 10 and 200 us: the estimate keeps the shortest round
  // trip.
  void offsetFromShortestRoundTrip() {
    const std::int64_t skew = 5'000'000;
    std::vector<PingSample> samples;
    const std::int64_t delays[][2] = {{200'000, 150'000}, {10'000, 12'000}, {80'000, 5'000}};
    std::int64_t t = 1'000'000'000;
    for (const auto& d : delays) {
      PingSample s;
      s.local_send_ns = t;
      s.remote_ns = t + d[0] - skew;
      s.local_recv_ns = t + d[0] + d[1];
      samples.push_back(s);
      t += 10'000'000;
    }
    const ClockOffset o = estimate_offset(samples);
    QCOMPARE(o.uncertainty_ns, 11'000.0);                       // the 22 us round trip
    QVERIFY(std::abs(o.offset_ns - skew) <= o.uncertainty_ns);  // the true offset lies within the bound
  }

  void driftInterpolates() {
    ClockModel m;
    m.start = {100.0, 5.0};
    m.end = {300.0, 7.0};
    QCOMPARE(m.offset_at(0, 0, 1000), 100.0);
    QCOMPARE(m.offset_at(500, 0, 1000), 200.0);
    QCOMPARE(m.offset_at(1000, 0, 1000), 300.0);
    QCOMPARE(m.uncertainty_ns(), 7.0);
  }
};

QTEST_APPLESS_MAIN(TestProfilerTracing)
#include "test_profiler_tracing.moc"
