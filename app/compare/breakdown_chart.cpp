#include "app/compare/breakdown_chart.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QCursor>
#include <QEvent>
#include <QHorizontalStackedBarSeries>
#include <QLegend>
#include <QToolTip>
#include <QValueAxis>

#include "app/compare/duration_text.h"

namespace parm::app {
namespace {

// The legend's names, short enough not to be elided (the tooltip has the full ones: "exposed intra-node
// communication", ...).
QString shortName(parm::BreakdownPart part) {
  switch (part) {
    case parm::BreakdownPart::Compute:
      return BreakdownChart::tr("compute");
    case parm::BreakdownPart::IntraExposed:
      return BreakdownChart::tr("intra");
    case parm::BreakdownPart::InterExposed:
      return BreakdownChart::tr("inter");
    case parm::BreakdownPart::Hidden:
      return BreakdownChart::tr("hidden");
    case parm::BreakdownPart::Waiting:
      return BreakdownChart::tr("waiting");
    case parm::BreakdownPart::Idle:
      return BreakdownChart::tr("idle");
  }
  return {};
}

}  // namespace

BreakdownChart::BreakdownChart(QWidget* parent) : QChartView(new QChart, parent) {
  setRenderHint(QPainter::Antialiasing);
  chart()->setTitle(tr("Layer time by part (median iteration, slowest rank)"));
  chart()->legend()->setAlignment(Qt::AlignBottom);
  setToolTip(tr("Hover a segment for its part and time; click it to select those ops in the timeline"));
  chart()->setMargins(QMargins(4, 4, 4, 4));
  setMinimumHeight(220);
  setMinimumWidth(460);
  rebuild();
}

QColor BreakdownChart::partColor(parm::BreakdownPart part) {
  switch (part) {
    case parm::BreakdownPart::Compute:
      return QColor(0x4c, 0x78, 0xa8);
    case parm::BreakdownPart::IntraExposed:
      return QColor(0xf5, 0x85, 0x18);
    case parm::BreakdownPart::InterExposed:
      return QColor(0xe4, 0x57, 0x56);
    case parm::BreakdownPart::Hidden:
      return QColor(0x54, 0xa2, 0x4b);
    case parm::BreakdownPart::Waiting:
      return QColor(0xb2, 0x79, 0xa2);
    case parm::BreakdownPart::Idle:
      return QColor(0x9d, 0x9d, 0x9d);
  }
  return Qt::gray;
}

void BreakdownChart::setBreakdowns(std::vector<parm::ScheduleBreakdown> breakdowns) {
  breakdowns_ = std::move(breakdowns);
  rebuild();
}

QStringList BreakdownChart::barNames() const {
  QStringList out;
  for (const auto& [i, predicted] : bars_)
    out << QString::fromStdString(breakdowns_[i].schedule) + (predicted ? tr(" predicted") : tr(" measured"));
  return out;
}

bool BreakdownChart::activate(int bar, int part) {
  if (bar < 0 || bar >= static_cast<int>(bars_.size()) || part < 0 || part >= parm::kBreakdownPartCount)
    return false;
  const auto& [i, predicted] = bars_[static_cast<std::size_t>(bar)];
  emit segmentActivated(QString::fromStdString(breakdowns_[i].schedule), part, predicted);
  return true;
}

QString BreakdownChart::segmentText(int bar, int part) const {
  const auto& [i, predicted] = bars_[static_cast<std::size_t>(bar)];
  const parm::ScheduleBreakdown& b = breakdowns_[i];
  const auto& t = predicted ? b.predicted : b.measured;
  if (!t) return {};
  const double ms = t->ms[static_cast<std::size_t>(part)], total = t->total_ms();
  QString text =
      tr("%1 %2\n%3: %4 (%5 % of %6)")
          .arg(QString::fromStdString(b.schedule), predicted ? tr("predicted") : tr("measured"),
               QString::fromLatin1(to_string(static_cast<parm::BreakdownPart>(part))), durationText(ms))
          .arg(total > 0 ? 100.0 * ms / total : 0.0, 0, 'f', 1)
          .arg(durationText(total));
  if (!predicted) text += tr("\niteration %1, rank %2").arg(b.measured_iteration).arg(b.measured_rank);
  return text + tr("\nclick: select these ops in the timeline");
}

void BreakdownChart::rebuild() {
  QChart* c = chart();
  c->removeAllSeries();
  for (QAbstractAxis* axis : c->axes()) {
    c->removeAxis(axis);
    delete axis;
  }
  bars_.clear();
  for (std::size_t i = 0; i < breakdowns_.size(); ++i) {
    if (breakdowns_[i].measured) bars_.emplace_back(i, false);
    if (breakdowns_[i].predicted) bars_.emplace_back(i, true);
  }
  auto* series = new QHorizontalStackedBarSeries;
  double longest = 0;
  for (int p = 0; p < parm::kBreakdownPartCount; ++p) {
    const auto part = static_cast<parm::BreakdownPart>(p);
    auto* set = new QBarSet(shortName(part));
    set->setColor(partColor(part));
    set->setBorderColor(partColor(part));
    // Categories bottom to top: the last bar first.
    for (auto it = bars_.rbegin(); it != bars_.rend(); ++it) {
      const auto& t = it->second ? breakdowns_[it->first].predicted : breakdowns_[it->first].measured;
      *set << (t ? t->ms[static_cast<std::size_t>(p)] : 0.0);
    }
    const int count = static_cast<int>(bars_.size());
    connect(set, &QBarSet::clicked, this, [this, p, count](int index) { activate(count - 1 - index, p); });
    connect(set, &QBarSet::hovered, this, [this, p, count](bool on, int index) {
      if (on)
        QToolTip::showText(QCursor::pos(), segmentText(count - 1 - index, p), this);
      else
        QToolTip::hideText();
    });
    series->append(set);
  }
  for (const auto& [i, predicted] : bars_) {
    const auto& t = predicted ? breakdowns_[i].predicted : breakdowns_[i].measured;
    longest = std::max(longest, t ? t->total_ms() : 0.0);
  }
  series->setBarWidth(0.75);
  c->addSeries(series);
  auto* categories = new QBarCategoryAxis;
  QStringList reversed;  // short and unique: "S1" measured, "S1 pred." below it
  for (auto it = bars_.rbegin(); it != bars_.rend(); ++it)
    reversed << QString::fromStdString(breakdowns_[it->first].schedule) +
                    (it->second ? tr(" pred.") : QString());
  categories->append(reversed);
  QFont small = categories->labelsFont();
  small.setPointSizeF(std::max(6.0, small.pointSizeF() * 0.8));  // 14 bars: every label must fit its row
  categories->setLabelsFont(small);
  categories->setTruncateLabels(false);  // Qt elides them to "..." in a narrow chart otherwise
  c->addAxis(categories, Qt::AlignLeft);
  series->attachAxis(categories);
  auto* value = new QValueAxis;
  value->setTitleText(tr("ms"));
  value->setRange(0, longest > 0 ? longest * 1.05 : 1.0);
  c->addAxis(value, Qt::AlignBottom);
  series->attachAxis(value);
  setMinimumHeight(std::max(220, 110 + 17 * static_cast<int>(bars_.size())));
  applyPalette();
}

void BreakdownChart::applyPalette() {
  QChart* c = chart();
  const QPalette pal = palette();
  c->setBackgroundBrush(pal.color(QPalette::Base));
  c->setTitleBrush(pal.color(QPalette::Text));
  c->legend()->setLabelColor(pal.color(QPalette::Text));
  for (QAbstractAxis* axis : c->axes()) {
    axis->setLabelsColor(pal.color(QPalette::Text));
    axis->setTitleBrush(pal.color(QPalette::Text));
  }
}

void BreakdownChart::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange) applyPalette();
  QChartView::changeEvent(event);
}

}  // namespace parm::app
