#include "profiler/cupti/cupti_records.h"

#include <cupti_callbacks.h>

#include <vector>

namespace parm::profiler::cupti {
namespace {

std::int64_t ns(std::uint64_t timestamp) {
  return static_cast<std::int64_t>(timestamp);
}

// Where and when a device record ran: the fields every kernel, copy and memset record shares.
template <typename Record, typename Cupti>
void copy_placement(Record& r, const Cupti& c) {
  r.start_ns = ns(c.start);
  r.end_ns = ns(c.end);
  r.device_id = c.deviceId;
  r.context_id = c.contextId;
  r.stream_id = c.streamId;
  r.correlation_id = c.correlationId;
}

GpuKernelRecord kernel_of(const CUpti_ActivityKernel10& k, std::int32_t name) {
  GpuKernelRecord r;
  copy_placement(r, k);
  r.name = name;
  r.grid_x = k.gridX;
  r.grid_y = k.gridY;
  r.grid_z = k.gridZ;
  r.block_x = k.blockX;
  r.block_y = k.blockY;
  r.block_z = k.blockZ;
  r.static_shared_bytes = k.staticSharedMemory;
  r.dynamic_shared_bytes = k.dynamicSharedMemory;
  r.registers_per_thread = k.registersPerThread;
  r.launch_type = k.launchType;
  r.local_memory_total = static_cast<std::int64_t>(k.localMemoryTotal_v2);
  r.grid_id = k.gridId;
  return r;
}

// Memcpy6 and MemcpyPtoP4 share these fields; a peer copy adds its two devices.
template <typename CuptiMemcpy>
GpuMemcpyRecord memcpy_of(const CuptiMemcpy& m) {
  GpuMemcpyRecord r;
  copy_placement(r, m);
  r.bytes = static_cast<std::int64_t>(m.bytes);
  r.copy_kind = m.copyKind;
  r.src_kind = m.srcKind;
  r.dst_kind = m.dstKind;
  return r;
}

GpuMemcpyRecord peer_memcpy_of(const CUpti_ActivityMemcpyPtoP4& m) {
  GpuMemcpyRecord r = memcpy_of(m);
  r.src_device_id = static_cast<std::int32_t>(m.srcDeviceId);
  r.dst_device_id = static_cast<std::int32_t>(m.dstDeviceId);
  return r;
}

GpuMemsetRecord memset_of(const CUpti_ActivityMemset4& m) {
  GpuMemsetRecord r;
  copy_placement(r, m);
  r.bytes = static_cast<std::int64_t>(m.bytes);
  r.value = static_cast<std::int32_t>(m.value);
  r.memory_kind = m.memoryKind;
  return r;
}

}  // namespace

std::string runtime_api_name(std::uint32_t cbid) {
  const char* name = nullptr;
  if (cuptiGetCallbackName(CUPTI_CB_DOMAIN_RUNTIME_API, cbid, &name) == CUPTI_SUCCESS && name && *name)
    return name;
  return "runtime cbid " + std::to_string(cbid);
}

std::string overhead_name(std::int32_t kind) {
  switch (kind) {
    case CUPTI_ACTIVITY_OVERHEAD_DRIVER_COMPILER:
      return "driver compiler";
    case CUPTI_ACTIVITY_OVERHEAD_CUPTI_BUFFER_FLUSH:
      return "CUPTI buffer flush";
    case CUPTI_ACTIVITY_OVERHEAD_CUPTI_INSTRUMENTATION:
      return "CUPTI instrumentation";
    case CUPTI_ACTIVITY_OVERHEAD_CUPTI_RESOURCE:
      return "CUPTI resource";
    case CUPTI_ACTIVITY_OVERHEAD_RUNTIME_TRIGGERED_MODULE_LOADING:
      return "runtime triggered module loading";
    case CUPTI_ACTIVITY_OVERHEAD_LAZY_FUNCTION_LOADING:
      return "lazy function loading";
    case CUPTI_ACTIVITY_OVERHEAD_COMMAND_BUFFER_FULL:
      return "command buffer full";
    case CUPTI_ACTIVITY_OVERHEAD_ACTIVITY_BUFFER_REQUEST:
      return "activity buffer request";
    case CUPTI_ACTIVITY_OVERHEAD_UVM_ACTIVITY_INIT:
      return "UVM activity init";
    default:
      return "CUPTI overhead " + std::to_string(kind);
  }
}

void ActivityRecords::add(const CUpti_Activity& record) {
  switch (record.kind) {
    case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL: {
      const auto& k = reinterpret_cast<const CUpti_ActivityKernel10&>(record);
      pending_.kernels.push_back(kernel_of(k, pending_.intern(k.name ? k.name : "")));
      break;
    }
    case CUPTI_ACTIVITY_KIND_MEMCPY:
      pending_.memcpys.push_back(memcpy_of(reinterpret_cast<const CUpti_ActivityMemcpy6&>(record)));
      break;
    case CUPTI_ACTIVITY_KIND_MEMCPY2:
      pending_.memcpys.push_back(peer_memcpy_of(reinterpret_cast<const CUpti_ActivityMemcpyPtoP4&>(record)));
      break;
    case CUPTI_ACTIVITY_KIND_MEMSET:
      pending_.memsets.push_back(memset_of(reinterpret_cast<const CUpti_ActivityMemset4&>(record)));
      break;
    case CUPTI_ACTIVITY_KIND_RUNTIME: {
      const auto& a = reinterpret_cast<const CUpti_ActivityAPI&>(record);
      GpuRuntimeRecord r;
      r.start_ns = ns(a.start);
      r.end_ns = ns(a.end);
      r.correlation_id = a.correlationId;
      r.thread_id = a.threadId;
      r.name = runtime_name(a.cbid);
      r.return_value = static_cast<std::int32_t>(a.returnValue);
      r.callback_id = static_cast<std::int32_t>(a.cbid);
      pending_.runtime.push_back(r);
      break;
    }
    case CUPTI_ACTIVITY_KIND_OVERHEAD: {
      const auto& o = reinterpret_cast<const CUpti_ActivityOverhead3&>(record);
      GpuOverheadRecord r;
      r.start_ns = ns(o.start);
      r.end_ns = ns(o.end);
      r.kind = static_cast<std::int32_t>(o.overheadKind);
      r.name = pending_.intern(overhead_name(r.kind));
      pending_.overheads.push_back(r);
      break;
    }
    case CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION: {
      const auto& e = reinterpret_cast<const CUpti_ActivityExternalCorrelation&>(record);
      if (e.externalKind == CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0)
        external_[e.correlationId] = static_cast<std::int64_t>(e.externalId);
      break;
    }
    default:
      ++skipped_;
  }
}

std::int32_t ActivityRecords::runtime_name(std::uint32_t cbid) {
  const auto found = runtime_names_.find(cbid);
  if (found != runtime_names_.end()) return found->second;
  const std::int32_t id = pending_.intern(namer_(cbid));
  runtime_names_.emplace(cbid, id);
  return id;
}

std::int64_t ActivityRecords::launch_id_of(std::uint32_t correlation_id) const {
  if (const auto e = external_.find(correlation_id); e != external_.end()) return e->second;
  if (const auto e = external_previous_.find(correlation_id); e != external_previous_.end()) return e->second;
  return 0;
}

void ActivityRecords::finish(GpuActivity& out, const ClockAnchor& earlier, const ClockAnchor& later) {
  std::vector<std::int32_t> name_in_out(pending_.names.size());
  for (std::size_t i = 0; i < pending_.names.size(); ++i) name_in_out[i] = out.intern(pending_.names[i]);
  const auto steady = [&](std::int64_t& t) { t = realtime_to_steady_ns(t, earlier, later); };
  // Correlation ids a device record joined: one API call launches one kernel, copy or memset.
  std::vector<std::uint32_t> joined;
  const auto join = [&](auto& r) {
    steady(r.start_ns);
    steady(r.end_ns);
    r.launch_id = launch_id_of(r.correlation_id);
    if (r.launch_id != 0) joined.push_back(r.correlation_id);
  };
  for (auto& k : pending_.kernels) {
    join(k);
    k.name = name_in_out[static_cast<std::size_t>(k.name)];
    out.kernels.push_back(k);
  }
  for (auto& m : pending_.memcpys) {
    join(m);
    out.memcpys.push_back(m);
  }
  for (auto& m : pending_.memsets) {
    join(m);
    out.memsets.push_back(m);
  }
  for (auto& r : pending_.runtime) {
    steady(r.start_ns);
    steady(r.end_ns);
    r.name = name_in_out[static_cast<std::size_t>(r.name)];
    out.runtime.push_back(r);
  }
  for (auto& o : pending_.overheads) {
    steady(o.start_ns);
    steady(o.end_ns);
    o.name = name_in_out[static_cast<std::size_t>(o.name)];
    out.overheads.push_back(o);
  }
  for (const std::uint32_t id : joined) {
    external_.erase(id);
    external_previous_.erase(id);
  }
  external_previous_ = std::move(external_);  // older unjoined ones are dropped here
  external_.clear();
  pending_ = GpuActivity{};
  runtime_names_.clear();
}

}  // namespace parm::profiler::cupti
