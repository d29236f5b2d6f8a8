// The cuda backend's streams and events: one non-blocking cudaStream_t per lane (compute, intra, inter),
// events as cudaEvent_t (record = cudaEventRecord, wait = cudaStreamWaitEvent), and the EventClock that turns
// an event into a host-clock time (event_clock.h: anchors re-taken at a backend synchronize() once 10 ms
// old).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <mutex>

#include "engine/backend/stream.h"

namespace parm::backend::cuda {

struct CudaContext;

// An event recorded on an idle private stream at a synchronised point, with the host time it was reached.
struct EventAnchor {
  cudaEvent_t event = nullptr;
  std::int64_t host_ns = 0;
  EventAnchor() = default;
  EventAnchor(const EventAnchor&) = delete;
  EventAnchor& operator=(const EventAnchor&) = delete;
  ~EventAnchor();
};

class CudaEvent final : public backend::Event {
 public:
  // `watch`: the context whose communicators a host wait must watch (comm_watch.h); null waits plainly.
  explicit CudaEvent(int device, const CudaContext* watch = nullptr);
  ~CudaEvent() override;
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  void synchronize() override;
  bool done() const override;  // a never-recorded event is done, as for the cpu backend
  cudaEvent_t handle() const { return event_; }

 private:
  friend class CudaStream;
  friend class EventClock;
  cudaEvent_t event_ = nullptr;
  const CudaContext* watch_ = nullptr;
  std::shared_ptr<const EventAnchor> anchor_;  // current when last recorded; null: never recorded
};

class EventClock {
 public:
  explicit EventClock(int device);  // takes the first anchor
  ~EventClock();
  EventClock(const EventClock&) = delete;
  EventClock& operator=(const EventClock&) = delete;
  // Takes a new anchor; call where the device is otherwise idle (after synchronising every stream).
  void reanchor();
  // reanchor() when the current anchor is older than kAnchorMaxAgeNs (event_clock.h); same precondition.
  void reanchor_if_stale();
  std::shared_ptr<const EventAnchor> current() const;
  // Host time (profiler::now_ns base) the event's latest record was reached; waits for it if needed.
  std::int64_t host_ns(const CudaEvent& event) const;

 private:
  int device_;
  cudaStream_t stream_ = nullptr;
  mutable std::mutex mutex_;
  std::shared_ptr<const EventAnchor> current_;
};

class CudaStream final : public backend::Stream {
 public:
  // `watch` as for CudaEvent: synchronize() then surfaces staged MPI failures and NCCL stalls instead of
  // blocking forever behind a stuck collective.
  CudaStream(Lane lane, int device, EventClock& clock, const CudaContext* watch = nullptr);
  ~CudaStream() override;
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  Lane lane() const override { return lane_; }
  void record(backend::Event& event) override;
  void wait(backend::Event& event) override;
  void synchronize() override;
  cudaStream_t handle() const { return stream_; }

 private:
  Lane lane_;
  int device_;
  EventClock& clock_;
  const CudaContext* watch_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

}  // namespace parm::backend::cuda
