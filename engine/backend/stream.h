// Streams and events, the execution model every backend offers (spec gpu.md "Streams, events, memory"): one
// stream per lane runs its work in enqueue order; an event recorded on one stream can be waited on by another
// (how a fused pipeline overlaps lanes) or by the host. A task that throws fails its stream set: later work
// is skipped and synchronize() rethrows the first error, so a broken collective cannot strand peers.
#pragma once

#include "engine/schedules/lane.h"

namespace parm::backend {

class Event {
 public:
  virtual ~Event() = default;
  // Blocks the host until the most recent record is reached; rethrows the failure that skipped it.
  virtual void synchronize() = 0;
  virtual bool done() const = 0;
};

class Stream {
 public:
  virtual ~Stream() = default;
  virtual Lane lane() const = 0;
  // `event` is reached when everything enqueued on this stream so far has run (re-recording replaces it).
  virtual void record(Event& event) = 0;
  // Work enqueued after this call starts only once `event`'s latest record is reached.
  virtual void wait(Event& event) = 0;
  // Blocks the host until this stream's work has run; rethrows the first failure.
  virtual void synchronize() = 0;
};

}  // namespace parm::backend
