#include "engine/backend/cpu/lanes.h"

#include <utility>

namespace parm {

void Event::signal() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  cv_.notify_all();
}

void Event::fail(std::exception_ptr error) {
  {
    std::lock_guard lock(mutex_);
    error_ = std::move(error);
    done_ = true;
  }
  cv_.notify_all();
}

void Event::wait() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return done_; });
  if (error_) std::rethrow_exception(error_);
}

bool Event::done() const {
  std::lock_guard lock(mutex_);
  return done_;
}

LaneSet::LaneSet() {
  for (Worker& w : workers_) w.thread = std::thread([this, &w] { run(w); });
}

LaneSet::~LaneSet() {
  // Workers finish their queues before they look at `stop`, so pending work drains (or is skipped after an
  // error).
  for (Worker& w : workers_) {
    {
      std::lock_guard lock(w.mutex);
      w.stop = true;
    }
    w.cv.notify_all();
  }
  for (Worker& w : workers_)
    if (w.thread.joinable()) w.thread.join();
}

EventPtr LaneSet::submit(Lane lane, std::function<void()> work, std::vector<EventPtr> waits) {
  auto done = std::make_shared<Event>();
  {
    std::lock_guard lock(outstanding_mutex_);
    // Drop finished events so a long run does not accumulate them between synchronize() calls.
    if (outstanding_.size() >= 256) std::erase_if(outstanding_, [](const EventPtr& e) { return e->done(); });
    outstanding_.push_back(done);
  }
  Worker& w = workers_[static_cast<int>(lane)];
  {
    std::lock_guard lock(w.mutex);
    w.queue.push_back(Task{std::move(work), std::move(waits), done});
  }
  w.cv.notify_one();
  return done;
}

void LaneSet::synchronize() {
  std::vector<EventPtr> pending;
  {
    std::lock_guard lock(outstanding_mutex_);
    pending.swap(outstanding_);
  }
  for (const EventPtr& e : pending) {
    try {
      e->wait();
    } catch (...) {
      // The first error is rethrown below, whichever task it came from.
    }
  }
  std::lock_guard lock(error_mutex_);
  if (first_error_) std::rethrow_exception(first_error_);
}

void LaneSet::run(Worker& w) {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(w.mutex);
      w.cv.wait(lock, [&] { return w.stop || !w.queue.empty(); });
      if (w.queue.empty()) return;  // stop requested and drained
      task = std::move(w.queue.front());
      w.queue.pop_front();
    }
    auto first_error = [&] {
      std::lock_guard lock(error_mutex_);
      return first_error_;
    };
    if (std::exception_ptr e = first_error()) {
      task.done->fail(e);
      continue;
    }
    try {
      // A failed dependency means some task failed, which set first_error_ before failing its event.
      for (const EventPtr& dep : task.waits)
        if (dep) dep->wait();
    } catch (...) {
      task.done->fail(first_error() ? first_error() : std::current_exception());
      continue;
    }
    // Another lane may have failed while this task waited.
    if (std::exception_ptr e = first_error()) {
      task.done->fail(e);
      continue;
    }
    try {
      task.work();
      task.done->signal();
    } catch (...) {
      std::exception_ptr error = std::current_exception();
      {
        std::lock_guard lock(error_mutex_);
        if (!first_error_) first_error_ = error;
      }
      task.done->fail(error);
    }
  }
}

}  // namespace parm
