// Runs work off the GUI thread and keeps only the newest result (hotspot's scheduleJob): every start() bumps
// a generation counter; a job that a newer one superseded before it began is skipped, and a result that
// arrives after a newer start() is dropped. Results are delivered on the owner's thread by a queued call, so
// `deliver` may touch widgets. Qt Core only. The destructor waits for the job in flight, so a job never
// outlives what its delivery refers to.
#pragma once

#include <QObject>
#include <QThreadPool>
#include <atomic>
#include <cstdint>
#include <utility>

namespace parm::app {

class LatestJob : public QObject {
  Q_OBJECT

 public:
  explicit LatestJob(QObject* parent = nullptr);
  ~LatestJob() override;

  // Runs `job()` on the worker; `deliver(result)` on this object's thread if no newer job started meanwhile.
  template <class Job, class Deliver>
  void start(Job job, Deliver deliver) {
    const std::uint64_t generation = ++generation_;
    pending_ = true;
    pool_.start([this, generation, job = std::move(job), deliver = std::move(deliver)]() mutable {
      if (generation != generation_.load()) {  // superseded before it began: nothing to compute
        ++stale_;
        return;
      }
      auto result = job();
      QMetaObject::invokeMethod(
          this,
          [this, generation, deliver = std::move(deliver), result = std::move(result)]() mutable {
            if (generation != generation_.load()) {
              ++stale_;
              return;
            }
            pending_ = false;
            deliver(std::move(result));
            emit delivered();
          },
          Qt::QueuedConnection);
    });
  }

  // Drops whatever is in flight (its result will not be delivered).
  void cancel();
  // True from start() until the newest job's result is delivered (or cancel()).
  bool pending() const { return pending_; }
  std::uint64_t generation() const { return generation_.load(); }
  // Jobs skipped or results dropped because a newer start() superseded them.
  int staleCount() const { return stale_.load(); }
  // Blocks until no job runs (tests; the destructor).
  void waitForIdle() { pool_.waitForDone(); }

 Q_SIGNALS:
  void delivered();  // after the newest result's `deliver` ran

 private:
  QThreadPool pool_;  // one thread: jobs run in start() order
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> stale_{0};
  bool pending_ = false;
};

}  // namespace parm::app
