#include "profiler/cupti/cupti_collector.h"

#include <cuda_runtime_api.h>
#include <cupti.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <utility>

#include "profiler/cupti/cupti_records.h"

namespace parm::profiler::cupti {
namespace {

constexpr std::size_t kBufferBytes = 8u << 20;

struct KindToEnable {
  CUpti_ActivityKind kind;
  const char* call;
};
constexpr std::array<KindToEnable, 6> kKinds{{
    {CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, "cuptiActivityEnable(CONCURRENT_KERNEL)"},
    {CUPTI_ACTIVITY_KIND_MEMCPY, "cuptiActivityEnable(MEMCPY)"},
    {CUPTI_ACTIVITY_KIND_MEMSET, "cuptiActivityEnable(MEMSET)"},
    {CUPTI_ACTIVITY_KIND_RUNTIME, "cuptiActivityEnable(RUNTIME)"},
    {CUPTI_ACTIVITY_KIND_OVERHEAD, "cuptiActivityEnable(OVERHEAD)"},
    {CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION, "cuptiActivityEnable(EXTERNAL_CORRELATION)"},
}};

// What the CUPTI callbacks share with the collector. Never destroyed: CUPTI may deliver a buffer while the
// process exits.
struct SharedState {
  std::mutex mutex;
  ActivityRecords records;
  std::int64_t dropped = 0;
  bool accepting = false;  // a live collector wants the records
};
SharedState& shared() {
  static auto* state = new SharedState;
  return *state;
}
std::atomic<bool> g_collector_live{false};

void CUPTIAPI buffer_requested(std::uint8_t** buffer, std::size_t* size, std::size_t* max_records) {
  *buffer = static_cast<std::uint8_t*>(std::aligned_alloc(8, kBufferBytes));
  *size = *buffer ? kBufferBytes : 0;  // no buffer: CUPTI drops the records and counts them
  *max_records = 0;                    // as many as fit
}

void CUPTIAPI buffer_completed(CUcontext context, std::uint32_t stream_id, std::uint8_t* buffer, std::size_t,
                               std::size_t valid_bytes) {
  SharedState& state = shared();
  {
    std::lock_guard lock(state.mutex);
    if (state.accepting && buffer) {
      CUpti_Activity* record = nullptr;
      // Until CUPTI_ERROR_MAX_LIMIT_REACHED (the buffer's end); any other error also ends this buffer.
      while (cuptiActivityGetNextRecord(buffer, valid_bytes, &record) == CUPTI_SUCCESS)
        state.records.add(*record);
    }
    std::size_t dropped = 0;
    if (cuptiActivityGetNumDroppedRecords(context, stream_id, &dropped) == CUPTI_SUCCESS)
      state.dropped += static_cast<std::int64_t>(dropped);
  }
  std::free(buffer);
}

std::string device_hint() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess)
    return std::string("no CUDA driver or no device (cudaGetDeviceCount: ") + cudaGetErrorName(status) + ")";
  if (count == 0) return "no CUDA device";
  return "";
}

}  // namespace

std::string cupti_failure_text(const std::string& call, int result, const std::string& hint) {
  const char* name = nullptr;
  std::string text = "CUPTI unavailable: " + call + " returned ";
  if (cuptiGetResultString(static_cast<CUptiResult>(result), &name) == CUPTI_SUCCESS && name)
    text += name;
  else
    text += "CUPTI_ERROR";
  text += " (" + std::to_string(result) + ")";
  if (!hint.empty()) text += ": " + hint;
  return text;
}

CuptiCollector::CuptiCollector() {
  if (g_collector_live.exchange(true)) {
    unavailable_ =
        "CUPTI unavailable: another capture is live in this process (CUPTI activity is process-wide)";
    return;
  }
  owns_cupti_ = true;
  static const CUptiResult registered = cuptiActivityRegisterCallbacks(&buffer_requested, &buffer_completed);
  if (registered != CUPTI_SUCCESS) {
    fail(cupti_failure_text("cuptiActivityRegisterCallbacks", registered, device_hint()));
    return;
  }
  {
    std::lock_guard lock(shared().mutex);
    shared().accepting = true;
  }
  for (const KindToEnable& k : kKinds) {
    const CUptiResult status = cuptiActivityEnable(k.kind);
    if (status != CUPTI_SUCCESS) {
      fail(cupti_failure_text(k.call, status, device_hint()));
      return;
    }
  }
  // Peer-to-peer copies (CUpti_ActivityMemcpyPtoP4) only: the capture is useful without them.
  peer_copies_ = cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMCPY2) == CUPTI_SUCCESS;
  last_anchor_ = measure_clock_anchor();
}

void CuptiCollector::fail(std::string reason) {
  unavailable_ = std::move(reason);
  for (const KindToEnable& k : kKinds) cuptiActivityDisable(k.kind);  // those that did enable
  {
    std::lock_guard lock(shared().mutex);
    shared().accepting = false;
  }
  owns_cupti_ = false;
  g_collector_live = false;
}

CuptiCollector::~CuptiCollector() {
  stop();
}

void CuptiCollector::stop() {
  if (!owns_cupti_) return;
  owns_cupti_ = false;
  for (const KindToEnable& k : kKinds) cuptiActivityDisable(k.kind);
  if (peer_copies_) cuptiActivityDisable(CUPTI_ACTIVITY_KIND_MEMCPY2);
  {
    std::lock_guard lock(shared().mutex);
    shared().accepting = false;
  }
  cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);  // what is left is dropped, not kept for the next
  {
    std::lock_guard lock(shared().mutex);
    shared().records = ActivityRecords{};
    shared().dropped = 0;
  }
  g_collector_live = false;
}

void CuptiCollector::push_launch(std::int64_t launch_id) {
  if (owns_cupti_)
    cuptiActivityPushExternalCorrelationId(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0,
                                           static_cast<std::uint64_t>(launch_id));
}

void CuptiCollector::pop_launch() {
  std::uint64_t last = 0;
  if (owns_cupti_) cuptiActivityPopExternalCorrelationId(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0, &last);
}

void CuptiCollector::collect(GpuActivity& out) {
  if (!owns_cupti_) {
    out.unavailable = unavailable_;
    return;
  }
  // Delivers every buffer, the partly filled ones too, through buffer_completed before it returns.
  const CUptiResult flushed = cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  const ClockAnchor now = measure_clock_anchor();
  std::size_t dropped = 0;
  const bool counted = cuptiActivityGetNumDroppedRecords(nullptr, 0, &dropped) == CUPTI_SUCCESS;
  {
    SharedState& state = shared();
    std::lock_guard lock(state.mutex);
    state.records.finish(out, last_anchor_, now);
    out.dropped_records += state.dropped + (counted ? static_cast<std::int64_t>(dropped) : 0);
    state.dropped = 0;
  }
  out.process_id = static_cast<std::uint32_t>(getpid());
  last_anchor_ = now;
  if (flushed != CUPTI_SUCCESS) {
    out.unavailable = cupti_failure_text("cuptiActivityFlushAll", flushed, "");
    unavailable_ = out.unavailable;  // said once; what was delivered is kept, nothing more is captured
    stop();
  }
}

}  // namespace parm::profiler::cupti
