// NVTX ranges of the "Parm" domain, so a tool that injects itself into NVTX (nsys, or a test's recorder) sees
// our structure: one push/pop range per op and per pipeline step, a category per lane (1 compute, 2
// intra-node, 3 inter-node), a registered string per op name and the iteration as uint64 payload. Without a
// tool each call is one load and a branch inside NVTX (no tool: its function pointers are null), so the
// executor pushes them always. Built without the NVTX header (PARM_HAVE_NVTX undefined) the calls compile to
// nothing.
//
// Optionally the ranges are also kept (NvtxRangeLog: host start/end, text, category, payload, launch id and
// thread id in a buffer preallocated before the run) and moved into GpuActivity::nvtx for storage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "profiler/gpu_activity.h"
#include "profiler/trace_budget.h"

namespace parm::profiler {

// NVTX categories of the "Parm" domain: the lane + 1 (0 is NVTX's "no category").
enum class NvtxCategory : std::uint32_t { Compute = 1, IntraNode = 2, InterNode = 3 };

// A string registered once per process in the "Parm" domain; `id` indexes the process's registered texts.
struct NvtxMessage {
  const void* handle = nullptr;  // nvtxStringHandle_t (null when no tool is attached or NVTX is left out)
  std::int32_t id = -1;
};

// The host record of the ranges pushed while it is attached; never allocates after construction.
class NvtxRangeLog {
 public:
  // Room for `capacity` ranges, at most kTraceBufferBytes of them (trace_budget.h).
  explicit NvtxRangeLog(std::size_t capacity) : records_(bounded_records<NvtxRangeRecord>(capacity)) {}

  void open(std::int32_t message_id, std::uint32_t category, std::uint64_t payload,
            std::int64_t launch_id) noexcept;
  void close() noexcept;  // ends the innermost open range

  std::size_t size() const { return used_; }
  std::size_t overflow() const { return overflow_; }
  const NvtxRangeRecord& operator[](std::size_t i) const { return records_[i]; }
  // Appends the closed ranges to out.nvtx (texts interned into out.names) and empties the log.
  void move_into(GpuActivity& out);

 private:
  static constexpr std::size_t kMaxDepth = 8;
  std::vector<NvtxRangeRecord> records_;
  std::size_t used_ = 0, overflow_ = 0;
  std::size_t open_[kMaxDepth] = {};
  std::size_t depth_ = 0;        // ranges open, including ones that did not fit
  std::uint32_t thread_id_ = 0;  // gettid of the pushing thread, taken once
};

class NvtxRanges {
 public:
  static bool compiled_in();  // false in a build without the NVTX header
  // Registers `text` in the "Parm" domain (the domain and its categories are made on the first call); the
  // same text gives the same message. Not for the hot path (a lock and a search).
  static NvtxMessage register_message(std::string_view text);
  static std::string text_of(std::int32_t message_id);

  // Keeps every following range in `log` too (nullptr: only NVTX).
  void record_into(NvtxRangeLog* log) { log_ = log; }
  NvtxRangeLog* log() const { return log_; }

  void push(const NvtxMessage& message, NvtxCategory category, std::uint64_t payload,
            std::int64_t launch_id) noexcept;
  void pop() noexcept;

 private:
  NvtxRangeLog* log_ = nullptr;
};

}  // namespace parm::profiler
