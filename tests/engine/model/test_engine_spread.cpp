// The noise rule (engine/model/spread.h) and the collective wait split (collective_wait.h): percentiles as
// numpy computes them, ties exactly when the p10-p90 intervals overlap, the speedup's pessimistic and
// optimistic ends, and a wait clamped into the member's duration.
#include <QtTest>

#include "engine/model/collective_wait.h"
#include "engine/model/spread.h"

using namespace parm;

class TestSpread : public QObject {
  Q_OBJECT

 private slots:
  void percentilesInterpolateLikeNumpy() {
    // numpy.percentile([1..10], [10, 50, 90]) = 1.9, 5.5, 9.1 (any order in).
    const Spread s = spread_of({10, 1, 9, 2, 8, 3, 7, 4, 6, 5});
    QCOMPARE(s.n, std::size_t(10));
    QVERIFY(std::abs(s.p10 - 1.9) < 1e-12);
    QVERIFY(std::abs(s.p50 - 5.5) < 1e-12);
    QVERIFY(std::abs(s.p90 - 9.1) < 1e-12);
    QCOMPARE(s.min, 1.0);
    QCOMPARE(s.max, 10.0);
    const Spread one = spread_of({4.25});
    QCOMPARE(one.p10, 4.25);
    QCOMPARE(one.p90, 4.25);
    QCOMPARE(spread_of({}).n, std::size_t(0));
  }

  void tiesAreOverlappingIntervals() {
    const Spread a = spread_of({10, 11, 12, 13, 14});  // p10 10.4, p90 13.6
    const Spread b = spread_of({13, 14, 15, 16, 17});  // p10 13.4: overlaps a
    const Spread c = spread_of({14, 15, 16, 17, 18});  // p10 14.4: clear of a
    QVERIFY(tied_within_noise(a, b));
    QVERIFY(tied_within_noise(b, a));
    QVERIFY(!tied_within_noise(a, c));
    QVERIFY(!tied_within_noise(c, a));
    QVERIFY(!tied_within_noise(a, Spread{}));  // nothing measured ties with nothing
    QVERIFY(tied_within_noise(spread_of({5}), spread_of({5})));
    QVERIFY(!tied_within_noise(spread_of({5}), spread_of({5.001})));
  }

  void speedupSpreadTakesOppositeEnds() {
    const Spread base = spread_of({20, 20, 20, 20, 20});
    const Spread fast = spread_of({8, 9, 10, 11, 12});  // p10 8.4, p50 10, p90 11.6
    const Spread s = speedup_spread(base, fast);
    QVERIFY(std::abs(s.p50 - 2.0) < 1e-12);
    QVERIFY(std::abs(s.p10 - 20 / 11.6) < 1e-12);
    QVERIFY(std::abs(s.p90 - 20 / 8.4) < 1e-12);
    QVERIFY(s.p10 < s.p50 && s.p50 < s.p90);
    QCOMPARE(speedup_spread(base, Spread{}).n, std::size_t(0));
  }

  void collectiveWaitIsClampedIntoTheDuration() {
    CollectiveSplit s = split_collective(100, 400, 250);
    QCOMPARE(s.wait_ns, std::int64_t(150));
    QCOMPARE(s.transfer_ns, std::int64_t(150));
    s = split_collective(100, 400, 100);  // the last to arrive waits for nobody
    QCOMPARE(s.wait_ns, std::int64_t(0));
    QCOMPARE(s.transfer_ns, std::int64_t(300));
    s = split_collective(100, 400, 900);  // skew: ended before the last start
    QCOMPARE(s.wait_ns, std::int64_t(300));
    QCOMPARE(s.transfer_ns, std::int64_t(0));
  }
};

QTEST_APPLESS_MAIN(TestSpread)
#include "test_engine_spread.moc"
