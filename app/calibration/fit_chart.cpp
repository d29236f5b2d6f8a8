#include "app/calibration/fit_chart.h"

#include <QCategoryAxis>
#include <QChart>
#include <QLineSeries>
#include <QScatterSeries>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

#include "app/calibration/calibration_units.h"

namespace parm::app {

void clearFitPlot(QChart* chart, const QString& title) {
  chart->removeAllSeries();
  for (QAbstractAxis* a : chart->axes()) {
    chart->removeAxis(a);
    delete a;
  }
  chart->setTitle(title);
}

void plotFit(QChart* chart, const CalibrationFit& fit) {
  const QString op = QString::fromStdString(fit.op), comm = QString::fromStdString(fit.communicator);
  clearFitPlot(chart, {});
  // The size range: the samples' (a log axis needs n > 0), else the decade around 1 MiB.
  double lo = 0, hi = 0, tMax = 0;
  for (const FitSample& s : fit.samples)
    if (s.n > 0) {
      lo = lo > 0 ? std::min(lo, s.n) : s.n;
      hi = std::max(hi, s.n);
      tMax = std::max(tMax, s.t);
    }
  const bool sampled = hi > 0;
  if (!sampled) lo = 1 << 16, hi = 1 << 24;
  if (hi <= lo) hi = lo * 2;
  auto line = [&](double n) { return fit.fit.alpha + fit.fit.beta * n; };
  tMax = std::max({tMax, line(hi), line(lo)});
  const TimeUnit unit = timeUnitFor(tMax);

  auto* samples = new QScatterSeries;
  samples->setName(QObject::tr("samples"));
  samples->setMarkerSize(10);
  samples->setColor(QColor(0x1f, 0x77, 0xb4));  // a data class colour: reads on light and dark themes
  for (const FitSample& s : fit.samples)
    if (s.n > 0) samples->append(std::log2(s.n), s.t * unit.perMs);
  auto* fitted = new QLineSeries;
  fitted->setName(QObject::tr("alpha + beta * n"));
  fitted->setPen(QPen(QColor(0xff, 0x7f, 0x0e), 2));
  // Log-spaced points, so the line (a curve on a log axis) is smooth at small sizes too.
  for (int i = 0; i < kFitLinePoints; ++i) {
    const double n = lo * std::pow(hi / lo, double(i) / double(kFitLinePoints - 1));
    fitted->append(std::log2(n), line(n) * unit.perMs);
  }
  chart->addSeries(fitted);
  chart->addSeries(samples);

  // The size axis: log2(n), labelled with sizes that read ("64 KiB", "16 MiB"), at most ~8 labels.
  auto* x = new QCategoryAxis;
  x->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
  const double x0 = std::floor(std::log2(lo)) - 0.5, x1 = std::ceil(std::log2(hi)) + 0.5;
  const int step = std::max(1, int(std::ceil((x1 - x0) / 8)));
  const bool bytes = sizeUnitOf(fit) == QLatin1String("B");
  for (int e = int(std::ceil(x0)); e <= int(std::floor(x1)); e += step)
    x->append(bytes ? formatSize(std::ldexp(1.0, e)) : QStringLiteral("2^%1").arg(e), e);
  x->setRange(x0, x1);
  x->setTitleText(QObject::tr("n (%1, log scale)").arg(sizeUnitOf(fit)));
  auto* y = new QValueAxis;
  y->setTitleText(QObject::tr("time (%1)").arg(unit.name));
  y->setRange(0, tMax * unit.perMs * 1.08);
  y->applyNiceNumbers();
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  for (QAbstractSeries* s : {static_cast<QAbstractSeries*>(fitted), static_cast<QAbstractSeries*>(samples)}) {
    s->attachAxis(x);
    s->attachAxis(y);
  }
  chart->setTitle(QObject::tr("%1 on %2: alpha %3 us, beta %4 ns/%5<br>r2 %6%7")
                      .arg(op, comm)
                      .arg(fit.fit.alpha * 1e3, 0, 'f', 2)
                      .arg(fit.fit.beta * 1e6, 0, 'g', 4)
                      .arg(sizeUnitOf(fit))
                      .arg(fit.fit.r2, 0, 'f', 3)
                      .arg(sampled ? QString() : QObject::tr(" (no samples stored)")));
}

}  // namespace parm::app
