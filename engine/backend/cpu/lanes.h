// Asynchronous execution lanes: compute, intra-node communication, inter-node communication. Work submitted
// to a lane runs in submission order; a task may wait on events recorded by other lanes, which is how a fused
// pipeline overlaps an AllGather on the intra lane with the next AlltoAll step on the inter lane. The CPU
// backend runs one worker thread per lane; the CUDA backend maps lanes to streams and events to cudaEvent_t.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/schedules/lane.h"

namespace parm {

// Completion of one submitted task. Shared so both the submitter and waiting tasks can hold it.
class Event {
 public:
  void signal();
  void fail(std::exception_ptr error);  // the task threw: waiters fail too
  void wait();                          // rethrows the task's exception
  bool done() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::exception_ptr error_;
};
using EventPtr = std::shared_ptr<Event>;

class LaneSet {
 public:
  LaneSet();
  ~LaneSet();  // drains and joins
  LaneSet(const LaneSet&) = delete;
  LaneSet& operator=(const LaneSet&) = delete;

  // Queues `work` on `lane` after the given events complete; returns the task's completion event.
  EventPtr submit(Lane lane, std::function<void()> work, std::vector<EventPtr> waits = {});
  // Waits for everything submitted so far; rethrows the first task exception (later tasks are skipped after
  // one fails, so a broken collective cannot leave peers waiting on half a schedule).
  void synchronize();

 private:
  struct Task {
    std::function<void()> work;
    std::vector<EventPtr> waits;
    EventPtr done;
  };
  struct Worker {
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<Task> queue;
    std::thread thread;
    bool stop = false;
  };
  void run(Worker& w);

  Worker workers_[kLaneCount];
  std::mutex error_mutex_;
  std::exception_ptr first_error_;
  std::vector<EventPtr> outstanding_;
  std::mutex outstanding_mutex_;
};

}  // namespace parm
