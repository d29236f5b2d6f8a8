// The README's screenshots: every page of the window grabbed as DIR/<page>.png once what it shows is loaded,
// plus the timeline with a range selected (its statistics below the canvas) and the project's latest
// calibration run's fits. Used by `parm-studio --screenshots DIR` (scripts/screenshots.sh) and the window's
// test.
#include <QApplication>
#include <QDir>
#include <QEventLoop>
#include <QTabWidget>
#include <QTimer>

#include "app/calibration/calibration_page.h"
#include "app/compare/comparison_page.h"
#include "app/launch/project.h"
#include "app/main_window.h"
#include "app/models/run_list_model.h"
#include "app/timeline/timeline_view.h"
#include "app/timeline/timeline_widget.h"

namespace parm::app {

namespace {

// Runs the event loop until `signal` of `sender` fires (30 s at most).
template <class Sender, class Signal>
void waitFor(Sender* sender, Signal signal) {
  QEventLoop loop;
  QObject::connect(sender, signal, &loop, &QEventLoop::quit);
  QTimer::singleShot(30000, &loop, &QEventLoop::quit);
  loop.exec();
}

}  // namespace

QString MainWindow::saveScreenshots(const QString& dir) {
  if (!QDir().mkpath(dir)) return tr("Cannot create %1").arg(dir);
  const int before = tabs_->currentIndex();
  const char* names[] = {"configure", "timeline", "comparison", "sweep", "calibration"};
  static_assert(std::size(names) == CalibrationTab + 1, "one file name per page");
  QString error;
  auto grabAs = [&](const QString& name) {
    const QString path = QDir(dir).filePath(name + ".png");
    if (!grab().save(path)) error = tr("Cannot write %1").arg(path);
  };
  for (int page = 0; page < tabs_->count() && error.isEmpty(); ++page) {
    if (!tabs_->isTabEnabled(page)) continue;
    if (page == CalibrationTab && calibration_->runId() == 0) {
      // The latest calibration run of the project, shown without changing the selected run.
      const RunListModel* runs = project_->runs();
      for (int r = runs->rowCount() - 1; r >= 0; --r)
        if (runs->row(r)->kind == "calibration" && runs->row(r)->complete) {
          if (calibration_->setRun(project_->path(), runs->row(r)->id) && calibration_->isLoading())
            waitFor(calibration_, &CalibrationPage::loadFinished);
          break;
        }
    }
    tabs_->setCurrentIndex(page);
    QApplication::processEvents();
    if (page == TimelinePage) {
      timeline_->fitToView();  // the window may have been resized since the run was loaded
      QApplication::processEvents();
    }
    // The comparison and the recommendation are computed on workers: grab the page once both are shown.
    if (page == ComparePage && compare_->loading()) waitFor(compare_, &ComparisonPage::loaded);
    if (page == ComparePage && compare_->recommendationPending())
      waitFor(compare_, &ComparisonPage::recommendationChanged);
    grabAs(QString::fromLatin1(names[page]));
    if (page == TimelinePage && timeline_->timelineData() && error.isEmpty()) {
      // A profiler's first gesture: a range over the middle of the view, with its statistics.
      TimelineView* view = timeline_->view();
      const double t0 = view->visibleStart(), span = view->visibleEnd() - t0;
      view->selectDisplayRange(t0 + 0.15 * span, t0 + 0.55 * span);
      QApplication::processEvents();
      grabAs(QStringLiteral("timeline-selection"));
      timeline_->clearSelection();
    }
  }
  tabs_->setCurrentIndex(before);
  return error;
}

}  // namespace parm::app
