// TimelineData's GPU part: stored kernels, copies and memsets become compact items on per-stream rows, each
// placed in the section (schedule) and iteration of the op that launched it.
#include "app/timeline/timeline_gpu.h"

#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_format.h"
#include "db/gpu_activity.h"

namespace parm::app {

QString memcpyKindName(int copyKind) {
  switch (copyKind) {  // CUpti_ActivityMemcpyKind
    case 1:
      return QStringLiteral("HtoD");
    case 2:
      return QStringLiteral("DtoH");
    case 3:
      return QStringLiteral("HtoA");
    case 4:
      return QStringLiteral("AtoH");
    case 5:
      return QStringLiteral("AtoA");
    case 6:
      return QStringLiteral("AtoD");
    case 7:
      return QStringLiteral("DtoA");
    case 8:
      return QStringLiteral("DtoD");
    case 9:
      return QStringLiteral("HtoH");
    case 10:
      return QStringLiteral("PtoP");
    default:
      return QStringLiteral("copy");
  }
}

void TimelineData::attachGpu(const db::GpuActivityRows& rows, const std::vector<std::int64_t>& eventIds) {
  gpu_.clear();
  gpuStreams_.clear();
  gpuCaptures_.clear();
  gpuByOp_.clear();
  for (const db::GpuCaptureRow& c : rows.captures)
    gpuCaptures_.push_back({c.rank, QString::fromStdString(c.status), c.dropped_records, c.overhead_ns});
  if (sections_.empty() || (rows.kernels.empty() && rows.memcpys.empty() && rows.memsets.empty())) return;

  // events.id -> measured_ index (ids are consecutive per stored batch, so mostly sorted already).
  std::vector<std::pair<std::int64_t, std::int32_t>> byId(eventIds.size());
  for (std::size_t i = 0; i < eventIds.size(); ++i) byId[i] = {eventIds[i], static_cast<std::int32_t>(i)};
  if (!std::is_sorted(byId.begin(), byId.end())) std::sort(byId.begin(), byId.end());
  auto opOf = [&](const std::optional<std::int64_t>& id) -> std::int32_t {
    if (!id) return -1;
    const auto it = std::lower_bound(byId.begin(), byId.end(), std::make_pair(*id, std::int32_t{-1}));
    return it != byId.end() && it->first == *id ? it->second : -1;
  };

  // Streams: one slot per (device, stream) of a rank, in that order.
  std::map<std::tuple<int, std::int64_t, std::int64_t>, std::int32_t> streamOf;
  auto noteStream = [&](int rank, std::int64_t device, std::int64_t stream) {
    streamOf.try_emplace({rank, device, stream}, 0);
  };
  for (const auto& k : rows.kernels) noteStream(k.rank, k.device_id, k.stream_id);
  for (const auto& m : rows.memcpys) noteStream(m.rank, m.device_id, m.stream_id);
  for (const auto& m : rows.memsets) noteStream(m.rank, m.device_id, m.stream_id);
  int lastRank = std::numeric_limits<int>::min(), slot = 0;
  for (auto& [key, index] : streamOf) {
    const auto& [rank, device, stream] = key;
    if (rank != lastRank) lastRank = rank, slot = 0;
    index = static_cast<std::int32_t>(gpuStreams_.size());
    gpuStreams_.push_back({rank, device, stream, kGpuLaneBase + slot++});
  }

  std::unordered_map<std::string, std::int32_t> names;
  auto name = [&](const std::string& text) {
    auto [it, added] = names.try_emplace(text, static_cast<std::int32_t>(strings_.size()));
    if (added) strings_.push_back(QString::fromStdString(text));
    return it->second;
  };

  // An item launched outside any traced op goes to the section whose measured span holds its start (else the
  // nearest one), in the iteration of that section that holds it (-1: shown in the whole-run mode only).
  std::vector<std::int64_t> sectionEnd(sections_.size(), std::numeric_limits<std::int64_t>::min());
  for (const TimelineEvent& e : measured_)
    sectionEnd[static_cast<std::size_t>(e.section)] =
        std::max(sectionEnd[static_cast<std::size_t>(e.section)], e.end_ns);
  auto place = [&](TimelineGpuItem& g) {
    if (g.op >= 0) {
      const TimelineEvent& e = measured_[static_cast<std::size_t>(g.op)];
      g.section = e.section;
      g.iteration = e.iteration;
      return;
    }
    std::size_t best = 0;
    std::int64_t bestDistance = std::numeric_limits<std::int64_t>::max();
    for (std::size_t s = 0; s < sections_.size(); ++s) {
      const std::int64_t a = sections_[s].firstStart, b = sectionEnd[s];
      const std::int64_t d = g.start_ns < a ? a - g.start_ns : (g.start_ns > b ? g.start_ns - b : 0);
      if (d < bestDistance) bestDistance = d, best = s;
    }
    g.section = static_cast<std::int16_t>(best);
    const TimelineSection& s = sections_[best];
    g.iteration = -1;
    for (std::size_t i = 0; i < s.iterationStart.size(); ++i)
      if (g.start_ns >= s.iterationStart[i] && g.start_ns <= s.iterationEnd[i])
        g.iteration = static_cast<int>(i);
  };
  auto common = [&](TimelineGpuItem& g, const auto& row) {
    g.start_ns = row.start_ns;
    g.end_ns = std::max(row.end_ns, row.start_ns);
    g.rank = static_cast<std::int16_t>(row.rank);
    g.stream = streamOf.at({row.rank, row.device_id, row.stream_id});
    g.op = opOf(row.event);
    place(g);
  };

  gpu_.reserve(rows.kernels.size() + rows.memcpys.size() + rows.memsets.size());
  for (const db::GpuKernelRow& k : rows.kernels) {
    TimelineGpuItem g;
    common(g, k);
    g.kind = GpuKind::Kernel;
    const std::string& full = !k.demangled_name.empty() ? k.demangled_name
                              : !k.short_name.empty()   ? k.short_name
                                                        : k.mangled_name;
    g.name = name(full);
    g.label = k.short_name.empty() ? g.name : name(k.short_name);
    g.grid[0] = k.grid_x, g.grid[1] = k.grid_y, g.grid[2] = k.grid_z;
    g.block[0] = k.block_x, g.block[1] = k.block_y, g.block[2] = k.block_z;
    g.staticShared = k.static_shared_bytes;
    g.dynamicShared = k.dynamic_shared_bytes;
    g.registers = k.registers_per_thread;
    gpu_.push_back(g);
  }
  for (const db::GpuMemcpyRow& m : rows.memcpys) {
    TimelineGpuItem g;
    common(g, m);
    g.kind = GpuKind::Memcpy;
    g.bytes = m.bytes;
    g.copyKind = m.copy_kind;
    g.name = g.label = name("memcpy " + memcpyKindName(m.copy_kind).toStdString());
    gpu_.push_back(g);
  }
  for (const db::GpuMemsetRow& m : rows.memsets) {
    TimelineGpuItem g;
    common(g, m);
    g.kind = GpuKind::Memset;
    g.bytes = m.bytes;
    g.copyKind = m.value;
    g.name = g.label = name("memset");
    gpu_.push_back(g);
  }
  for (std::size_t i = 0; i < gpu_.size(); ++i)
    if (gpu_[i].op >= 0) gpuByOp_.push_back(static_cast<std::int32_t>(i));
  std::sort(gpuByOp_.begin(), gpuByOp_.end(), [&](std::int32_t a, std::int32_t b) {
    const TimelineGpuItem &x = gpu_[static_cast<std::size_t>(a)], &y = gpu_[static_cast<std::size_t>(b)];
    return std::tie(x.op, x.start_ns, a) < std::tie(y.op, y.start_ns, b);
  });
}

std::vector<std::int32_t> TimelineData::gpuItemsOf(std::int32_t op) const {
  auto opAt = [&](std::int32_t i) { return gpu_[static_cast<std::size_t>(i)].op; };
  const auto first =
      std::partition_point(gpuByOp_.begin(), gpuByOp_.end(), [&](std::int32_t i) { return opAt(i) < op; });
  const auto last =
      std::partition_point(first, gpuByOp_.end(), [&](std::int32_t i) { return opAt(i) == op; });
  return {first, last};
}

QString TimelineData::gpuCaptureNote(int rank) const {
  for (const TimelineGpuCapture& c : gpuCaptures_) {
    if (c.rank != rank) continue;
    if (!c.status.isEmpty()) return c.status.section(QLatin1Char(':'), 0, 0);  // "CUPTI unavailable"
    if (c.droppedRecords > 0) return QStringLiteral("%1 dropped").arg(c.droppedRecords);
  }
  return {};
}

QString TimelineData::gpuCaptureTip(int rank) const {
  for (const TimelineGpuCapture& c : gpuCaptures_) {
    if (c.rank != rank) continue;
    if (!c.status.isEmpty()) return c.status;
    QString tip = QStringLiteral("GPU activity captured (CUPTI overhead %1)")
                      .arg(formatDuration(static_cast<double>(c.overheadNs)));
    if (c.droppedRecords > 0)
      tip += QStringLiteral("; CUPTI dropped %1 records (buffers full): some GPU work is missing")
                 .arg(c.droppedRecords);
    return tip;
  }
  return {};
}

}  // namespace parm::app
