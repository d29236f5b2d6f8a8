// The panel under the timeline: the statistics table (TimelineStatsModel, sortable, with a "Selection / Whole
// run" toggle that follows the drawn range) beside the details of the clicked event (TimelineDetailsModel,
// rows copied with Ctrl+C or the Copy button as "name<TAB>value" lines).
#pragma once

#include <QWidget>

#include "app/timeline/timeline_selection.h"

class QAction;
class QComboBox;
class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace parm::app {

class TimelineData;
class TimelineDetailsModel;
class TimelineStatsModel;

class TimelineInspector : public QWidget {
  Q_OBJECT
 public:
  explicit TimelineInspector(QWidget* parent = nullptr);

  void setTimeline(const TimelineData* timeline);  // a new load: whole run, no details
  // A drawn range (its display length for the caption): the table switches to the selection.
  void setRanges(const ScheduleRanges& ranges, qint64 lengthNs);
  void clearRanges();  // back to the whole run
  void showDetails(EventRef event);
  void copyDetails();  // the selected detail rows, or every row when none is selected

  TimelineStatsModel* statsModel() const { return stats_; }
  TimelineDetailsModel* detailsModel() const { return details_; }
  QTableView* statsTable() const { return statsTable_; }
  QTableView* detailsTable() const { return detailsTable_; }
  QComboBox* scopeBox() const { return scopeBox_; }
  QAction* copyAction() const { return copy_; }

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;  // Ctrl+C on the details table

 private:
  void showCaption();

  const TimelineData* data_ = nullptr;
  TimelineStatsModel* stats_ = nullptr;
  QSortFilterProxyModel* sorted_ = nullptr;
  TimelineDetailsModel* details_ = nullptr;
  QTableView* statsTable_ = nullptr;
  QTableView* detailsTable_ = nullptr;
  QComboBox* scopeBox_ = nullptr;
  QLabel* caption_ = nullptr;
  QAction* copy_ = nullptr;
  qint64 rangeLength_ = 0;
};

}  // namespace parm::app
