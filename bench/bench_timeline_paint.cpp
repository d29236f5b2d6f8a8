// Timeline painting at 1,000,000 events: synthesises a run through Database::add_events (R ranks x 3 lanes,
// collectives matched across ranks), opens it with the TimelineWidget (worker-thread load), and paints the
// canvas into a QImage at full zoom-out, a mid zoom and a ~1 us window. Prints load time and median ms per
// frame. With --gpu 1 every event also launches one kernel (stored through add_gpu_activity, one GPU row per
// rank and lane): the GPU rows' cost at the same size. Usage: parm_bench_timeline_paint [--events N]
// [--ranks R] [--frames F] [--width W] [--height H] [--gpu 0|1]
#include <QApplication>
#include <QElapsedTimer>
#include <QImage>
#include <QPainter>
#include <QTemporaryDir>
#include <QTreeView>
#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_view.h"
#include "app/timeline/timeline_widget.h"
#include "bench/synthetic_run.h"
#include "db/database.h"
#include "db/gpu_activity.h"

namespace {

long argValue(int argc, char** argv, const char* name, long fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == name) return std::stol(argv[i + 1]);
  return fallback;
}

// Every (rank, lane) gets events back to back with small gaps; lanes 1 and 2 are collectives whose k-th event
// has seq k on every rank, so flows join all ranks.
std::int64_t synthesise(const QString& path, long events, int ranks, bool gpu) {
  auto db = parm::db::Database::open(path.toStdString(), true);
  const parm::bench::SyntheticRun written = parm::bench::write_synthetic_run(db, events, ranks, {"S1"}, gpu);
  if (gpu) {
    parm::db::GpuActivityRows kernels;
    for (std::size_t row = 0; row < written.rows.size(); ++row) {
      const std::vector<parm::db::EventRow>& batch = written.rows[row];
      for (std::size_t k = 0; k < batch.size(); ++k) {  // one kernel in the middle half of each op
        parm::db::GpuKernelRow g;
        g.rank = batch[k].rank;
        g.stream_id = 7 + batch[k].lane;
        g.event = written.first_ids[row] + static_cast<std::int64_t>(k);
        const std::int64_t span = batch[k].end_ns - batch[k].start_ns;
        g.start_ns = batch[k].start_ns + span / 4;
        g.end_ns = g.start_ns + span / 2;
        g.demangled_name =
            batch[k].lane == 0 ? "void gemm_kernel<float>(float const*, float*, int)" : "ncclDevKernel";
        g.short_name = batch[k].lane == 0 ? "gemm_kernel" : "ncclDevKernel";
        g.grid_x = 128, g.grid_y = g.grid_z = 1, g.block_x = 256, g.block_y = g.block_z = 1;
        kernels.kernels.push_back(std::move(g));
      }
    }
    parm::db::add_gpu_activity(db, written.run, kernels);
  }
  db.finish_run(written.run);
  return written.run;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  const long events = argValue(argc, argv, "--events", 1000000);
  const int ranks = static_cast<int>(argValue(argc, argv, "--ranks", 8));
  const int frames = static_cast<int>(argValue(argc, argv, "--frames", 30));
  const int width = static_cast<int>(argValue(argc, argv, "--width", 1600));
  const int height = static_cast<int>(argValue(argc, argv, "--height", 900));
  const bool gpu = argValue(argc, argv, "--gpu", 0) != 0;

  QTemporaryDir dir;
  const QString path = dir.filePath("bench.sqlite");
  QElapsedTimer clock;
  clock.start();
  const std::int64_t run = synthesise(path, events, ranks, gpu);
  std::printf("synthesised %ld events (%d ranks x 3 lanes)%s in %.0f ms\n", events, ranks,
              gpu ? " and one kernel per event" : "", static_cast<double>(clock.elapsed()));

  parm::app::TimelineWidget w;
  w.setMode(parm::app::TimelineMode::WholeRun);  // every event on screen at full zoom-out
  w.resize(width + 260, height + 60);
  w.show();
  clock.restart();
  QString error;
  if (!w.openRun(path, run, &error)) {
    std::fprintf(stderr, "%s\n", qPrintable(error));
    return 1;
  }
  while (w.isLoading()) QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
  const double loadMs = static_cast<double>(clock.elapsed());
  const parm::app::TimelineData* data = w.timelineData();
  if (!data) return 1;
  std::size_t shown = 0;
  for (const auto& r : data->rows()) shown += r.event.size();
  std::printf("load (open + worker read + build + tree), %zu events in %zu rows: %.0f ms\n", shown,
              data->rows().size(), loadMs);

  parm::app::TimelineView* view = w.view();
  view->resize(width, height);
  QCoreApplication::processEvents();
  QImage image(view->size(), QImage::Format_ARGB32_Premultiplied);
  const double span = static_cast<double>(data->displayEnd() - data->displayStart());
  const double mid = static_cast<double>(data->displayStart()) + span / 2;
  struct Zoom {
    const char* name;
    double window;
  };
  const Zoom zooms[] = {{"full zoom-out", 0},
                        {"mid zoom (1/100 of the run)", span / 100},
                        {"mid zoom (1/1000 of the run)", span / 1000},
                        {"deep zoom (1 us)", 1000}};
  std::printf("canvas %dx%d, %d frames each\n", view->width(), view->height(), frames);
  for (bool flows : {true, false})
    for (const Zoom& z : zooms) {
      view->setFlowsVisible(flows);
      if (z.window == 0)
        view->fitToView();
      else
        view->setVisibleRange(mid - z.window / 2, mid + z.window / 2);
      std::vector<double> ms;
      for (int f = 0; f < frames; ++f) {
        QElapsedTimer t;
        t.start();
        QPainter p(&image);
        view->paintTo(p);
        p.end();
        ms.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
      }
      std::printf("%-28s flows %-3s median %.2f ms/frame (min %.2f, max %.2f), %zu flow arrows\n", z.name,
                  flows ? "on" : "off", median(ms), *std::min_element(ms.begin(), ms.end()),
                  *std::max_element(ms.begin(), ms.end()), view->lastFlows().size());
    }
  // Switching mode rebuilds the rows on the GUI thread: its cost at this size.
  clock.restart();
  w.setMode(parm::app::TimelineMode::Aligned);
  const double alignedMs = static_cast<double>(clock.elapsed());
  clock.restart();
  w.setMode(parm::app::TimelineMode::WholeRun);
  std::printf("mode switch (rebuild rows + tree): to aligned %.0f ms, back to whole run %.0f ms\n", alignedMs,
              static_cast<double>(clock.elapsed()));
  return 0;
}
