// The cpu backend's streams: one worker thread per lane (LaneSet, lanes.h) behind the Stream/Event
// interface. An event is the completion of a marker task; the lane thread stamps the host clock when it
// reaches the marker, so the time between two events on one stream is the time of the work between them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "engine/backend/cpu/lanes.h"
#include "engine/backend/stream.h"

namespace parm::backend::cpu {

class CpuEvent final : public backend::Event {
 public:
  void synchronize() override;
  bool done() const override;
  std::int64_t time_ns() const;  // when the lane reached the latest record

 private:
  friend class CpuStream;
  EventPtr reached_;  // null: never recorded (done, like a fresh cudaEvent_t)
  std::shared_ptr<std::int64_t> time_ns_;
};

class CpuStream final : public backend::Stream {
 public:
  CpuStream(LaneSet& lanes, Lane lane) : lanes_(lanes), lane_(lane) {}
  Lane lane() const override { return lane_; }
  void record(backend::Event& event) override;
  void wait(backend::Event& event) override;
  void synchronize() override;
  // Runs `work` on this lane's thread after everything enqueued before and the events waited on.
  void enqueue(std::function<void()> work);

 private:
  LaneSet& lanes_;
  Lane lane_;
  std::vector<EventPtr> waits_;  // for the next task; touched by the enqueuing thread only
};

// Recovers the cpu stream a cpu op was given; throws std::logic_error for another backend's stream.
CpuStream& cpu_stream(backend::Stream& stream);

}  // namespace parm::backend::cpu
