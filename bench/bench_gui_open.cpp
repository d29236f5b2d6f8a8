// Opening a big project in the main window: writes a run of N events (default 1,230,000: R ranks x 3 lanes in
// two schedules, collectives matched across ranks) through Database::add_events, or takes --project FILE, and
// opens it the way parm-studio does (window shown first, the project opened from the event loop). Prints the
// time to the window's first paint, to fully loaded (runs, timeline, comparison, sweep), the longest stall of
// the GUI thread meanwhile (a 10 ms timer's largest gap), and the ratio to a small project (1,000 events)
// opened in the same process. Usage: parm_bench_gui_open [--events N] [--ranks R] [--project FILE | --write
// FILE]
#include <QApplication>
#include <QElapsedTimer>
#include <QEvent>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "app/launch/project.h"
#include "app/main_window.h"
#include "app/timeline/timeline_widget.h"
#include "bench/synthetic_run.h"
#include "db/database.h"

namespace {

QString argText(int argc, char** argv, const char* name) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == name) return QString::fromLocal8Bit(argv[i + 1]);
  return {};
}

long argValue(int argc, char** argv, const char* name, long fallback) {
  const QString text = argText(argc, argv, name);
  return text.isEmpty() ? fallback : text.toLong();
}

// Every (rank, lane) gets events back to back; the first half of each row is schedule B_DS, the second S1;
// lanes 1 and 2 are collectives whose k-th event has seq k on every rank.
void synthesise(const QString& path, long events, int ranks) {
  auto db = parm::db::Database::open(path.toStdString(), true);
  const parm::bench::SyntheticRun written =
      parm::bench::write_synthetic_run(db, events, ranks, {"B_DS", "S1"});
  db.finish_run(written.run);
}

// Notes the first paint event of the widget it filters.
struct FirstPaint : QObject {
  bool seen = false;
  bool eventFilter(QObject*, QEvent* event) override {
    if (event->type() == QEvent::Paint) seen = true;
    return false;
  }
};

struct Opening {
  double shownMs = -1, timelineMs = -1, loadedMs = -1, longestStallMs = 0;
  QStringList messages;
};

// What parm-studio's main() does: show the window, then open the project from the event loop.
Opening open(const QString& path) {
  Opening o;
  QElapsedTimer clock;
  clock.start();
  parm::app::MainWindow window;
  window.resize(1500, 900);
  window.show();
  window.afterFirstPaint([&window, path] { window.openProject(path); });
  QTimer tick;
  qint64 lastTick = 0;
  QObject::connect(&tick, &QTimer::timeout, [&] {
    const qint64 now = clock.elapsed();
    o.longestStallMs = std::max(o.longestStallMs, static_cast<double>(now - lastTick));
    lastTick = now;
  });
  tick.start(10);
  QObject::connect(window.timeline(), &parm::app::TimelineWidget::runLoaded, &window,
                   [&] { o.timelineMs = static_cast<double>(clock.elapsed()); });
  // Shown: the first paint of the window happened (its contents are on screen).
  FirstPaint painted;
  window.installEventFilter(&painted);
  while (!painted.seen && clock.elapsed() < 60000) QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
  o.shownMs = static_cast<double>(clock.elapsed());
  while (!window.project()->isOpen() || window.isLoading()) {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    if (clock.elapsed() > 600000) break;
  }
  o.loadedMs = static_cast<double>(clock.elapsed());
  o.messages = window.messages();
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QApplication::setOrganizationName("ParmStudioBench");  // its own QSettings, not the user's window layout
  const long events = argValue(argc, argv, "--events", 1230000);
  const int ranks = static_cast<int>(argValue(argc, argv, "--ranks", 8));
  QString big = argText(argc, argv, "--project");

  QTemporaryDir dir;
  const QString small = dir.filePath("small.sqlite");
  synthesise(small, 1000, ranks);
  if (big.isEmpty()) {
    const QString keep = argText(argc, argv, "--write");  // keeps the project for --project or profiling
    big = keep.isEmpty() ? dir.filePath("big.sqlite") : keep;
    QElapsedTimer clock;
    clock.start();
    synthesise(big, events, ranks);
    std::printf("synthesised %ld events (%d ranks x 3 lanes, 2 schedules) in %.0f ms\n", events, ranks,
                static_cast<double>(clock.elapsed()));
  }
  {  // the synchronous part of opening: the project's connection and its runs list (with event counts)
    QElapsedTimer clock;
    clock.start();
    parm::app::Project project;
    project.open(big);
    std::printf(
        "Project::open (connection with its quick_check, runs list; counts wait on a worker): %.0f ms\n",
        static_cast<double>(clock.elapsed()));
  }
  const Opening a = open(small);  // also warms up fonts, styles and the page cache of the code
  const Opening b = open(big);
  for (const auto& [name, o] : {std::pair{"small (1,000 events)", a}, std::pair{"big", b}}) {
    std::printf(
        "%-22s window shown %6.0f ms, timeline loaded %6.0f ms, fully loaded %6.0f ms, longest GUI stall "
        "%5.0f "
        "ms\n",
        name, o.shownMs, o.timelineMs, o.loadedMs, o.longestStallMs);
    for (const QString& m : o.messages) std::printf("  message: %s\n", qPrintable(m));
  }
  std::printf("big / small: shown %.2fx, fully loaded %.2fx\n", b.shownMs / std::max(1.0, a.shownMs),
              b.loadedMs / std::max(1.0, a.loadedMs));
  return 0;
}
