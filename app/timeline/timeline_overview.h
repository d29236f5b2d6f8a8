// The overview strip of the whole-run mode (Perfetto's and Nsight Systems' overview): per schedule, how busy
// its measured lanes are across the whole run, with the canvas' visible window drawn as a rectangle. A click
// centres the window there; dragging moves it. TimelineWidget hides it in the aligned mode.
#pragma once

#include <QString>
#include <QWidget>
#include <cstdint>
#include <vector>

namespace parm::app {

class TimelineData;

// Busy fraction per schedule (section) and time bin over the build's display span: the measured time of the
// section's CPU lanes inside a bin over (bin width * lanes), in [0, 1].
struct OverviewDensity {
  std::int64_t start = 0, end = 1;  // display ns
  std::vector<QString> labels;      // one per section
  std::vector<std::vector<float>> busy;
  float peak = 0;  // the largest busy value: drawn full height
};
OverviewDensity overviewDensity(const TimelineData& data, int bins);

class TimelineOverview : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kBins = 1024;
  static constexpr int kLaneHeight = 12;

  explicit TimelineOverview(QWidget* parent = nullptr);
  void setData(const TimelineData* timeline);  // recomputes the density (O(events)); nullptr clears
  void setWindow(double startNs, double endNs);
  void setLabelWidth(int px);  // the schedule names' column, so the strip lines up with the row tree
  const OverviewDensity& density() const { return density_; }
  QRect stripRect() const;         // where the density is drawn
  QRectF windowRect() const;       // the visible window, in widget coordinates
  double timeAtX(double x) const;  // display ns under x of the strip

  QSize sizeHint() const override;

 signals:
  // The window moved to [startNs, endNs) by a click or a drag (the span is kept).
  void windowRequested(double startNs, double endNs);

 protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent*) override;
  void mouseMoveEvent(QMouseEvent*) override;
  void mouseReleaseEvent(QMouseEvent*) override;

 private:
  void moveWindowTo(double x);

  OverviewDensity density_;
  double window0_ = 0, window1_ = 0;
  int labelWidth_ = 120;
  bool dragging_ = false;
  double grabOffset_ = 0;  // pointer to the window's left edge, in ns, while dragging
};

}  // namespace parm::app
