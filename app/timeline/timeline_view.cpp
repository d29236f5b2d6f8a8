#include "app/timeline/timeline_view.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_details.h"
#include "app/timeline/timeline_format.h"

namespace parm::app {
namespace {

constexpr int kColumnGap = 10;
constexpr double kMinNsPerPx = 1e-3;
constexpr double kMaxNsPerPx = 1e12;

}  // namespace

TimelineView::TimelineView(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setMinimumSize(200, 120);
  setAttribute(Qt::WA_OpaquePaintEvent);
}

void TimelineView::setData(const TimelineData* timeline) {
  if (timeline != data_) marks_ = {{}, {}, marks_.flowsSelectedOnly};  // indices of another load
  data_ = timeline;
  hoverOp_ = -1;
  lastFlows_.clear();
  update();
}

void TimelineView::setMessage(const QString& message) {
  message_ = message;
  update();
}

void TimelineView::setRows(std::vector<VisibleRow> rows, const QStringList& columnTitles) {
  rows_ = std::move(rows);
  hoverOp_ = -1;
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
  viewChanged(true);
}

void TimelineView::viewChanged(bool fitted) {
  fitted_ = fitted;
  update();
  emit visibleRangeChanged(t0_, visibleEnd());
}

void TimelineView::resizeEvent(QResizeEvent*) {
  if (fitted_)
    fitToView();
  else
    emit visibleRangeChanged(t0_, visibleEnd());
}

void TimelineView::setVisibleRange(double startNs, double endNs) {
  if (endNs <= startNs) return;
  nsPerPx_ = std::clamp((endNs - startNs) / columnWidth(width()), kMinNsPerPx, kMaxNsPerPx);
  t0_ = startNs;
  viewChanged();
}

void TimelineView::zoomAt(double x, double factor) {
  if (factor <= 0) return;
  const int c = columnAt(x);
  const double t = timeAt(x);
  nsPerPx_ = std::clamp(nsPerPx_ / factor, kMinNsPerPx, kMaxNsPerPx);
  t0_ = t - (x - columnRect(c).left()) * nsPerPx_;
  viewChanged();
}

void TimelineView::panByPixels(double dx) {
  t0_ -= dx * nsPerPx_;
  viewChanged();
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
  if (r.gpu()) return gpuHoverText(r, hit.entry);
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
    if (const QString split = collectiveTipLine(*data_, index); !split.isEmpty()) lines << split;
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
    viewChanged();
  } else if (drag_ == Drag::Select) {
    sel_->second = timeAt(pos.x());
    update();
  } else {
    setHoverPoint(pos);
    const QString text = hoverText(pos);
    if (text.isEmpty())
      QToolTip::hideText();
    else
      QToolTip::showText(e->globalPosition().toPoint(), text, this);
  }
}

void TimelineView::selectDisplayRange(double startNs, double endNs) {
  if (!data_ || !(endNs > startNs)) return;
  const QRect column = columnRect(0);
  selOffset_ = offsetForSelection(QPoint(static_cast<int>(xAt(startNs, 0)), column.top() + 1));
  sel_ = std::make_pair(startNs, endNs);
  update();
  const auto range = selection();
  emit rangeSelected(range->first, range->second);
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
  if (drag_ == Drag::Pan && e->button() == Qt::LeftButton && (pos - pressPos_).manhattanLength() < 3)
    clickAt(pos);  // a click, not a pan
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
      selectEvent({});
      break;
    default:
      QWidget::keyPressEvent(e);
  }
}

}  // namespace parm::app
