#include "app/compare/sweep_bars_chart.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QValueAxis>
#include <algorithm>

namespace parm::app {

void plotScheduleBars(QChart* chart, const SweepRow& row, const QStringList& schedules) {
  chart->removeAllSeries();
  for (QAbstractAxis* a : chart->axes()) {
    chart->removeAxis(a);
    delete a;
  }
  double hi = 0;
  for (const QString& s : schedules) hi = std::max({hi, row.predicted.value(s), row.measured.value(s)});
  // Layer times are ms in practice; a microbenchmark-sized layer reads in us.
  const bool micro = hi > 0 && hi < 1;
  const double scale = micro ? 1e3 : 1.0;
  const QString unit = micro ? QStringLiteral("us") : QStringLiteral("ms");

  auto* series = new QBarSeries;
  QBarSet* measured = nullptr;
  if (!row.measured.isEmpty()) {
    measured = new QBarSet(QObject::tr("measured"));
    measured->setColor(QColor(0x1f, 0x77, 0xb4));  // data classes: fixed colours that read on both themes
    series->append(measured);
  }
  auto* predicted = new QBarSet(QObject::tr("predicted"));
  predicted->setColor(QColor(0xff, 0x7f, 0x0e));
  series->append(predicted);
  for (const QString& s : schedules) {
    if (measured) measured->append(row.measured.value(s) * scale);
    predicted->append(row.predicted.value(s) * scale);
  }
  series->setLabelsVisible(true);
  series->setLabelsFormat(QStringLiteral("@value"));
  series->setLabelsPrecision(4);
  chart->addSeries(series);

  auto* x = new QBarCategoryAxis;
  x->append(schedules);
  auto* y = new QValueAxis;
  y->setTitleText(QObject::tr("layer time (%1)").arg(unit));
  y->setRange(0, hi * scale * 1.1);
  y->applyNiceNumbers();
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  series->attachAxis(x);
  series->attachAxis(y);

  QString title = QObject::tr("%1: predicted best %2").arg(row.label, row.chosen);
  if (!row.measuredBest.isEmpty()) title += QObject::tr(", measured best %1").arg(row.measuredBest);
  chart->setTitle(title);
}

}  // namespace parm::app
