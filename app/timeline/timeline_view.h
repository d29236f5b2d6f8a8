// The timeline canvas: hand-painted rows (QGraphicsView does not scale to 1,000,000 items), a time axis, flow
// arrows joining one collective across ranks, and a time-range selection. Vertical layout comes from the row
// tree (TimelineWidget passes the visible rows with their y), so the tree and the canvas scroll together.
// Navigation: wheel zooms around the cursor, left drag pans, W/S zoom, A/D pan, F fits; shift-drag or
// right-drag selects a time range, Esc clears it. Painting is timeline_painting.cpp; mapping, hit-testing and
// interaction timeline_view.cpp.
#pragma once

#include <QStringList>
#include <QWidget>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "app/timeline/timeline_palette.h"
#include "app/timeline/timeline_selection.h"

namespace parm::app {

class TimelineData;
struct TimelineRow;

class TimelineView : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kAxisHeight = 28;

  // One row of the tree as shown: y relative to the rows area (below the axis), the data rows drawn in it per
  // canvas column (several when a collapsed node merges its leaves), or a header of an expanded node.
  struct VisibleRow {
    int top = 0;
    int height = 0;
    std::vector<std::vector<int>> columns;
    bool header = false;
  };
  // An arrow of the last paint: from one member event of a collective to the next member rank's.
  struct FlowArrow {
    std::int32_t from = -1;
    std::int32_t to = -1;
    QPointF a, b;
  };

  explicit TimelineView(QWidget* parent = nullptr);

  void setData(const TimelineData* timeline);  // nullptr while loading: the message is shown instead
  void setMessage(const QString& message);
  void setRows(std::vector<VisibleRow> rows, const QStringList& columnTitles);

  void setFlowsVisible(bool on);
  bool flowsVisible() const { return flows_; }
  // Fits the build's span; the view stays fitted through resizes (a hidden tab laid out later, a window
  // resized) until the user zooms or pans.
  void fitToView();
  bool isFitted() const { return fitted_; }
  void setVisibleRange(double startNs, double endNs);  // display ns
  double visibleStart() const { return t0_; }
  double visibleEnd() const;
  void zoomAt(double x, double factor);  // factor > 1 zooms in, keeping the time under x
  void panByPixels(double dx);

  int columnCount() const { return std::max(1, static_cast<int>(titles_.size())); }
  QRect columnRect(int column) const;  // rows area of a column, canvas coordinates
  int columnAt(double x) const;
  double timeAt(double x) const;  // display ns under canvas x
  double xAt(double displayNs, int column) const;
  // Where an entry of a data row is drawn (canvas coordinates), empty when its row is not shown.
  QRectF eventRect(int dataRow, std::size_t entry) const;
  // What the tooltip says at a canvas point: op, group, purpose, bytes, chunk, schedule, rank, lane, measured
  // and predicted duration; empty when no event is there.
  QString hoverText(QPoint pos) const;
  const std::vector<FlowArrow>& lastFlows() const { return lastFlows_; }
  // Marks what the pointer is over (mouse moves call it): its op and that op's GPU items are outlined.
  void setHoverPoint(QPoint pos);
  // The outlines of the last hover: the op's bar and the bars of every GPU item it launched (on screen).
  std::vector<QRectF> highlightRects() const;
  // The selection in the run's measured time base (run-origin ns).
  std::optional<std::pair<qint64, qint64>> selection() const;
  std::optional<std::pair<double, double>> displaySelection() const { return sel_; }  // as drawn (display ns)
  void clearSelection();
  // Selects [startNs, endNs) of display time as a shift-drag over the first column would (rangeSelected
  // follows): for scripts and screenshots.
  void selectDisplayRange(double startNs, double endNs);

  // Click-to-select, highlighted ops and the flow-arrow option (timeline_view_marks.cpp). A left click on an
  // event selects it (outlined), a click on empty space or Esc clears the selection; eventSelected() follows.
  void selectEvent(EventRef event);
  EventRef selectedEvent() const { return marks_.selected; }
  void setHighlighted(std::vector<std::int32_t> measured);  // outlined, everything else dimmed; {}: none
  const std::vector<std::int32_t>& highlighted() const { return marks_.highlighted; }
  void setFlowsSelectedOnly(bool on);
  bool flowsSelectedOnly() const { return marks_.flowsSelectedOnly; }
  QRectF eventBar(EventRef event) const;  // where it is drawn, empty when not shown
  void centreOn(EventRef event);          // keeps the zoom

  // Paints everything at the widget's size into any device (QImage for PNG and the benchmark, QSvgGenerator
  // for SVG).
  void paintTo(QPainter& p) const;

 signals:
  void rangeSelected(qint64 startNs, qint64 endNs);
  void rangeCleared();
  void verticalDragged(int dy);                            // the widget scrolls the tree
  void visibleRangeChanged(double startNs, double endNs);  // display ns, after any zoom, pan, fit or resize
  void eventSelected(parm::app::EventRef event);           // invalid: the selection was cleared

 protected:
  void paintEvent(QPaintEvent*) override;
  void resizeEvent(QResizeEvent*) override;
  void mousePressEvent(QMouseEvent*) override;
  void mouseMoveEvent(QMouseEvent*) override;
  void mouseReleaseEvent(QMouseEvent*) override;
  void wheelEvent(QWheelEvent*) override;
  void keyPressEvent(QKeyEvent*) override;

 private:
  struct Hit {
    int row = -1;
    std::size_t entry = 0;
  };
  Hit hitAt(QPoint pos) const;
  int visibleRowAt(int y) const;
  std::int64_t offsetForSelection(QPoint pos) const;
  double columnWidth(int width) const;
  void drawAxis(QPainter& p) const;
  void drawRow(QPainter& p, int dataRow, const QRect& area, double colWidth, int column) const;
  void drawFlows(QPainter& p) const;
  void drawHighlight(QPainter& p) const;
  QString gpuHoverText(const TimelineRow& row, std::size_t entry) const;
  QRectF measuredRect(std::int32_t event) const;  // a measured event's bar, empty when not shown
  void viewChanged(bool fitted = false);          // repaint and tell the overview
  void clickAt(QPoint pos);
  void drawMarks(QPainter& p) const;  // dimming and the outlines of the marks
  void drawRangeLength(QPainter& p) const;
  std::vector<std::int32_t> selectedFlows() const;

  const TimelineData* data_ = nullptr;
  QString message_;
  std::vector<VisibleRow> rows_;
  std::vector<std::pair<int, int>> slot_;  // data row -> (visible row, column), -1 when not shown
  QStringList titles_;
  bool flows_ = true;
  double t0_ = 0;       // display ns at the left edge of every column
  double nsPerPx_ = 1;  // zoom
  bool fitted_ = false;
  mutable TimelineColours colours_;  // of the paint in progress, from palette()
  mutable std::vector<FlowArrow> lastFlows_;
  std::int32_t hoverOp_ = -1;  // measured() index of the op under the pointer (or of its GPU item's op)
  TimelineMarks marks_;

  enum class Drag { None, Pan, Select } drag_ = Drag::None;
  QPoint pressPos_, lastPos_;
  double pressT0_ = 0;
  std::optional<std::pair<double, double>> sel_;  // display ns
  std::int64_t selOffset_ = 0;                    // display -> run-origin ns for the selection
};

}  // namespace parm::app
