// TimelineView and GPU rows: the tooltip of a kernel, copy or memset, and the outline tying an op to the GPU
// work it launched (hover either one).
#include <QFontMetrics>
#include <QStringList>
#include <algorithm>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_format.h"
#include "app/timeline/timeline_view.h"

namespace parm::app {
namespace {

constexpr std::size_t kMaxOutlined = 2000;  // an op with more GPU items than this is outlined in part
constexpr int kNameWidthPx = 640;           // long template names are elided to about this width

QString dims(const std::int32_t (&d)[3]) {
  return QStringLiteral("(%1, %2, %3)").arg(d[0]).arg(d[1]).arg(d[2]);
}

}  // namespace

QString TimelineView::gpuHoverText(const TimelineRow& row, std::size_t entry) const {
  const TimelineGpuItem& g = data_->gpuItems()[static_cast<std::size_t>(row.event[entry])];
  const QStringList& s = data_->strings();
  const double duration = static_cast<double>(g.end_ns - g.start_ns);
  QStringList lines;
  switch (g.kind) {
    case GpuKind::Kernel:
      lines << QStringLiteral("kernel %1")
                   .arg(fontMetrics().elidedText(s[g.name], Qt::ElideRight, kNameWidthPx));
      lines << QStringLiteral("grid %1, block %2").arg(dims(g.grid), dims(g.block));
      lines << QStringLiteral("shared memory %1 static + %2 dynamic, %3 registers per thread")
                   .arg(formatBytes(g.staticShared), formatBytes(g.dynamicShared))
                   .arg(g.registers);
      break;
    case GpuKind::Memcpy: {
      QString line = QStringLiteral("memcpy %1, %2").arg(memcpyKindName(g.copyKind), formatBytes(g.bytes));
      if (duration > 0)
        line += QStringLiteral(", %1 GB/s").arg(static_cast<double>(g.bytes) / duration, 0, 'f', 2);
      lines << line;
      break;
    }
    case GpuKind::Memset:
      lines << QStringLiteral("memset %1 (value %2)").arg(formatBytes(g.bytes)).arg(g.copyKind);
      break;
  }
  lines << QStringLiteral("duration %1, start %2")
               .arg(formatDuration(duration), formatDuration(static_cast<double>(row.start[entry])));
  lines << QStringLiteral("rank %1, %2").arg(g.rank).arg(data_->laneName(g.rank, row.lane));
  if (g.op < 0) {
    lines << QStringLiteral("launched outside any traced op");
  } else {
    const TimelineEvent& e = data_->measured()[static_cast<std::size_t>(g.op)];
    QString op = QStringLiteral("launched by %1 (schedule %2, iteration %3, %4")
                     .arg(s[e.op], data_->sections()[static_cast<std::size_t>(e.section)].schedule)
                     .arg(e.iteration)
                     .arg(e.phase == 0 ? QStringLiteral("forward") : QStringLiteral("backward"));
    if (e.chunk >= 0) op += QStringLiteral(", chunk %1").arg(e.chunk);
    lines << op + QLatin1Char(')');
  }
  return lines.join(QLatin1Char('\n'));
}

void TimelineView::setHoverPoint(QPoint pos) {
  std::int32_t op = -1;
  const Hit hit = hitAt(pos);
  if (hit.row >= 0) {
    const TimelineRow& r = data_->rows()[static_cast<std::size_t>(hit.row)];
    const std::int32_t index = r.event[hit.entry];
    if (r.gpu())
      op = data_->gpuItems()[static_cast<std::size_t>(index)].op;
    else if (!r.predicted() && !data_->gpuItemsOf(index).empty())
      op = index;  // only ops that launched GPU work are outlined: the rest have nothing to tie
  }
  if (op == hoverOp_) return;
  hoverOp_ = op;
  update();
}

QRectF TimelineView::measuredRect(std::int32_t event) const {
  const TimelineEvent& e = data_->measured()[static_cast<std::size_t>(event)];
  if (e.row < 0) return {};
  const TimelineRow& r = data_->rows()[static_cast<std::size_t>(e.row)];
  const std::int64_t at = data_->displayStart(e);
  auto k = static_cast<std::size_t>(std::lower_bound(r.start.begin(), r.start.end(), at) - r.start.begin());
  for (; k < r.start.size() && r.start[k] == at; ++k)
    if (r.event[k] == event) return eventRect(e.row, k);
  return {};
}

std::vector<QRectF> TimelineView::highlightRects() const {
  std::vector<QRectF> out;
  if (!data_ || hoverOp_ < 0 || static_cast<std::size_t>(hoverOp_) >= data_->measured().size()) return out;
  const QRectF shown(0, kAxisHeight, width(), height() - kAxisHeight);
  auto add = [&](const QRectF& r) {
    if (!r.isEmpty() && r.intersects(shown)) out.push_back(r);
  };
  add(measuredRect(hoverOp_));
  for (std::int32_t i : data_->gpuItemsOf(hoverOp_)) {
    if (out.size() >= kMaxOutlined) break;
    const TimelineGpuItem& g = data_->gpuItems()[static_cast<std::size_t>(i)];
    if (g.row >= 0) add(eventRect(g.row, static_cast<std::size_t>(g.entry)));
  }
  return out;
}

}  // namespace parm::app
