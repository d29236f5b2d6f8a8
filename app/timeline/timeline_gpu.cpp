// TimelineData's GPU part: stored kernels, copies and memsets become compact items on per-stream rows, each
// placed in the section (schedule) and iteration of the op that launched it.
#include "app/timeline/timeline_gpu.h"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_format.h"
#include "db/gpu_timeline_query.h"

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

void TimelineData::readGpu(const db::Database& db, const std::vector<std::int64_t>& eventIds) {
  gpu_.clear();
  gpuStreams_.clear();
  gpuCaptures_.clear();
  gpuByOp_.clear();
  for (const db::GpuCaptureRow& c : db::gpu_capture_status(db, run_))
    gpuCaptures_.push_back({c.rank, QString::fromStdString(c.status), c.dropped_records, c.overhead_ns});

  // events.id -> measured_ index. Ids are consecutive per stored batch, so a table indexed by id is small and
  // one memory access per lookup; ids scattered by runs written at once fall back to a sorted search.
  std::vector<std::int32_t> indexOfId;
  std::vector<std::pair<std::int64_t, std::int32_t>> sortedIds;
  std::int64_t firstId = 0;
  bool built = false;
  auto buildIdTable = [&] {  // on the first GPU row: runs without any skip it
    built = true;
    if (eventIds.empty()) return;
    const auto [lo, hi] = std::minmax_element(eventIds.begin(), eventIds.end());
    firstId = *lo;
    if (*hi - *lo < 4 * static_cast<std::int64_t>(eventIds.size()) + 1024) {
      indexOfId.assign(static_cast<std::size_t>(*hi - *lo + 1), -1);
      for (std::size_t i = 0; i < eventIds.size(); ++i)
        indexOfId[static_cast<std::size_t>(eventIds[i] - firstId)] = static_cast<std::int32_t>(i);
      return;
    }
    sortedIds.resize(eventIds.size());
    for (std::size_t i = 0; i < eventIds.size(); ++i)
      sortedIds[i] = {eventIds[i], static_cast<std::int32_t>(i)};
    std::sort(sortedIds.begin(), sortedIds.end());
  };
  auto opOf = [&](std::int64_t id) -> std::int32_t {
    if (!built) buildIdTable();
    if (id < 0) return -1;
    if (!indexOfId.empty()) {
      const std::int64_t at = id - firstId;
      return at < 0 || at >= static_cast<std::int64_t>(indexOfId.size())
                 ? -1
                 : indexOfId[static_cast<std::size_t>(at)];
    }
    const auto it =
        std::lower_bound(sortedIds.begin(), sortedIds.end(), std::make_pair(id, std::int32_t{-1}));
    return it != sortedIds.end() && it->first == id ? it->second : -1;
  };
  // Streams in order of first sight; lanes (slots per rank in (device, stream) order) once all are known.
  std::map<std::tuple<int, std::int64_t, std::int64_t>, std::int32_t> streamOf;
  auto streamIndex = [&](const db::GpuTimelineRow& row) {
    const auto [it, added] = streamOf.try_emplace({row.rank, row.device_id, row.stream_id},
                                                  static_cast<std::int32_t>(gpuStreams_.size()));
    if (added) gpuStreams_.push_back({row.rank, row.device_id, row.stream_id, kGpuLaneBase});
    return it->second;
  };
  std::unordered_map<std::int32_t, std::int32_t> localOf;  // StringIds id -> strings_ index
  auto str = [&](std::int32_t id) {
    auto [it, added] = localOf.try_emplace(id, static_cast<std::int32_t>(strings_.size()));
    if (added) strings_.push_back(QString::fromStdString(db.string(id)));
    return it->second;
  };
  std::unordered_map<std::string, std::int32_t> fixed;  // "memcpy DtoD", "memset"
  auto text = [&](const QString& t) {
    auto [it, added] = fixed.try_emplace(t.toStdString(), static_cast<std::int32_t>(strings_.size()));
    if (added) strings_.push_back(t);
    return it->second;
  };
  auto nonEmpty = [&](std::int32_t id) { return id >= 0 && !strings_[str(id)].isEmpty(); };

  db::for_each_gpu_timeline_row(db, run_, [&](const db::GpuTimelineRow& row) {
    TimelineGpuItem g;
    g.start_ns = row.start_ns;
    g.end_ns = std::max(row.end_ns, row.start_ns);
    g.rank = static_cast<std::int16_t>(row.rank);
    g.stream = streamIndex(row);
    g.op = opOf(row.event);
    g.bytes = row.bytes;
    switch (row.kind) {
      case db::GpuTimelineKind::Kernel: {
        g.kind = GpuKind::Kernel;
        const std::int32_t full = nonEmpty(row.demangled_name) ? row.demangled_name
                                  : nonEmpty(row.short_name)   ? row.short_name
                                                               : row.mangled_name;
        g.name = full >= 0 ? str(full) : text(QStringLiteral("kernel"));
        g.label = nonEmpty(row.short_name) ? str(row.short_name) : g.name;
        std::copy(row.grid, row.grid + 3, g.grid);
        std::copy(row.block, row.block + 3, g.block);
        g.staticShared = row.static_shared_bytes;
        g.dynamicShared = row.dynamic_shared_bytes;
        g.registers = row.registers_per_thread;
        break;
      }
      case db::GpuTimelineKind::Memcpy:
        g.kind = GpuKind::Memcpy;
        g.copyKind = row.copy_kind;
        g.name = g.label = text(QStringLiteral("memcpy ") + memcpyKindName(row.copy_kind));
        break;
      case db::GpuTimelineKind::Memset:
        g.kind = GpuKind::Memset;
        g.copyKind = row.value;
        g.name = g.label = text(QStringLiteral("memset"));
        break;
    }
    gpu_.push_back(g);
  });

  std::vector<std::int32_t> order(gpuStreams_.size());
  std::iota(order.begin(), order.end(), 0);
  auto key = [&](std::int32_t i) {
    const TimelineGpuStream& s = gpuStreams_[static_cast<std::size_t>(i)];
    return std::make_tuple(s.rank, s.device, s.stream);
  };
  std::sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) { return key(a) < key(b); });
  int lastRank = std::numeric_limits<int>::min(), slot = 0;
  for (std::int32_t i : order) {
    TimelineGpuStream& s = gpuStreams_[static_cast<std::size_t>(i)];
    if (s.rank != lastRank) lastRank = s.rank, slot = 0;
    s.lane = kGpuLaneBase + slot++;
  }
}

// An item launched outside any traced op goes to the section whose measured span holds its start (else the
// nearest one), in the iteration of that section that holds it (-1: shown in the whole-run mode only).
void TimelineData::placeGpu() {
  if (sections_.empty()) gpu_.clear();  // no measured op to place anything against
  std::vector<std::int64_t> sectionEnd(sections_.size(), std::numeric_limits<std::int64_t>::min());
  bool unattributed = false;
  for (const TimelineGpuItem& g : gpu_) unattributed |= g.op < 0;
  if (unattributed)
    for (const TimelineEvent& e : measured_)
      sectionEnd[static_cast<std::size_t>(e.section)] =
          std::max(sectionEnd[static_cast<std::size_t>(e.section)], e.end_ns);
  for (TimelineGpuItem& g : gpu_) {
    if (g.op >= 0) {
      const TimelineEvent& e = measured_[static_cast<std::size_t>(g.op)];
      g.section = e.section;
      g.iteration = e.iteration;
      continue;
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
    for (std::size_t i = 0; i < s.iterationStart.size() && g.iteration < 0; ++i)
      if (g.start_ns >= s.iterationStart[i] && g.start_ns <= s.iterationEnd[i])
        g.iteration = static_cast<int>(i);
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
