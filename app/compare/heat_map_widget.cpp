#include "app/compare/heat_map_widget.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>

#include "app/compare/schedule_colors.h"

namespace parm::app {
namespace {
constexpr int kLeft = 70, kBottom = 40, kTop = 10, kRight = 10;
constexpr int kMaxCellWidth = 160, kMaxCellHeight = 90;
}  // namespace

HeatMapWidget::HeatMapWidget(QWidget* parent) : QWidget(parent) {
  setMinimumSize(240, 180);
  setMouseTracking(true);
}

void HeatMapWidget::setHeatMap(const HeatMap& map) {
  map_ = map;
  update();
}

QSize HeatMapWidget::sizeHint() const {
  return {480, 360};
}

QRect HeatMapWidget::plotRect() const {
  const QRect full = rect().adjusted(kLeft, kTop, -kRight, -kBottom);
  if (map_.xs.isEmpty() || map_.ys.isEmpty()) return full;
  // A few configurations make a few cells: cap their size so the map reads as a map, not as a wall of colour.
  const int w = std::min(full.width(), kMaxCellWidth * int(map_.xs.size()));
  const int h = std::min(full.height(), kMaxCellHeight * int(map_.ys.size()));
  return QRect(full.left(), full.top(), w, h);
}

bool HeatMapWidget::cellAt(QPoint p, int* xi, int* yi) const {
  const QRect r = plotRect();
  if (map_.xs.isEmpty() || map_.ys.isEmpty() || !r.contains(p)) return false;
  *xi = int((p.x() - r.left()) * map_.xs.size() / std::max(1, r.width()));
  // y grows upwards: the smallest value at the bottom.
  *yi = int(map_.ys.size() - 1 - (p.y() - r.top()) * map_.ys.size() / std::max(1, r.height()));
  return *xi >= 0 && *xi < map_.xs.size() && *yi >= 0 && *yi < map_.ys.size();
}

void HeatMapWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  const QRect r = plotRect();
  if (map_.xs.isEmpty() || map_.ys.isEmpty()) {
    p.drawText(rect(), Qt::AlignCenter, tr("No sweep loaded"));
    return;
  }
  const double cw = double(r.width()) / double(map_.xs.size());
  const double ch = double(r.height()) / double(map_.ys.size());
  for (qsizetype yi = 0; yi < map_.ys.size(); ++yi)
    for (qsizetype xi = 0; xi < map_.xs.size(); ++xi) {
      const QRectF cell(r.left() + double(xi) * cw, r.top() + double(map_.ys.size() - 1 - yi) * ch, cw, ch);
      const HeatCell& c = map_.cells[std::size_t(yi)][std::size_t(xi)];
      if (c.total == 0) {
        p.fillRect(cell, palette().window());
        continue;
      }
      const QColor color = scheduleColor(c.schedule);
      p.fillRect(cell, color);
      p.setPen(QPen(palette().color(QPalette::Base), 2));  // cells of one schedule stay apart
      p.drawRect(cell);
      p.setPen(color.lightness() > 140 ? Qt::black : Qt::white);
      QString text = c.schedule + QLatin1Char('\n') + QString::number(c.speedup, 'f', 2) + QLatin1Char('x');
      if (c.count != c.total) text += QStringLiteral(" (%1/%2)").arg(c.count).arg(c.total);
      p.drawText(cell, Qt::AlignCenter | Qt::TextWordWrap, text);
    }
  p.setPen(palette().text().color());
  p.drawRect(r.adjusted(0, 0, -1, -1));
  for (qsizetype xi = 0; xi < map_.xs.size(); ++xi)
    p.drawText(QRectF(r.left() + double(xi) * cw, r.bottom() + 2, cw, 18), Qt::AlignCenter,
               QString::number(map_.xs[xi], 'g', 6));
  for (qsizetype yi = 0; yi < map_.ys.size(); ++yi)
    p.drawText(QRectF(0, r.top() + double(map_.ys.size() - 1 - yi) * ch, kLeft - 4, ch),
               Qt::AlignRight | Qt::AlignVCenter, QString::number(map_.ys[yi], 'g', 6));
  p.drawText(QRect(r.left(), r.bottom() + 20, r.width(), 18), Qt::AlignCenter, map_.xParam);
  p.save();
  p.translate(12, r.center().y());
  p.rotate(-90);
  p.drawText(QRect(-r.height() / 2, -10, r.height(), 20), Qt::AlignCenter, map_.yParam);
  p.restore();
}

bool HeatMapWidget::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(e);
    int xi = 0, yi = 0;
    if (cellAt(help->pos(), &xi, &yi)) {
      const HeatCell& c = map_.cells[std::size_t(yi)][std::size_t(xi)];
      QToolTip::showText(help->globalPos(),
                         c.total == 0 ? tr("no configuration")
                                      : tr("%1 = %2, %3 = %4: %5 chosen in %6 of %7, median %8x vs B_DS")
                                            .arg(map_.xParam)
                                            .arg(map_.xs[xi])
                                            .arg(map_.yParam)
                                            .arg(map_.ys[yi])
                                            .arg(c.schedule)
                                            .arg(c.count)
                                            .arg(c.total)
                                            .arg(c.speedup, 0, 'f', 3),
                         this);
    } else {
      QToolTip::hideText();
    }
    return true;
  }
  return QWidget::event(e);
}

}  // namespace parm::app
