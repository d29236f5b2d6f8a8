#include "profiler/nvtx_ranges.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>

#include "profiler/op_tracer.h"

#ifdef PARM_HAVE_NVTX
#include <nvtx3/nvToolsExt.h>
#endif

namespace parm::profiler {
namespace {

// Every registered text of the process, in registration order (message id = index).
struct Registry {
  std::mutex mutex;
  std::vector<std::string> texts;
  std::vector<const void*> handles;
};

Registry& registry() {
  static Registry r;
  return r;
}

#ifdef PARM_HAVE_NVTX
// Made once per process, categories named with it, so a tool sees one "Parm" domain however many executors
// run.
nvtxDomainHandle_t domain() {
  static const nvtxDomainHandle_t d = [] {
    nvtxDomainHandle_t h = nvtxDomainCreateA("Parm");
    nvtxDomainNameCategoryA(h, static_cast<std::uint32_t>(NvtxCategory::Compute), "compute");
    nvtxDomainNameCategoryA(h, static_cast<std::uint32_t>(NvtxCategory::IntraNode), "intra-node");
    nvtxDomainNameCategoryA(h, static_cast<std::uint32_t>(NvtxCategory::InterNode), "inter-node");
    return h;
  }();
  return d;
}

std::uint32_t colour_of(NvtxCategory c) {
  switch (c) {
    case NvtxCategory::Compute:
      return 0xFF4C8BF5u;  // blue, as the GUI's compute lane
    case NvtxCategory::IntraNode:
      return 0xFF2EA043u;  // green
    case NvtxCategory::InterNode:
      return 0xFFE36209u;  // orange
  }
  return 0xFF808080u;
}
#endif

}  // namespace

void NvtxRangeLog::open(std::int32_t message_id, std::uint32_t category, std::uint64_t payload,
                        std::int64_t launch_id) noexcept {
  if (thread_id_ == 0) thread_id_ = static_cast<std::uint32_t>(::syscall(SYS_gettid));
  const std::size_t depth = depth_++;
  if (used_ == records_.size()) {
    ++overflow_;
    if (depth < kMaxDepth) open_[depth] = records_.size();  // marks "not stored"
    return;
  }
  NvtxRangeRecord& r = records_[used_];
  r.start_ns = now_ns();
  r.end_ns = r.start_ns;
  r.launch_id = launch_id;
  r.text = message_id;
  r.category = static_cast<std::int32_t>(category);
  r.payload = payload;
  r.thread_id = thread_id_;
  if (depth < kMaxDepth) open_[depth] = used_;
  ++used_;
}

void NvtxRangeLog::close() noexcept {
  if (depth_ == 0) return;
  const std::size_t depth = --depth_;
  if (depth >= kMaxDepth) return;
  const std::size_t i = open_[depth];
  if (i < used_) records_[i].end_ns = now_ns();
}

void NvtxRangeLog::move_into(GpuActivity& out) {
  std::vector<std::int32_t> local;  // message id -> index in out.names
  for (std::size_t i = 0; i < used_; ++i) {
    NvtxRangeRecord r = records_[i];
    const auto id = static_cast<std::size_t>(r.text);
    if (r.text >= 0) {
      if (id >= local.size()) local.resize(id + 1, -1);
      if (local[id] < 0) local[id] = out.intern(NvtxRanges::text_of(r.text));
      r.text = local[id];
    }
    out.nvtx.push_back(r);
  }
  used_ = 0;
  depth_ = 0;
}

bool NvtxRanges::compiled_in() {
#ifdef PARM_HAVE_NVTX
  return true;
#else
  return false;
#endif
}

NvtxMessage NvtxRanges::register_message(std::string_view text) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (std::size_t i = 0; i < r.texts.size(); ++i)
    if (r.texts[i] == text) return {r.handles[i], static_cast<std::int32_t>(i)};
  r.texts.emplace_back(text);
  const void* handle = nullptr;
#ifdef PARM_HAVE_NVTX
  handle = nvtxDomainRegisterStringA(domain(), r.texts.back().c_str());
#endif
  r.handles.push_back(handle);
  return {handle, static_cast<std::int32_t>(r.texts.size() - 1)};
}

std::string NvtxRanges::text_of(std::int32_t message_id) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  if (message_id < 0 || static_cast<std::size_t>(message_id) >= r.texts.size()) return {};
  return r.texts[static_cast<std::size_t>(message_id)];
}

void NvtxRanges::push(const NvtxMessage& message, NvtxCategory category, std::uint64_t payload,
                      std::int64_t launch_id) noexcept {
  if (log_) log_->open(message.id, static_cast<std::uint32_t>(category), payload, launch_id);
#ifdef PARM_HAVE_NVTX
  nvtxEventAttributes_t a{};
  a.version = NVTX_VERSION;
  a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  a.category = static_cast<std::uint32_t>(category);
  a.colorType = NVTX_COLOR_ARGB;
  a.color = colour_of(category);
  a.payloadType = NVTX_PAYLOAD_TYPE_UNSIGNED_INT64;
  a.payload.ullValue = payload;
  a.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
  a.message.registered = static_cast<nvtxStringHandle_t>(const_cast<void*>(message.handle));
  nvtxDomainRangePushEx(domain(), &a);
#endif
}

void NvtxRanges::pop() noexcept {
#ifdef PARM_HAVE_NVTX
  nvtxDomainRangePop(domain());
#endif
  if (log_) log_->close();
}

}  // namespace parm::profiler
