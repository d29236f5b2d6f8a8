// Op ranges on the host clock, per lane, into a buffer preallocated before the run: recording is one atomic
// increment and one struct copy, with no allocation, lock or I/O on the hot path. Names are interned ids,
// fixed before the measured iterations start.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "profiler/trace_budget.h"

namespace parm::profiler {

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct TraceEvent {
  std::int64_t start_ns = 0;  // this rank's steady clock
  std::int64_t end_ns = 0;
  std::int64_t bytes = 0;
  std::int64_t seq = -1;  // collective sequence number on (group, comm); -1 for local ops
  std::int64_t launch_id =
      0;                  // this op occurrence's id on its rank (CUPTI external correlation, NVTX); 0 none
  std::int32_t lane = 0;  // 0 compute, 1 intra, 2 inter
  std::int32_t schedule = 0;  // name ids (OpTracer::intern)
  std::int32_t op = 0;
  std::int32_t group = 0;
  std::int32_t purpose = 0;
  std::int32_t comm = -1;   // which communicator instance of the group
  std::int32_t chunk = -1;  // pipeline step
  std::int32_t iteration = 0;
  std::int32_t phase = 0;  // 0 forward, 1 backward
};

class OpTracer {
 public:
  // Room for `capacity` events, at most kTraceBufferBytes of them (trace_budget.h).
  explicit OpTracer(std::size_t capacity) : events_(bounded_records<TraceEvent>(capacity)) {}
  std::size_t capacity() const { return events_.size(); }

  // Safe from any lane thread. Events past the capacity are counted, not stored.
  void record(const TraceEvent& e) noexcept {
    const std::size_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i < events_.size()) {
      events_[i] = e;
    } else {
      overflow_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  std::span<const TraceEvent> events() const {
    return {events_.data(), std::min(next_.load(std::memory_order_acquire), events_.size())};
  }
  std::size_t overflow() const { return overflow_.load(); }
  // A new op occurrence's id on this rank (1, 2, ...): the CUPTI external correlation id of its launches.
  // Not reset by clear(), so ids stay unique for the tracer's whole life.
  std::int64_t next_launch_id() noexcept {
    return next_launch_id_.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  void clear() {
    next_ = 0;
    overflow_ = 0;
  }

  // Not for the hot path: ids are taken while ops are prepared.
  std::int32_t intern(std::string_view name);
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<TraceEvent> events_;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::size_t> overflow_{0};
  std::atomic<std::int64_t> next_launch_id_{0};
  std::mutex names_mutex_;
  std::vector<std::string> names_;
};

}  // namespace parm::profiler
