// The why, as a picture: per schedule one horizontal stacked bar measured and, below it, one predicted, split
// into the parts of engine/model/time_breakdown.h (compute, exposed intra-node, exposed inter-node, hidden
// communication, waiting for peers, idle). Hovering a segment shows its part, time and share; clicking it
// emits segmentActivated (the coordinator selects those ops in the timeline).
#pragma once

#include <QChartView>
#include <QString>
#include <QStringList>
#include <utility>
#include <vector>

#include "engine/model/time_breakdown.h"

namespace parm::app {

class BreakdownChart : public QChartView {
  Q_OBJECT

 public:
  explicit BreakdownChart(QWidget* parent = nullptr);

  void setBreakdowns(std::vector<parm::ScheduleBreakdown> breakdowns);
  const std::vector<parm::ScheduleBreakdown>& breakdowns() const { return breakdowns_; }
  // The bars, top to bottom: "S1 measured", "S1 predicted", ... (the chart's categories, reversed: Qt
  // draws the first category at the bottom).
  QStringList barNames() const;
  // What a click on bar `bar` (barNames' index), part `part` (BreakdownPart) emits; false when out of range.
  bool activate(int bar, int part);
  // The colour of each part (fixed data colours, readable on light and dark backgrounds).
  static QColor partColor(parm::BreakdownPart part);

 Q_SIGNALS:
  void segmentActivated(const QString& schedule, int part, bool predicted);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void rebuild();
  void applyPalette();
  QString segmentText(int bar, int part) const;

  std::vector<parm::ScheduleBreakdown> breakdowns_;
  std::vector<std::pair<std::size_t, bool>> bars_;  // top to bottom: (index in breakdowns_, predicted)
};

}  // namespace parm::app
