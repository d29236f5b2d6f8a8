#include "engine/run/gpu_trace_rows.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <unordered_map>

namespace parm {
namespace {

// nsys: globalPid = pid << 24, globalTid = globalPid | tid.
std::int64_t global_pid(std::uint32_t pid) {
  return static_cast<std::int64_t>(pid) << 24;
}

std::int64_t global_tid(std::uint32_t pid, std::uint32_t tid) {
  return global_pid(pid) | static_cast<std::int64_t>(tid);
}

constexpr std::int64_t kParmDomainId = 1;      // NVTX_EVENTS.domainId of our one domain, "Parm"
constexpr std::int32_t kCudaRuntimeClass = 1;  // nsys eventClass of CUDA runtime calls

}  // namespace

std::int64_t RankClock::aligned(std::int64_t local_ns, std::int64_t reference_local_ns) const {
  const double offset = model.offset_at(reference_local_ns, start_local_ns, end_local_ns);
  return static_cast<std::int64_t>(static_cast<double>(local_ns) + offset) - origin_ns;
}

bool has_gpu_capture(const profiler::GpuActivity& gpu) {
  return gpu.process_id != 0 || !gpu.unavailable.empty() || !gpu.empty() || gpu.dropped_records > 0;
}

std::string demangle(const std::string& mangled) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(
      abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status), &std::free);
  return status == 0 && out ? std::string(out.get()) : mangled;
}

std::string short_kernel_name(const std::string& demangled) {
  // The parameter list is the first '(' outside template arguments that is not "(anonymous namespace)".
  static const std::string anonymous = "(anonymous namespace)";
  std::size_t end = demangled.size();
  int angle = 0;
  for (std::size_t i = 0; i < demangled.size(); ++i) {
    const char c = demangled[i];
    if (c == '<') ++angle;
    if (c == '>') --angle;
    if (c == '(' && angle == 0) {
      if (demangled.compare(i, anonymous.size(), anonymous) == 0) {
        i += anonymous.size() - 1;
        continue;
      }
      end = i;
      break;
    }
  }
  std::string name = demangled.substr(0, end);
  if (!name.empty() && name.back() == '>') {  // drop the template arguments of the function itself
    int depth = 0;
    for (std::size_t i = name.size(); i-- > 0;) {
      if (name[i] == '>') ++depth;
      if (name[i] == '<' && --depth == 0) {
        name.resize(i);
        break;
      }
    }
  }
  const std::size_t scope = name.rfind("::");
  if (scope != std::string::npos) name = name.substr(scope + 2);
  const std::size_t space = name.rfind(' ');  // "void foo" when there was no scope
  if (space != std::string::npos) name = name.substr(space + 1);
  return name.empty() ? demangled : name;
}

void append_gpu_rows(db::GpuActivityRows& rows, int rank, const profiler::GpuActivity& gpu,
                     std::span<const profiler::TraceEvent> events, std::int64_t first_event_id,
                     const RankClock& clock, const RankDevice& device) {
  if (!has_gpu_capture(gpu)) return;
  std::unordered_map<std::int64_t, std::int64_t> event_of_launch;
  for (std::size_t i = 0; i < events.size(); ++i)
    if (events[i].launch_id != 0)
      event_of_launch.emplace(events[i].launch_id, first_event_id + static_cast<std::int64_t>(i));
  const auto event_of = [&](std::int64_t launch_id) -> std::optional<std::int64_t> {
    const auto it = event_of_launch.find(launch_id);
    if (launch_id == 0 || it == event_of_launch.end()) return std::nullopt;
    return it->second;
  };
  const auto name_of = [&](std::int32_t id) {
    return id >= 0 && static_cast<std::size_t>(id) < gpu.names.size()
               ? gpu.names[static_cast<std::size_t>(id)]
               : std::string();
  };
  const std::int64_t pid = global_pid(gpu.process_id);
  // Where, when and under which op a device record ran: the fields every kernel, copy and memset row shares.
  const auto place = [&](auto& r, const auto& record) {
    r.rank = rank;
    r.start_ns = clock.aligned(record.start_ns, record.start_ns);
    r.end_ns = clock.aligned(record.end_ns, record.start_ns);
    r.device_id = record.device_id;
    r.context_id = record.context_id;
    r.stream_id = record.stream_id;
    r.correlation_id = record.correlation_id;
    r.global_pid = pid;
    r.event = event_of(record.launch_id);
  };

  for (const auto& k : gpu.kernels) {
    db::GpuKernelRow r;
    place(r, k);
    r.mangled_name = name_of(k.name);
    r.demangled_name = demangle(r.mangled_name);
    r.short_name = short_kernel_name(r.demangled_name);
    r.grid_x = k.grid_x;
    r.grid_y = k.grid_y;
    r.grid_z = k.grid_z;
    r.block_x = k.block_x;
    r.block_y = k.block_y;
    r.block_z = k.block_z;
    r.static_shared_bytes = k.static_shared_bytes;
    r.dynamic_shared_bytes = k.dynamic_shared_bytes;
    r.registers_per_thread = k.registers_per_thread;
    r.launch_type = k.launch_type;
    r.local_memory_total = k.local_memory_total;
    r.grid_id = k.grid_id;
    rows.kernels.push_back(std::move(r));
  }
  for (const auto& m : gpu.memcpys) {
    db::GpuMemcpyRow r;
    place(r, m);
    r.bytes = m.bytes;
    r.copy_kind = m.copy_kind;
    r.src_kind = m.src_kind;
    r.dst_kind = m.dst_kind;
    r.src_device_id = m.src_device_id;
    r.dst_device_id = m.dst_device_id;
    rows.memcpys.push_back(r);
  }
  for (const auto& m : gpu.memsets) {
    db::GpuMemsetRow r;
    place(r, m);
    r.bytes = m.bytes;
    r.value = m.value;
    r.memory_kind = m.memory_kind;
    rows.memsets.push_back(r);
  }
  for (const auto& c : gpu.runtime) {
    db::GpuRuntimeRow r;
    r.rank = rank;
    r.start_ns = clock.aligned(c.start_ns, c.start_ns);
    r.end_ns = clock.aligned(c.end_ns, c.start_ns);
    r.global_tid = global_tid(gpu.process_id, c.thread_id);
    r.correlation_id = c.correlation_id;
    r.name = name_of(c.name);
    r.return_value = c.return_value;
    r.event_class = kCudaRuntimeClass;
    rows.runtime.push_back(std::move(r));
  }
  for (const auto& n : gpu.nvtx) {
    db::NvtxRow r;
    r.rank = rank;
    r.start_ns = clock.aligned(n.start_ns, n.start_ns);
    r.end_ns = clock.aligned(n.end_ns, n.start_ns);
    r.global_tid = global_tid(gpu.process_id, n.thread_id);
    r.text = name_of(n.text);
    r.category = n.category;
    r.domain_id = kParmDomainId;
    r.payload = n.payload;
    r.event = event_of(n.launch_id);
    rows.nvtx.push_back(std::move(r));
  }

  db::GpuCaptureRow capture;
  capture.rank = rank;
  capture.status = gpu.unavailable;
  capture.dropped_records = gpu.dropped_records;
  capture.overhead_records = static_cast<std::int64_t>(gpu.overheads.size());
  for (const auto& o : gpu.overheads) capture.overhead_ns += o.end_ns - o.start_ns;
  capture.process_id = gpu.process_id;
  capture.process_name = "parm worker (rank " + std::to_string(rank) + ")";
  rows.captures.push_back(std::move(capture));

  if (device.ordinal >= 0) {
    db::GpuDeviceRow d;
    d.rank = rank;
    d.id = device.ordinal;
    d.name = device.name;
    d.bus_location = device.bus_location;
    d.uuid = device.uuid;
    // chip_name (nsys "GH100") stays empty: the CUDA runtime does not say it.
    d.total_memory = device.memory_bytes;
    d.memory_bandwidth = device.memory_bandwidth_bytes_s;
    d.l2_cache_size = device.l2_cache_bytes;
    d.clock_rate = device.clock_rate_khz * 1000;  // nsys: Hz
    d.sm_count = device.sm_count;
    d.compute_major = device.compute_major;
    d.compute_minor = device.compute_minor;
    rows.devices.push_back(std::move(d));
  }
}

}  // namespace parm
