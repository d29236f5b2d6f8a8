// GPU activity capture of one rank (CUPTI on the cuda backend): what the device ran, tied to the op that
// launched it. The executor brackets each traced op's launches with push_launch/pop_launch (CUPTI external
// correlation id = TraceEvent::launch_id); the worker calls collect() after each measured iteration, outside
// the timed region (it flushes CUPTI's buffers). The cpu backend has none (Backend::start_activity_capture
// returns nullptr): its ops are host work and the op trace already is its activity.
#pragma once

#include <cstdint>
#include <string>

#include "profiler/gpu_activity.h"

namespace parm::backend {

class ActivityCapture {
 public:
  virtual ~ActivityCapture() = default;
  // "" while capturing; otherwise "CUPTI unavailable: <reason>" (the run goes on untraced on the GPU side;
  // the caller says it once).
  virtual const std::string& unavailable() const = 0;
  virtual void push_launch(std::int64_t launch_id) = 0;
  virtual void pop_launch() = 0;
  // Flushes what the device has finished and appends it to `out` (times on profiler::now_ns's clock,
  // dropped-record count added, names interned into out.names).
  virtual void collect(profiler::GpuActivity& out) = 0;
};

}  // namespace parm::backend
