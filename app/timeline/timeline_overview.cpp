#include "app/timeline/timeline_overview.h"

#include <QMouseEvent>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_palette.h"

namespace parm::app {

OverviewDensity overviewDensity(const TimelineData& data, int bins) {
  OverviewDensity d;
  d.start = data.displayStart();
  d.end = std::max(data.displayEnd(), d.start + 1);
  const auto& sections = data.sections();
  d.labels.reserve(sections.size());
  for (const TimelineSection& s : sections) d.labels.push_back(s.schedule);
  const auto binCount = static_cast<std::size_t>(std::max(1, bins));
  d.busy.assign(sections.size(), std::vector<float>(binCount, 0.f));
  std::vector<int> lanes(sections.size(), 0);
  const double binNs = static_cast<double>(d.end - d.start) / static_cast<double>(binCount);
  std::vector<std::vector<double>> busy(sections.size(), std::vector<double>(binCount, 0.0));
  for (const TimelineRow& r : data.rows()) {
    if (r.predicted() || r.gpu() || static_cast<std::size_t>(r.section) >= sections.size()) continue;
    ++lanes[static_cast<std::size_t>(r.section)];
    std::vector<double>& b = busy[static_cast<std::size_t>(r.section)];
    const auto last = static_cast<std::ptrdiff_t>(b.size()) - 1;
    for (std::size_t i = 0; i < r.start.size(); ++i) {
      const double s = static_cast<double>(r.start[i] - d.start), e = static_cast<double>(r.end[i] - d.start);
      if (e <= s) continue;
      const auto first = std::clamp(static_cast<std::ptrdiff_t>(s / binNs), std::ptrdiff_t{0}, last);
      const auto end = std::clamp(static_cast<std::ptrdiff_t>(e / binNs), std::ptrdiff_t{0}, last);
      for (std::ptrdiff_t k = first; k <= end; ++k) {
        const double lo = std::max(s, static_cast<double>(k) * binNs);
        const double hi = std::min(e, static_cast<double>(k + 1) * binNs);
        if (hi > lo) b[static_cast<std::size_t>(k)] += hi - lo;
      }
    }
  }
  for (std::size_t s = 0; s < busy.size(); ++s)
    for (std::size_t k = 0; k < busy[s].size(); ++k)
      if (lanes[s] > 0) {
        d.busy[s][k] = static_cast<float>(std::min(1.0, busy[s][k] / (binNs * lanes[s])));
        d.peak = std::max(d.peak, d.busy[s][k]);
      }
  return d;
}

TimelineOverview::TimelineOverview(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
  setCursor(Qt::PointingHandCursor);
  setToolTip(tr("Whole run: how busy each schedule's lanes are. Click or drag to move the view."));
}

void TimelineOverview::setData(const TimelineData* timeline) {
  density_ = timeline ? overviewDensity(*timeline, kBins) : OverviewDensity{};
  updateGeometry();
  update();
}

void TimelineOverview::setWindow(double startNs, double endNs) {
  window0_ = startNs;
  window1_ = endNs;
  update();
}

void TimelineOverview::setLabelWidth(int px) {
  labelWidth_ = std::max(0, px);
  update();
}

QSize TimelineOverview::sizeHint() const {
  const int lanes = std::max<int>(1, static_cast<int>(density_.busy.size()));
  return {400, lanes * kLaneHeight + 4};
}

QRect TimelineOverview::stripRect() const {
  return rect().adjusted(labelWidth_, 2, -2, -2);
}

double TimelineOverview::timeAtX(double x) const {
  const QRect s = stripRect();
  const double f = (x - s.left()) / std::max(1, s.width());
  return static_cast<double>(density_.start) + f * static_cast<double>(density_.end - density_.start);
}

QRectF TimelineOverview::windowRect() const {
  const QRect s = stripRect();
  const double span = static_cast<double>(density_.end - density_.start);
  auto x = [&](double t) { return s.left() + (t - static_cast<double>(density_.start)) / span * s.width(); };
  const double a = std::clamp(x(window0_), double(s.left()), double(s.right() + 1));
  const double b = std::clamp(x(window1_), double(s.left()), double(s.right() + 1));
  return QRectF(a, rect().top(), std::max(2.0, b - a), height() - 1);
}

void TimelineOverview::paintEvent(QPaintEvent*) {
  QPainter p(this);
  const TimelineColours c = TimelineColours::from(palette());
  p.fillRect(rect(), c.axisBackground);
  const QRect strip = stripRect();
  const int lanes = static_cast<int>(density_.busy.size());
  QFont small = p.font();
  small.setPointSizeF(std::max(6.0, small.pointSizeF() * 0.8));
  p.setFont(small);
  for (int s = 0; s < lanes; ++s) {
    const QRect lane(strip.left(), strip.top() + s * kLaneHeight, strip.width(), kLaneHeight - 1);
    p.fillRect(lane, c.background);
    p.setPen(c.axisText);
    // Unclipped: an underscore may reach into the next lane rather than vanish.
    p.drawText(QRect(4, lane.top(), std::max(0, labelWidth_ - 8), lane.height()),
               Qt::AlignRight | Qt::AlignVCenter | Qt::TextDontClip,
               density_.labels[static_cast<std::size_t>(s)]);
    const std::vector<float>& b = density_.busy[static_cast<std::size_t>(s)];
    const QColor ink = opClassColour(OpClass::Compute);
    // One bar per pixel column, as tall as the busiest bin under it: spikes stay visible at any width.
    for (int x = 0; x < lane.width(); ++x) {
      const auto k0 = static_cast<std::size_t>(static_cast<double>(x) / lane.width() * b.size());
      const auto k1 =
          std::max(k0 + 1, static_cast<std::size_t>(static_cast<double>(x + 1) / lane.width() * b.size()));
      float v = 0;
      for (std::size_t k = k0; k < std::min(k1, b.size()); ++k) v = std::max(v, b[k]);
      if (v <= 0) continue;
      const int h = std::max(1, static_cast<int>(std::lround(v / density_.peak * lane.height())));
      p.fillRect(QRect(lane.left() + x, lane.bottom() + 1 - h, 1, h), ink);
    }
  }
  if (window1_ > window0_) {
    const QRectF w = windowRect();
    p.fillRect(w, c.selectionFill);
    p.setPen(QPen(c.selectionEdge, 1.5));
    p.setBrush(Qt::NoBrush);
    p.drawRect(w.adjusted(0.5, 0.5, -0.5, -0.5));
  }
}

void TimelineOverview::moveWindowTo(double x) {
  const double span = window1_ - window0_;
  if (span <= 0) return;
  const double start = dragging_ ? timeAtX(x) - grabOffset_ : timeAtX(x) - span / 2;
  emit windowRequested(start, start + span);
}

void TimelineOverview::mousePressEvent(QMouseEvent* e) {
  if (e->button() != Qt::LeftButton || density_.busy.empty()) return;
  const double x = e->position().x();
  if (windowRect().contains(QPointF(x, height() / 2.0))) {
    grabOffset_ = timeAtX(x) - window0_;  // drag the window by where it was grabbed
  } else {
    moveWindowTo(x);  // a click elsewhere centres the window there, then drags from its middle
    grabOffset_ = (window1_ - window0_) / 2;
  }
  dragging_ = true;
}

void TimelineOverview::mouseMoveEvent(QMouseEvent* e) {
  if (dragging_) moveWindowTo(e->position().x());
}

void TimelineOverview::mouseReleaseEvent(QMouseEvent*) {
  dragging_ = false;
}

}  // namespace parm::app
