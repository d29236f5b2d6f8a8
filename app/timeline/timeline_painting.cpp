// TimelineView's painting: rows of boxes with their level of detail, the time axis, the flow arrows of
// collectives. Navigation, hit-testing and selection live in timeline_view.cpp. Colours: timeline_palette.h
// (op classes fixed, the rest from the widget's palette, so a dark palette paints a dark timeline).
#include <QPainter>
#include <algorithm>
#include <array>
#include <cmath>
#include <unordered_set>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_palette.h"
#include "app/timeline/timeline_view.h"

namespace parm::app {
namespace {

constexpr std::size_t kMaxFlowScan = 2500;  // beyond this many visible events arrows are noise (and slow)

// Liang-Barsky: clips segment a-b to r in double precision. Members of a collective can lie millions of
// pixels off screen, and the raster engine is slow on such lines.
bool clipSegment(QPointF& a, QPointF& b, const QRectF& r) {
  double t0 = 0, t1 = 1;
  const double dx = b.x() - a.x(), dy = b.y() - a.y();
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {a.x() - r.left(), r.right() - a.x(), a.y() - r.top(), r.bottom() - a.y()};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;
      continue;
    }
    const double t = q[i] / p[i];
    if (p[i] < 0)
      t0 = std::max(t0, t);
    else
      t1 = std::min(t1, t);
    if (t0 > t1) return false;
  }
  const QPointF d(dx, dy);
  b = a + d * t1;
  a = a + d * t0;
  return true;
}

// Axis label of tick t for a tick step: the unit follows the step so labels stay short and distinct.
QString formatTick(double t, double step) {
  double unit = 1;
  const char* name = "ns";
  if (step >= 1e9)
    unit = 1e9, name = "s";
  else if (step >= 1e6)
    unit = 1e6, name = "ms";
  else if (step >= 1e3)
    unit = 1e3, name = "us";
  const double s = step / unit;
  const int decimals = s >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(s)));
  return QStringLiteral("%1 %2").arg(t / unit, 0, 'f', decimals).arg(QLatin1String(name));
}

}  // namespace

void TimelineView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  paintTo(p);
}

void TimelineView::paintTo(QPainter& p) const {
  colours_ = TimelineColours::from(palette());
  p.fillRect(rect(), colours_.background);
  if (!data_) {
    p.setPen(colours_.text);
    p.drawText(rect(), Qt::AlignCenter, message_.isEmpty() ? tr("No run open") : message_);
    return;
  }
  drawAxis(p);
  const double colW = columnWidth(width());
  const int bottom = height();
  for (std::size_t v = 0; v < rows_.size(); ++v) {
    const VisibleRow& row = rows_[v];
    const int y = kAxisHeight + row.top;
    if (y + row.height <= kAxisHeight || y >= bottom) continue;
    for (int c = 0; c < columnCount(); ++c) {
      const QRect col = columnRect(c);
      const QRect band(col.left(), y, col.width(), row.height);
      p.save();
      p.setClipRect(QRect(col.left(), kAxisHeight, col.width(), bottom - kAxisHeight));
      if (row.header) {
        p.fillRect(band, colours_.headerBand);
      } else if (static_cast<std::size_t>(c) < row.columns.size()) {
        const auto& list = row.columns[static_cast<std::size_t>(c)];
        const bool predicted =
            !list.empty() && data_->rows()[static_cast<std::size_t>(list.front())].predicted();
        const bool gpu = !list.empty() && data_->rows()[static_cast<std::size_t>(list.front())].gpu();
        if (predicted) p.fillRect(band, colours_.predictedBand);
        if (gpu) p.fillRect(band, colours_.gpuBand);  // GPU rows: a tint that sets them under the lanes
        for (int dataRow : list) drawRow(p, dataRow, band.adjusted(0, 2, 0, -2), colW, c);
      }
      p.setPen(colours_.rowLine);
      p.drawLine(band.bottomLeft(), band.bottomRight());
      p.restore();
    }
  }
  drawMarks(p);
  lastFlows_.clear();
  if (flows_) drawFlows(p);
  drawHighlight(p);
  if (sel_) {
    for (int c = 0; c < columnCount(); ++c) {
      const QRect col = columnRect(c);
      const double a = std::max<double>(col.left(), xAt(std::min(sel_->first, sel_->second), c));
      const double b = std::min<double>(col.right() + 1, xAt(std::max(sel_->first, sel_->second), c));
      if (b <= a) continue;
      const QRectF r(a, 0, b - a, bottom);
      p.fillRect(r, colours_.selectionFill);
      p.setPen(colours_.selectionEdge);
      p.drawLine(r.topLeft(), r.bottomLeft());
      p.drawLine(r.topRight(), r.bottomRight());
    }
  }
  drawRangeLength(p);
}

void TimelineView::drawAxis(QPainter& p) const {
  const double raw = 90 * nsPerPx_;  // at least ~90 px between labels
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / mag;
  const double step = mag * (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10);
  p.fillRect(QRect(0, 0, width(), kAxisHeight), colours_.axisBackground);
  QFont small = p.font();
  small.setPointSizeF(std::max(6.0, small.pointSizeF() * 0.85));
  p.setFont(small);
  for (int c = 0; c < columnCount(); ++c) {
    const QRect col = columnRect(c);
    p.save();
    p.setClipRect(QRect(col.left(), 0, col.width(), height()));
    if (c < titles_.size() && !titles_[c].isEmpty()) {
      QFont bold = small;
      bold.setBold(true);
      p.setFont(bold);
      p.setPen(colours_.axisText);
      p.drawText(QRect(col.left() + 4, 0, col.width() - 8, kAxisHeight / 2),
                 Qt::AlignRight | Qt::AlignVCenter, titles_[c]);
      p.setFont(small);
    }
    const double tEnd = t0_ + col.width() * nsPerPx_;
    for (double t = std::ceil(t0_ / step) * step; t <= tEnd; t += step) {
      const int x = static_cast<int>(std::lround(xAt(t, c)));
      p.setPen(colours_.gridLine);
      p.drawLine(x, kAxisHeight, x, height());
      p.setPen(colours_.axisText);
      p.drawLine(x, kAxisHeight - 6, x, kAxisHeight);
      p.drawText(QRect(x + 3, kAxisHeight / 2, 120, kAxisHeight / 2), Qt::AlignLeft | Qt::AlignVCenter,
                 formatTick(t, step));
    }
    p.restore();
  }
  p.setPen(palette().color(QPalette::Mid));
  p.drawLine(0, kAxisHeight - 1, width(), kAxisHeight - 1);
}

// Level of detail: an entry at least 2 px wide is drawn alone; otherwise every entry starting in the same
// pixel column is one 1-px block found by binary search, so a row costs O(pixels * log n) at any zoom. Blocks
// of one colour that touch are run-length merged into one fill.
void TimelineView::drawRow(QPainter& p, int dataRow, const QRect& area, double colWidth, int) const {
  const TimelineRow& r = data_->rows()[static_cast<std::size_t>(dataRow)];
  if (r.start.empty()) return;
  const bool predicted = r.predicted();
  const double x0 = area.left();
  const double inv = 1.0 / nsPerPx_;
  const double t1 = t0_ + colWidth * nsPerPx_;
  auto px = [&](std::int64_t t) { return x0 + (static_cast<double>(t) - t0_) * inv; };
  std::size_t i = r.firstVisible(static_cast<std::int64_t>(std::floor(t0_)));
  const std::size_t n = r.endVisible(static_cast<std::int64_t>(std::ceil(t1)) + 1);
  const int y = area.top(), h = area.height();
  const int left = area.left() - 1, right = area.right() + 2;
  auto fill = [&](OpClass c) { return predicted ? predictedFill(c, colours_.background) : opClassColour(c); };

  bool pending = false;
  int pendX0 = 0, pendX1 = 0;
  OpClass pendCls = OpClass::Other;
  auto flush = [&] {
    if (pending) p.fillRect(QRect(pendX0, y, pendX1 - pendX0, h), fill(pendCls));
    pending = false;
  };
  auto block = [&](int a, int b, OpClass c) {
    a = std::max(a, left);
    b = std::min(b, right);
    if (b <= a) return;
    if (pending && pendX1 >= a && c == pendCls) {
      pendX1 = std::max(pendX1, b);
      return;
    }
    flush();
    pending = true;
    pendX0 = a, pendX1 = b, pendCls = c;
  };
  auto wide = [&](std::size_t k, double xs, double xe) {
    flush();
    const double a = std::max<double>(xs, left), b = std::min<double>(xe, right);
    const QRectF rect(a, y, b - a, h);
    p.fillRect(rect, fill(r.cls[k]));
    if (predicted && b - a >= 3) {  // lighter with a dashed outline: plain shapes keep SVG export portable
      p.setPen(QPen(mixColours(opClassColour(r.cls[k]), colours_.text, 0.45), 1, Qt::DashLine));
      p.setBrush(Qt::NoBrush);
      p.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5));
    }
    if (b - a >= 50) {  // text is the dearest thing drawn: only where a name fits
      const auto& ev = predicted ? data_->predicted() : data_->measured();
      const auto index = static_cast<std::size_t>(r.event[k]);
      const QString& name = data_->strings()[r.gpu() ? data_->gpuItems()[index].label : ev[index].op];
      p.setPen(textColourOn(fill(r.cls[k])));  // black on light bars, white on dark ones
      if (r.gpu()) {  // kernel names are full of underscores: a smaller font keeps them inside the bar
        p.save();
        QFont small = p.font();
        small.setPointSizeF(std::max(6.0, small.pointSizeF() * 0.85));
        p.setFont(small);
      }
      p.drawText(rect.adjusted(3, 0, -2, 0), Qt::AlignLeft | Qt::AlignVCenter,
                 p.fontMetrics().elidedText(name, Qt::ElideRight, static_cast<int>(b - a) - 5));
      if (r.gpu()) p.restore();
    }
  };
  while (i < n) {
    const double xs = px(r.start[i]), xe = px(r.end[i]);
    if (xe - xs >= 2.0) {
      wide(i, xs, xe);
      ++i;
      continue;
    }
    const double pixel = std::floor(xs);
    const auto boundary = static_cast<std::int64_t>(std::ceil(t0_ + (pixel + 1 - x0) * nsPerPx_));
    std::size_t j = static_cast<std::size_t>(
        std::lower_bound(r.start.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                         r.start.begin() + static_cast<std::ptrdiff_t>(n), boundary) -
        r.start.begin());
    const int px0 = static_cast<int>(pixel);
    block(px0, px0 + 1, r.cls[i]);
    // An entry of this pixel that runs on (a long op after tiny ones) is drawn on from the next pixel.
    const std::int64_t reach = r.endMax[j - 1];
    if (px(reach) >= pixel + 2) {
      std::size_t k = j - 1;
      while (k > i && r.endMax[k - 1] == reach) --k;
      if (r.end[k] == reach && k >= i) {
        const double xe2 = px(reach);
        if (xe2 - (pixel + 1) >= 2.0)
          wide(k, pixel + 1, xe2);
        else
          block(px0 + 1, static_cast<int>(std::ceil(xe2)), r.cls[k]);
      }
    }
    i = j;
  }
  flush();
}

// The op under the pointer (or the op that launched the GPU item under it) and every GPU item it launched,
// outlined: what Nsight Systems does between an NVTX range or API call and its kernels.
void TimelineView::drawHighlight(QPainter& p) const {
  const std::vector<QRectF> rects = highlightRects();
  if (rects.empty()) return;
  p.save();
  p.setClipRect(QRectF(0, kAxisHeight, width(), height() - kAxisHeight));
  p.setBrush(Qt::NoBrush);
  p.setPen(QPen(colours_.outline, 2));
  for (const QRectF& r : rects) p.drawRect(r.adjusted(-1, -1, 1, 1));
  p.restore();
}

void TimelineView::drawFlows(QPainter& p) const {
  std::vector<std::int32_t> seen;
  std::unordered_set<std::int32_t> done;
  std::size_t scanned = 0;
  const double colW = columnWidth(width());
  if (marks_.flowsSelectedOnly) seen = selectedFlows();  // at any zoom, no scan
  for (const VisibleRow& row : rows_) {
    if (marks_.flowsSelectedOnly) break;
    const int y = kAxisHeight + row.top;
    if (row.header || y + row.height <= kAxisHeight || y >= height()) continue;
    for (const auto& list : row.columns)
      for (int dataRow : list) {
        const TimelineRow& r = data_->rows()[static_cast<std::size_t>(dataRow)];
        if (r.predicted() || r.gpu()) continue;
        const std::size_t first = r.firstVisible(static_cast<std::int64_t>(std::floor(t0_)));
        const std::size_t end = r.endVisible(static_cast<std::int64_t>(std::ceil(t0_ + colW * nsPerPx_)) + 1);
        scanned += end - first;
        if (scanned > kMaxFlowScan) return;  // zoomed out too far: arrows would hide the events
        for (std::size_t i = first; i < end; ++i) {
          const std::int32_t flow = data_->measured()[static_cast<std::size_t>(r.event[i])].flow;
          if (flow >= 0 && done.insert(flow).second) seen.push_back(flow);
        }
      }
  }
  p.save();
  p.setRenderHint(QPainter::Antialiasing,
                  false);  // antialiased arrows cost ~0.5 ms each on the raster engine
  const QRectF area(0, kAxisHeight, width(), height() - kAxisHeight);
  p.setClipRect(area);
  const QColor ink = colours_.flowInk;
  p.setPen(QPen(ink, 1.2));
  p.setBrush(ink);
  std::vector<QLineF> lines;  // one drawLines call: per-call overhead dominates thousands of short lines
  std::vector<QPointF> heads;
  for (std::int32_t flow : seen) {
    const std::vector<std::int32_t> members = data_->flowMembers(flow);
    std::optional<std::pair<std::int32_t, QPointF>> previous;
    for (std::int32_t m : members) {
      const TimelineEvent& e = data_->measured()[static_cast<std::size_t>(m)];
      if (e.row < 0) continue;
      const auto [v, c] = slot_[static_cast<std::size_t>(e.row)];
      if (v < 0) continue;
      const VisibleRow& row = rows_[static_cast<std::size_t>(v)];
      const QPointF at(xAt(static_cast<double>(data_->displayStart(e)), c),
                       kAxisHeight + row.top + row.height / 2.0);
      if (previous && previous->second != at) {
        lastFlows_.push_back({previous->first, m, previous->second, at});
        QPointF a = previous->second, b = at;
        if (clipSegment(a, b, area)) {
          lines.emplace_back(a, b);
          if (b == at) {  // the head only where the arrow really ends
            const double angle = std::atan2(at.y() - previous->second.y(), at.x() - previous->second.x());
            heads.push_back(at);
            heads.push_back(at - QPointF(std::cos(angle - 0.45), std::sin(angle - 0.45)) * 6);
            heads.push_back(at - QPointF(std::cos(angle + 0.45), std::sin(angle + 0.45)) * 6);
          }
        }
      }
      previous = std::make_pair(m, at);
    }
  }
  p.drawLines(lines.data(), static_cast<int>(lines.size()));
  if (heads.size() <= 3000)  // heads only while arrows are few enough to tell apart
    for (std::size_t i = 0; i + 2 < heads.size(); i += 3) p.drawPolygon(&heads[i], 3);
  p.restore();
}

}  // namespace parm::app
