// The colour legend of the timeline: one swatch per op class present in the run (measured, predicted or GPU
// rows) and one for predicted bars, laid out left to right and wrapped. The same painter serves the strip
// under the canvas (TimelineLegend) and exported images (timeline_image_export).
#pragma once

#include <QColor>
#include <QString>
#include <QWidget>
#include <vector>

#include "app/timeline/timeline_data.h"

class QFontMetrics;
class QPainter;

namespace parm::app {

struct TimelineColours;

struct LegendEntry {
  QString label;
  OpClass cls = OpClass::Other;
  bool predicted = false;  // the "predicted" swatch: a washed fill with a dashed outline
};

// The classes present in `data`, in OpClass order, then "predicted" when there are predicted events.
std::vector<LegendEntry> legendEntries(const TimelineData& data);
QString legendLabel(OpClass c);

// Height the entries take at `width` (wrapped lines), and the painting itself into `area`.
int legendHeight(const std::vector<LegendEntry>& entries, const QFontMetrics& metrics, int width);
void paintLegend(QPainter& p, const QRect& area, const std::vector<LegendEntry>& entries,
                 const TimelineColours& colours);

class TimelineLegend : public QWidget {
  Q_OBJECT
 public:
  explicit TimelineLegend(QWidget* parent = nullptr);
  void setData(const TimelineData* timeline);  // nullptr: empty (hidden by its owner)
  const std::vector<LegendEntry>& entries() const { return entries_; }

  bool hasHeightForWidth() const override { return true; }
  int heightForWidth(int width) const override;
  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent*) override;

 private:
  std::vector<LegendEntry> entries_;
};

}  // namespace parm::app
