// The pure half of the CUPTI collector: CUDA 13 activity records (CUpti_ActivityKernel10, Memcpy6,
// MemcpyPtoP4, Memset4, API, ExternalCorrelation, Overhead3) turned into profiler::GpuActivity records. No
// CUPTI calls besides naming runtime API callbacks, so a test feeds it records it built by hand.
#pragma once

#include <cupti_activity.h>

#include <cstdint>
#include <string>
#include <unordered_map>

#include "profiler/cupti/realtime_clock.h"
#include "profiler/gpu_activity.h"

namespace parm::profiler::cupti {

// "cudaLaunchKernel_v7000" for a CUPTI_CB_DOMAIN_RUNTIME_API callback id (cuptiGetCallbackName), or
// "runtime cbid <n>" where CUPTI has no name for it.
std::string runtime_api_name(std::uint32_t cbid);

// "CUPTI buffer flush", ... for a CUpti_ActivityOverheadKind.
std::string overhead_name(std::int32_t kind);

// Records of one process between two collects. Not thread-safe: the collector holds its lock around it.
class ActivityRecords {
 public:
  using RuntimeNamer = std::string (*)(std::uint32_t cbid);
  explicit ActivityRecords(RuntimeNamer namer = &runtime_api_name) : namer_(namer) {}

  // One record as cuptiActivityGetNextRecord handed it. Copies what it keeps (kernel names too: the buffer
  // is freed after). Kinds it does not convert are counted in skipped().
  void add(const CUpti_Activity& record);

  // Moves every record added so far into `out`: times from CLOCK_REALTIME onto profiler::now_ns's clock
  // (interpolated between the anchors), launch_id joined through correlationId with the external
  // correlation records (CUSTOM0) of this or the previous finish, in whichever order they arrived, names
  // interned into out.names. Kernel names stay mangled, as CUPTI reports them: the database writer
  // demangles (demangledName) and keeps the mangled one beside it.
  void finish(GpuActivity& out, const ClockAnchor& earlier, const ClockAnchor& later);

  std::int64_t skipped() const { return skipped_; }
  // External correlations waiting for a device record. One that no record joined survives into the next
  // finish, then is dropped: calls that launch nothing (cudaStreamSynchronize inside an op) have them too.
  std::size_t waiting_correlations() const { return external_.size() + external_previous_.size(); }

 private:
  std::int64_t launch_id_of(std::uint32_t correlation_id) const;
  std::int32_t runtime_name(std::uint32_t cbid);

  RuntimeNamer namer_;
  GpuActivity pending_;  // times still CLOCK_REALTIME ns; names index pending_.names
  std::unordered_map<std::uint32_t, std::int32_t> runtime_names_;  // cbid -> pending_.names index
  std::unordered_map<std::uint32_t, std::int64_t> external_;       // correlationId -> external id
  std::unordered_map<std::uint32_t, std::int64_t> external_previous_;
  std::int64_t skipped_ = 0;
};

}  // namespace parm::profiler::cupti
