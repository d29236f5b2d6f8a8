// CUPTI activity of this process (CUPTI is process-wide: one live collector at a time). Kinds
// CONCURRENT_KERNEL, MEMCPY (and MEMCPY2 for peer copies), MEMSET, RUNTIME, OVERHEAD, EXTERNAL_CORRELATION;
// never KERNEL, which serialises kernels. CUPTI hands out-of-band buffers (8 MB, ours) to a completion
// callback that converts them (cupti_records.h); collect() forces a flush and moves the records out. Without
// a driver or a device, or while another collector is live, the collector starts unavailable: one line in
// unavailable(), and push/pop/collect do nothing. Qt-free and engine-free (the cuda backend adapts it to
// backend::ActivityCapture).
#pragma once

#include <cstdint>
#include <string>

#include "profiler/cupti/realtime_clock.h"
#include "profiler/gpu_activity.h"

namespace parm::profiler::cupti {

class CuptiCollector {
 public:
  CuptiCollector();   // never throws for a missing driver or device
  ~CuptiCollector();  // disables the kinds and drops what was not collected: the next collector may start
  CuptiCollector(const CuptiCollector&) = delete;
  CuptiCollector& operator=(const CuptiCollector&) = delete;

  // "" while capturing; else "CUPTI unavailable: <reason>".
  const std::string& unavailable() const { return unavailable_; }
  // Around one op's launches on the calling thread (CUPTI keeps the external id stack per thread).
  void push_launch(std::int64_t launch_id);
  void pop_launch();
  // Flushes CUPTI's buffers (forced: the partly filled ones too) and appends every record since the last
  // collect to `out`: times on profiler::now_ns's clock, dropped-record count added, process id set. Call it
  // after the device finished the work (a synchronize), outside any timed region. Unavailable: sets
  // out.unavailable and adds nothing.
  void collect(GpuActivity& out);

 private:
  void fail(std::string reason);
  void stop();  // disables the kinds, drops what was not collected, lets the next collector start

  std::string unavailable_;
  bool owns_cupti_ = false;   // this collector enabled the kinds (and must disable them)
  bool peer_copies_ = false;  // MEMCPY2 enabled (best effort)
  ClockAnchor last_anchor_;   // clock offset at start or at the previous collect
};

// "CUPTI unavailable: <call> returned <CUPTI_ERROR_...> (<code>)[: <hint>]" (cuptiGetResultString names the
// code; "CUPTI_ERROR <code>" where it cannot).
std::string cupti_failure_text(const std::string& call, int result, const std::string& hint);

}  // namespace parm::profiler::cupti
