// LatestJob, the worker the GUI runs the cost model on: the result arrives on the owner's thread, a result
// superseded by a newer start() is dropped (and a superseded job that has not begun is skipped), the owner's
// event loop keeps running while a job computes, and destroying the owner waits for the job in flight.
#include <QElapsedTimer>
#include <QSemaphore>
#include <QThread>
#include <QTimer>
#include <QtTest>
#include <memory>

#include "app/models/latest_job.h"

using namespace parm::app;

class TestLatestJob : public QObject {
  Q_OBJECT
 private slots:
  void resultArrivesOnTheOwnersThread() {
    LatestJob job;
    QThread* worker = nullptr;
    QThread* deliveredOn = nullptr;
    int value = 0;
    job.start(
        [&worker] {
          worker = QThread::currentThread();
          return 6 * 7;
        },
        [&](int v) {
          value = v;
          deliveredOn = QThread::currentThread();
        });
    QVERIFY(job.pending());
    QTRY_VERIFY_WITH_TIMEOUT(!job.pending(), 10000);
    QCOMPARE(value, 42);
    QCOMPARE(deliveredOn, QThread::currentThread());
    QVERIFY(worker != nullptr);
    QVERIFY(worker != QThread::currentThread());
    QCOMPARE(job.staleCount(), 0);
  }

  // The first job blocks until released; two more start meanwhile. The first one's result is dropped, the
  // second never runs, the third is the one delivered.
  void staleResultsAreDropped() {
    LatestJob job;
    QSemaphore started, release;
    QList<int> delivered;
    int ran = 0;
    job.start(
        [&] {
          started.release();
          release.acquire();
          ++ran;
          return 1;
        },
        [&](int v) { delivered << v; });
    QVERIFY(started.tryAcquire(1, 10000));  // the first job is running
    job.start(
        [&] {
          ++ran;
          return 2;
        },
        [&](int v) { delivered << v; });
    job.start(
        [&] {
          ++ran;
          return 3;
        },
        [&](int v) { delivered << v; });
    release.release();
    QTRY_VERIFY_WITH_TIMEOUT(!job.pending(), 10000);
    job.waitForIdle();
    QCoreApplication::processEvents();  // anything still queued would arrive now
    QCOMPARE(delivered, QList<int>{3});
    QCOMPARE(ran, 2);               // the second was skipped before it began
    QCOMPARE(job.staleCount(), 2);  // the first's result dropped, the second skipped
  }

  // While a job computes, timers of the owner's thread still fire: the job is released from a timer.
  void eventLoopRunsWhileAJobComputes() {
    LatestJob job;
    QSemaphore release;
    bool done = false;
    job.start(
        [&] {
          release.acquire();
          return true;
        },
        [&](bool v) { done = v; });
    int ticks = 0;
    QTimer timer;
    connect(&timer, &QTimer::timeout, this, [&] {
      if (++ticks == 3) release.release();
    });
    timer.start(10);
    QTRY_VERIFY_WITH_TIMEOUT(done, 10000);
    QVERIFY(ticks >= 3);
  }

  void cancelDropsTheJobInFlight() {
    LatestJob job;
    QSemaphore release;
    bool delivered = false;
    job.start(
        [&] {
          release.acquire();
          return 1;
        },
        [&](int) { delivered = true; });
    job.cancel();
    QVERIFY(!job.pending());
    release.release();
    job.waitForIdle();
    QCoreApplication::processEvents();
    QVERIFY(!delivered);
    QCOMPARE(job.staleCount(), 1);
  }

  // A job that has begun runs to its end before the owner is gone; one that has not begun is skipped.
  void destructionWaitsForTheJobInFlight() {
    auto finished = std::make_shared<std::atomic<bool>>(false);
    auto queuedRan = std::make_shared<std::atomic<bool>>(false);
    bool delivered = false;
    {
      LatestJob job;
      QSemaphore started;
      job.start(
          [finished, &started] {
            started.release();
            QThread::msleep(100);
            *finished = true;
            return 0;
          },
          [&](int) { delivered = true; });
      QVERIFY(started.tryAcquire(1, 10000));  // running: a newer start() no longer skips it
      job.start(
          [queuedRan] {
            *queuedRan = true;
            return 0;
          },
          [&](int) { delivered = true; });
    }
    QVERIFY(finished->load());    // the destructor waited for the running job
    QVERIFY(!queuedRan->load());  // and skipped the queued one
    QCoreApplication::processEvents();
    QVERIFY(!delivered);  // nothing reached the destroyed owner
  }
};

QTEST_GUILESS_MAIN(TestLatestJob)
#include "test_app_latest_job.moc"
