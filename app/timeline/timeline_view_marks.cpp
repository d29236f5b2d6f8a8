// TimelineView and the marks (timeline_selection.h): click-to-select, highlighted ops with the rest dimmed,
// flow arrows of the selected collective only, and the selected range's duration written on the ruler.
#include <QPainter>
#include <algorithm>
#include <map>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_format.h"
#include "app/timeline/timeline_view.h"

namespace parm::app {
namespace {

constexpr std::size_t kMaxOutlinedMarks = 5000;  // beyond this many bars on screen outlines are noise

}  // namespace

void TimelineView::selectEvent(EventRef event) {
  if (data_ && event.valid() && !eventOf(*data_, event)) event = {};
  if (event == marks_.selected) return;
  marks_.selected = event;
  update();
  emit eventSelected(event);
}

void TimelineView::setHighlighted(std::vector<std::int32_t> measured) {
  std::sort(measured.begin(), measured.end());
  marks_.highlighted = std::move(measured);
  update();
}

void TimelineView::setFlowsSelectedOnly(bool on) {
  marks_.flowsSelectedOnly = on;
  update();
}

QRectF TimelineView::eventBar(EventRef event) const {
  const TimelineEvent* e = data_ ? eventOf(*data_, event) : nullptr;
  if (!e || e->row < 0 || static_cast<std::size_t>(e->row) >= data_->rows().size()) return {};
  const TimelineRow& r = data_->rows()[static_cast<std::size_t>(e->row)];
  const std::int64_t at = data_->displayStart(*e);
  auto k = static_cast<std::size_t>(std::lower_bound(r.start.begin(), r.start.end(), at) - r.start.begin());
  for (; k < r.start.size() && r.start[k] == at; ++k)
    if (r.event[k] == event.index) return eventRect(e->row, k);
  return {};
}

void TimelineView::centreOn(EventRef event) {
  const TimelineEvent* e = data_ ? eventOf(*data_, event) : nullptr;
  if (!e) return;
  const auto start = static_cast<double>(data_->displayStart(*e));
  const auto end = static_cast<double>(data_->displayEnd(*e));
  const double span = visibleEnd() - visibleStart();
  if (end - start > 0.8 * span) {  // wider than the view: zoom out until it fits with a margin
    setVisibleRange(start - 0.1 * (end - start), end + 0.1 * (end - start));
    return;
  }
  t0_ = (start + end) / 2 - span / 2;
  update();
}

void TimelineView::clickAt(QPoint pos) {
  const Hit hit = hitAt(pos);
  EventRef event;
  if (hit.row >= 0) {
    const TimelineRow& r = data_->rows()[static_cast<std::size_t>(hit.row)];
    const std::int32_t index = r.event[hit.entry];
    if (!r.gpu())
      event = {r.predicted(), index};
    else if (const std::int32_t op = data_->gpuItems()[static_cast<std::size_t>(index)].op; op >= 0)
      event = {false, op};  // a GPU item selects the op that launched it
  }
  selectEvent(event);
}

std::vector<std::int32_t> TimelineView::selectedFlows() const {
  const TimelineEvent* e = data_ ? eventOf(*data_, marks_.selected) : nullptr;
  if (!e || marks_.selected.predicted || e->flow < 0) return {};
  return {e->flow};
}

void TimelineView::drawMarks(QPainter& p) const {
  if (!data_) return;
  const QRectF area(0, kAxisHeight, width(), height() - kAxisHeight);
  p.save();
  p.setClipRect(area);
  if (!marks_.highlighted.empty()) {
    // Per visible row, the x intervals of highlighted bars; everything else in the rows area is dimmed.
    std::map<int, std::vector<std::pair<double, double>>> kept;  // visible row -> [x0, x1)
    std::vector<QRectF> bars;
    const double tEnd = visibleEnd();
    for (std::int32_t i : marks_.highlighted) {
      const TimelineEvent& e = data_->measured()[static_cast<std::size_t>(i)];
      if (e.row < 0 || static_cast<std::size_t>(e.row) >= slot_.size() ||
          slot_[static_cast<std::size_t>(e.row)].first < 0)
        continue;
      if (static_cast<double>(data_->displayEnd(e)) < t0_ ||
          static_cast<double>(data_->displayStart(e)) > tEnd)
        continue;  // off screen: no search for its bar
      const QRectF bar = measuredRect(i);
      if (bar.isEmpty() || !bar.intersects(area)) continue;
      kept[slot_[static_cast<std::size_t>(e.row)].first].emplace_back(bar.left(), bar.right());
      if (bars.size() < kMaxOutlinedMarks) bars.push_back(bar);
    }
    QColor veil = palette().color(QPalette::Base);
    veil.setAlpha(175);
    for (std::size_t v = 0; v < rows_.size(); ++v) {
      const VisibleRow& row = rows_[v];
      const double y = kAxisHeight + row.top;
      if (y + row.height <= area.top() || y >= area.bottom()) continue;
      auto& spans = kept[static_cast<int>(v)];
      std::sort(spans.begin(), spans.end());
      double x = 0;
      for (const auto& [a, b] : spans) {
        if (a > x) p.fillRect(QRectF(x, y, a - x, row.height), veil);
        x = std::max(x, b);
      }
      if (x < width()) p.fillRect(QRectF(x, y, width() - x, row.height), veil);
    }
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(palette().color(QPalette::Text), 1));
    for (const QRectF& bar : bars) p.drawRect(bar.adjusted(-0.5, -0.5, 0.5, 0.5));
  }
  if (const QRectF bar = eventBar(marks_.selected); !bar.isEmpty()) {
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(palette().color(QPalette::Highlight), 3));
    p.drawRect(bar.adjusted(-2, -2, 2, 2));
    p.setPen(QPen(palette().color(QPalette::Text), 1));
    p.drawRect(bar.adjusted(-0.5, -0.5, 0.5, 0.5));
  }
  p.restore();
}

// The range's duration on the ruler, centred over it in every column (painted last: over the range's tint).
void TimelineView::drawRangeLength(QPainter& p) const {
  if (!data_ || !sel_) return;
  const double a = std::min(sel_->first, sel_->second), b = std::max(sel_->first, sel_->second);
  const QString label = formatDuration(b - a);
  QFont font = p.font();
  font.setBold(true);
  p.save();
  p.setFont(font);
  const int textWidth = p.fontMetrics().horizontalAdvance(label) + 10;
  for (int c = 0; c < columnCount(); ++c) {
    const QRect col = columnRect(c);
    const double xa = std::max<double>(col.left(), xAt(a, c));
    const double xb = std::min<double>(col.right(), xAt(b, c));
    if (xb < xa) continue;
    const double centre =
        std::clamp((xa + xb) / 2, col.left() + textWidth / 2.0, col.right() - textWidth / 2.0);
    const QRectF box(centre - textWidth / 2.0, 1, textWidth, kAxisHeight / 2.0);
    p.fillRect(box, palette().color(QPalette::Highlight));
    p.setPen(palette().color(QPalette::HighlightedText));
    p.drawText(box, Qt::AlignCenter, label);
  }
  p.restore();
}

}  // namespace parm::app
