#include "app/timeline/timeline_view.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <array>
#include <cmath>
#include <unordered_set>

#include "app/timeline/timeline_data.h"

namespace parm::app {
namespace {

constexpr int kColumnGap = 10;
constexpr double kMinNsPerPx = 1e-3;
constexpr double kMaxNsPerPx = 1e12;
constexpr std::size_t kMaxFlowScan = 2500;  // beyond this many visible events arrows are noise (and slow)

QColor colourOf(OpClass c) {
  static const std::array<QColor, static_cast<std::size_t>(OpClass::Count)> palette{
      QColor(0x4e, 0x79, 0xa7),  // compute
      QColor(0xba, 0xb0, 0xac),  // split/copy
      QColor(0xf2, 0x8e, 0x2b),  // AlltoAll
      QColor(0x59, 0xa1, 0x4f),  // AllGather
      QColor(0xb0, 0x7a, 0xa1),  // ReduceScatter
      QColor(0xe1, 0x57, 0x59),  // AllReduce
      QColor(0x76, 0xb7, 0xb2),  // SAA pipeline
      QColor(0x9c, 0x75, 0x5f),  // RSA pipeline
      QColor(0xff, 0x9d, 0xa7),  // RS>A2A>AG pipeline
      QColor(0x88, 0x88, 0x88),  // other
  };
  return palette[static_cast<std::size_t>(c)];
}

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

QString formatDuration(double ns) {
  const double a = std::abs(ns);
  if (a < 1e3) return QStringLiteral("%1 ns").arg(ns, 0, 'f', 0);
  if (a < 1e6) return QStringLiteral("%1 us").arg(ns / 1e3, 0, 'f', a < 1e4 ? 2 : 1);
  if (a < 1e9) return QStringLiteral("%1 ms").arg(ns / 1e6, 0, 'f', a < 1e7 ? 3 : 2);
  return QStringLiteral("%1 s").arg(ns / 1e9, 0, 'f', 3);
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

QString formatBytes(std::int64_t b) {
  if (b < 1024) return QStringLiteral("%1 B").arg(b);
  if (b < 1024 * 1024) return QStringLiteral("%1 B (%2 KiB)").arg(b).arg(b / 1024.0, 0, 'f', 1);
  return QStringLiteral("%1 B (%2 MiB)").arg(b).arg(b / (1024.0 * 1024.0), 0, 'f', 2);
}

}  // namespace

TimelineView::TimelineView(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setMinimumSize(200, 120);
  setAttribute(Qt::WA_OpaquePaintEvent);
}

void TimelineView::setData(const TimelineData* timeline) {
  data_ = timeline;
  lastFlows_.clear();
  update();
}

void TimelineView::setMessage(const QString& message) {
  message_ = message;
  update();
}

void TimelineView::setRows(std::vector<VisibleRow> rows, const QStringList& columnTitles) {
  rows_ = std::move(rows);
  titles_ = columnTitles;
  slot_.assign(data_ ? data_->rows().size() : 0, {-1, -1});
  for (std::size_t v = 0; v < rows_.size(); ++v)
    for (std::size_t c = 0; c < rows_[v].columns.size(); ++c)
      for (int r : rows_[v].columns[c])
        if (r >= 0 && static_cast<std::size_t>(r) < slot_.size())
          slot_[static_cast<std::size_t>(r)] = {static_cast<int>(v), static_cast<int>(c)};
  update();
}

void TimelineView::setFlowsVisible(bool on) {
  flows_ = on;
  update();
}

double TimelineView::columnWidth(int w) const {
  const int n = columnCount();
  return std::max(1.0, (w - kColumnGap * (n - 1)) / static_cast<double>(n));
}

QRect TimelineView::columnRect(int column) const {
  const double w = columnWidth(width());
  const int x = static_cast<int>(std::lround(column * (w + kColumnGap)));
  return {x, kAxisHeight, static_cast<int>(w), std::max(0, height() - kAxisHeight)};
}

int TimelineView::columnAt(double x) const {
  const double w = columnWidth(width());
  return std::clamp(static_cast<int>(x / (w + kColumnGap)), 0, columnCount() - 1);
}

double TimelineView::timeAt(double x) const {
  return t0_ + (x - columnRect(columnAt(x)).left()) * nsPerPx_;
}

double TimelineView::xAt(double displayNs, int column) const {
  return columnRect(column).left() + (displayNs - t0_) / nsPerPx_;
}

double TimelineView::visibleEnd() const {
  return t0_ + columnWidth(width()) * nsPerPx_;
}

void TimelineView::fitToView() {
  if (!data_) return;
  const double span = static_cast<double>(data_->displayEnd() - data_->displayStart());
  nsPerPx_ = std::clamp(span * 1.02 / columnWidth(width()), kMinNsPerPx, kMaxNsPerPx);
  t0_ = static_cast<double>(data_->displayStart()) - span * 0.01;
  update();
}

void TimelineView::setVisibleRange(double startNs, double endNs) {
  if (endNs <= startNs) return;
  nsPerPx_ = std::clamp((endNs - startNs) / columnWidth(width()), kMinNsPerPx, kMaxNsPerPx);
  t0_ = startNs;
  update();
}

void TimelineView::zoomAt(double x, double factor) {
  if (factor <= 0) return;
  const int c = columnAt(x);
  const double t = timeAt(x);
  nsPerPx_ = std::clamp(nsPerPx_ / factor, kMinNsPerPx, kMaxNsPerPx);
  t0_ = t - (x - columnRect(c).left()) * nsPerPx_;
  update();
}

void TimelineView::panByPixels(double dx) {
  t0_ -= dx * nsPerPx_;
  update();
}

int TimelineView::visibleRowAt(int y) const {
  const int ry = y - kAxisHeight;
  if (ry < 0) return -1;
  for (std::size_t v = 0; v < rows_.size(); ++v)
    if (ry >= rows_[v].top && ry < rows_[v].top + rows_[v].height) return static_cast<int>(v);
  return -1;
}

QRectF TimelineView::eventRect(int dataRow, std::size_t entry) const {
  if (!data_ || dataRow < 0 || static_cast<std::size_t>(dataRow) >= slot_.size()) return {};
  const auto [v, c] = slot_[static_cast<std::size_t>(dataRow)];
  if (v < 0) return {};
  const TimelineRow& r = data_->rows()[static_cast<std::size_t>(dataRow)];
  if (entry >= r.start.size()) return {};
  const VisibleRow& row = rows_[static_cast<std::size_t>(v)];
  const double xs = xAt(static_cast<double>(r.start[entry]), c);
  const double xe = std::max(xAt(static_cast<double>(r.end[entry]), c), xs + 1);
  return {xs, static_cast<double>(kAxisHeight + row.top + 2), xe - xs, static_cast<double>(row.height - 4)};
}

TimelineView::Hit TimelineView::hitAt(QPoint pos) const {
  Hit best;
  const int v = visibleRowAt(pos.y());
  if (!data_ || v < 0 || rows_[static_cast<std::size_t>(v)].header) return best;
  const int c = columnAt(pos.x());
  const VisibleRow& row = rows_[static_cast<std::size_t>(v)];
  if (static_cast<std::size_t>(c) >= row.columns.size()) return best;
  const QRect area = columnRect(c);
  if (pos.x() < area.left() || pos.x() > area.right()) return best;
  const double t = timeAt(pos.x());
  const double tol = 3 * nsPerPx_;
  double bestDistance = tol + 1;
  for (int dataRow : row.columns[static_cast<std::size_t>(c)]) {
    const TimelineRow& r = data_->rows()[static_cast<std::size_t>(dataRow)];
    const std::size_t first = r.firstVisible(static_cast<std::int64_t>(std::floor(t - tol)));
    const std::size_t end = std::min(r.endVisible(static_cast<std::int64_t>(std::ceil(t + tol)) + 1),
                                     first + 256);  // a pixel's worth
    for (std::size_t i = first; i < end; ++i) {
      const double s = static_cast<double>(r.start[i]), e = static_cast<double>(r.end[i]);
      const double d = t < s ? s - t : (t > e ? t - e : 0.0);
      if (d < bestDistance) {  // ties: the earlier entry, the one drawn underneath the cursor first
        bestDistance = d;
        best = {dataRow, i};
      }
    }
  }
  return best;
}

QString TimelineView::hoverText(QPoint pos) const {
  const Hit hit = hitAt(pos);
  if (hit.row < 0) return {};
  const TimelineRow& r = data_->rows()[static_cast<std::size_t>(hit.row)];
  const std::int32_t index = r.event[hit.entry];
  const bool predicted = r.predicted();
  const TimelineEvent& e =
      (predicted ? data_->predicted() : data_->measured())[static_cast<std::size_t>(index)];
  const QStringList& s = data_->strings();
  const TimelineSection& section = data_->sections()[static_cast<std::size_t>(e.section)];
  QStringList lines;
  lines << QStringLiteral("%1  (group %2, %3)").arg(s[e.op], s[e.group], s[e.purpose]);
  lines << QStringLiteral("schedule %1, %2, %3 lane")
               .arg(section.schedule,
                    predicted ? QStringLiteral("predicted") : QStringLiteral("rank %1").arg(e.rank),
                    data_->laneName(e.rank, e.lane));
  QString where =
      QStringLiteral("iteration %1, %2").arg(e.iteration).arg(e.phase == 0 ? "forward" : "backward");
  if (e.chunk >= 0) where += QStringLiteral(", chunk %1").arg(e.chunk);
  lines << where;
  if (!predicted) lines << QStringLiteral("bytes %1").arg(formatBytes(e.bytes));
  lines << QStringLiteral("start %1").arg(formatDuration(static_cast<double>(r.start[hit.entry])));
  const double duration = static_cast<double>(e.end_ns - e.start_ns);
  if (predicted) {
    lines << QStringLiteral("predicted %1").arg(formatDuration(duration));
  } else {
    lines << QStringLiteral("measured %1").arg(formatDuration(duration));
    if (e.match >= 0) {
      const TimelineEvent& p = data_->predicted()[static_cast<std::size_t>(e.match)];
      const double pd = static_cast<double>(p.end_ns - p.start_ns);
      QString line = QStringLiteral("predicted %1 (%2)").arg(formatDuration(pd), s[p.op]);
      if (duration > 0)
        line += QStringLiteral(", error %1%").arg((pd - duration) / duration * 100, 0, 'f', 1);
      lines << line;
    }
  }
  return lines.join(QLatin1Char('\n'));
}

std::int64_t TimelineView::offsetForSelection(QPoint pos) const {
  if (!data_) return 0;
  const int c = columnAt(pos.x());
  const int v = std::max(0, visibleRowAt(pos.y()));
  // The first data row at or below the pointer names the schedule whose time base the selection is in.
  for (std::size_t i = static_cast<std::size_t>(v); i < rows_.size(); ++i) {
    const auto& cols = rows_[i].columns;
    if (static_cast<std::size_t>(c) < cols.size() && !cols[static_cast<std::size_t>(c)].empty()) {
      const TimelineRow& r =
          data_->rows()[static_cast<std::size_t>(cols[static_cast<std::size_t>(c)].front())];
      return data_->sections()[static_cast<std::size_t>(r.section)].offset;
    }
  }
  return 0;
}

std::optional<std::pair<qint64, qint64>> TimelineView::selection() const {
  if (!sel_) return std::nullopt;
  const double a = std::min(sel_->first, sel_->second), b = std::max(sel_->first, sel_->second);
  return std::make_pair(static_cast<qint64>(std::llround(a)) + selOffset_,
                        static_cast<qint64>(std::llround(b)) + selOffset_);
}

void TimelineView::clearSelection() {
  if (!sel_) return;
  sel_.reset();
  update();
  emit rangeCleared();
}

void TimelineView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  paintTo(p);
}

void TimelineView::paintTo(QPainter& p) const {
  p.fillRect(rect(), palette().color(QPalette::Base));
  if (!data_) {
    p.setPen(palette().color(QPalette::Text));
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
        p.fillRect(band, QColor(0xf0, 0xf0, 0xf0));
      } else if (static_cast<std::size_t>(c) < row.columns.size()) {
        const auto& list = row.columns[static_cast<std::size_t>(c)];
        const bool predicted =
            !list.empty() && data_->rows()[static_cast<std::size_t>(list.front())].predicted();
        if (predicted) p.fillRect(band, QColor(0xfb, 0xf8, 0xec));
        for (int dataRow : list) drawRow(p, dataRow, band.adjusted(0, 2, 0, -2), colW, c);
      }
      p.setPen(QColor(0xe4, 0xe4, 0xe4));
      p.drawLine(band.bottomLeft(), band.bottomRight());
      p.restore();
    }
  }
  lastFlows_.clear();
  if (flows_) drawFlows(p);
  if (sel_) {
    for (int c = 0; c < columnCount(); ++c) {
      const QRect col = columnRect(c);
      const double a = std::max<double>(col.left(), xAt(std::min(sel_->first, sel_->second), c));
      const double b = std::min<double>(col.right() + 1, xAt(std::max(sel_->first, sel_->second), c));
      if (b <= a) continue;
      const QRectF r(a, 0, b - a, bottom);
      p.fillRect(r, QColor(0x30, 0x70, 0xff, 40));
      p.setPen(QColor(0x30, 0x70, 0xff));
      p.drawLine(r.topLeft(), r.bottomLeft());
      p.drawLine(r.topRight(), r.bottomRight());
    }
  }
}

void TimelineView::drawAxis(QPainter& p) const {
  const double raw = 90 * nsPerPx_;  // at least ~90 px between labels
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / mag;
  const double step = mag * (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10);
  p.fillRect(QRect(0, 0, width(), kAxisHeight), palette().color(QPalette::Window));
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
      p.setPen(palette().color(QPalette::WindowText));
      p.drawText(QRect(col.left() + 4, 0, col.width() - 8, kAxisHeight / 2),
                 Qt::AlignRight | Qt::AlignVCenter, titles_[c]);
      p.setFont(small);
    }
    const double tEnd = t0_ + col.width() * nsPerPx_;
    for (double t = std::ceil(t0_ / step) * step; t <= tEnd; t += step) {
      const int x = static_cast<int>(std::lround(xAt(t, c)));
      p.setPen(QColor(0xd8, 0xd8, 0xd8));
      p.drawLine(x, kAxisHeight, x, height());
      p.setPen(palette().color(QPalette::WindowText));
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
  auto fill = [&](OpClass c) { return predicted ? colourOf(c).lighter(135) : colourOf(c); };

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
      p.setPen(QPen(colourOf(r.cls[k]).darker(150), 1, Qt::DashLine));
      p.setBrush(Qt::NoBrush);
      p.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5));
    }
    if (b - a >= 50) {  // text is the dearest thing drawn: only where a name fits
      const auto& ev = predicted ? data_->predicted() : data_->measured();
      const QString& name = data_->strings()[ev[static_cast<std::size_t>(r.event[k])].op];
      p.setPen(Qt::black);
      p.drawText(rect.adjusted(3, 0, -2, 0), Qt::AlignLeft | Qt::AlignVCenter,
                 p.fontMetrics().elidedText(name, Qt::ElideRight, static_cast<int>(b - a) - 5));
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

void TimelineView::drawFlows(QPainter& p) const {
  std::vector<std::int32_t> seen;
  std::unordered_set<std::int32_t> done;
  std::size_t scanned = 0;
  const double colW = columnWidth(width());
  for (const VisibleRow& row : rows_) {
    const int y = kAxisHeight + row.top;
    if (row.header || y + row.height <= kAxisHeight || y >= height()) continue;
    for (const auto& list : row.columns)
      for (int dataRow : list) {
        const TimelineRow& r = data_->rows()[static_cast<std::size_t>(dataRow)];
        if (r.predicted()) continue;
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
  const QColor ink(0x20, 0x20, 0x20, 170);
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

void TimelineView::mousePressEvent(QMouseEvent* e) {
  pressPos_ = lastPos_ = e->position().toPoint();
  pressT0_ = t0_;
  const bool select = e->button() == Qt::RightButton ||
                      (e->button() == Qt::LeftButton && (e->modifiers() & Qt::ShiftModifier));
  if (select && data_) {
    drag_ = Drag::Select;
    selOffset_ = offsetForSelection(pressPos_);
    const double t = timeAt(pressPos_.x());
    sel_ = std::make_pair(t, t);
    update();
  } else if (e->button() == Qt::LeftButton) {
    drag_ = Drag::Pan;
    setCursor(Qt::ClosedHandCursor);
  }
}

void TimelineView::mouseMoveEvent(QMouseEvent* e) {
  const QPoint pos = e->position().toPoint();
  if (drag_ == Drag::Pan) {
    t0_ = pressT0_ - (pos.x() - pressPos_.x()) * nsPerPx_;
    if (pos.y() != lastPos_.y()) emit verticalDragged(pos.y() - lastPos_.y());
    lastPos_ = pos;
    update();
  } else if (drag_ == Drag::Select) {
    sel_->second = timeAt(pos.x());
    update();
  } else {
    const QString text = hoverText(pos);
    if (text.isEmpty())
      QToolTip::hideText();
    else
      QToolTip::showText(e->globalPosition().toPoint(), text, this);
  }
}

void TimelineView::mouseReleaseEvent(QMouseEvent* e) {
  const QPoint pos = e->position().toPoint();
  if (drag_ == Drag::Select) {
    sel_->second = timeAt(pos.x());
    drag_ = Drag::None;
    if (std::abs(pos.x() - pressPos_.x()) < 3) {  // a click, not a range
      sel_.reset();
      update();
      emit rangeCleared();
      return;
    }
    const auto range = selection();
    update();
    emit rangeSelected(range->first, range->second);
    return;
  }
  drag_ = Drag::None;
  unsetCursor();
}

void TimelineView::wheelEvent(QWheelEvent* e) {
  const double steps = e->angleDelta().y() / 120.0;
  if (steps == 0) return;
  zoomAt(e->position().x(), std::pow(1.25, steps));
  e->accept();
}

void TimelineView::keyPressEvent(QKeyEvent* e) {
  const double centre = columnRect(0).center().x();
  switch (e->key()) {
    case Qt::Key_W:
      zoomAt(centre, 1.25);
      break;
    case Qt::Key_S:
      zoomAt(centre, 1 / 1.25);
      break;
    case Qt::Key_A:
      panByPixels(columnWidth(width()) * 0.1);
      break;
    case Qt::Key_D:
      panByPixels(-columnWidth(width()) * 0.1);
      break;
    case Qt::Key_F:
      fitToView();
      break;
    case Qt::Key_Escape:
      clearSelection();
      break;
    default:
      QWidget::keyPressEvent(e);
  }
}

}  // namespace parm::app
