#include <QtTest>
#include <thread>

#include "profiler/phase_timer.h"

using parm::profiler::PhaseTimer;

class TestPhaseTimer : public QObject {
  Q_OBJECT
 private slots:
  void recordsPerIterationAndAccumulatesWithin() {
    PhaseTimer t;
    t.begin_iteration();
    t.record("gate", 1.0);
    t.record("gate", 2.0);  // same iteration: adds up
    t.record("experts", 5.0);
    t.begin_iteration();
    t.record("gate", 4.0);
    QCOMPARE(t.phases().size(), std::size_t(2));
    QCOMPARE(t.phases()[0].name, std::string("gate"));
    QCOMPARE(t.phases()[0].seconds, (std::vector<double>{3.0, 4.0}));
    QCOMPARE(t.median_seconds("gate"), 3.5);
    QCOMPARE(t.median_seconds("experts"), 5.0);
    QCOMPARE(t.median_seconds("missing"), 0.0);
  }

  void scopeMeasuresElapsedTime() {
    PhaseTimer t;
    {
      auto s = parm::profiler::time_phase(&t, "sleep");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    QVERIFY(t.median_seconds("sleep") >= 0.019);
    { auto s = parm::profiler::time_phase(nullptr, "ignored"); }  // a null timer records nothing
    QCOMPARE(t.phases().size(), std::size_t(1));
  }

  void medianOfOddAndEven() {
    QCOMPARE(parm::profiler::median({3.0, 1.0, 2.0}), 2.0);
    QCOMPARE(parm::profiler::median({4.0, 1.0, 3.0, 2.0}), 2.5);
    QCOMPARE(parm::profiler::median({}), 0.0);
  }
};

QTEST_APPLESS_MAIN(TestPhaseTimer)
#include "test_profiler_phase_timer.moc"
