// GPU rows in the timeline from a project written through the real writer (add_events + add_gpu_activity,
// records built here: no GPU needed): 3 ranks, two with kernels, copies and a memset on two streams each tied
// to their ops, one with "CUPTI unavailable: ...". Rows, names and counts, hover text, the op <-> kernel
// outline, the rank's capture status, the row model under QAbstractItemModelTester, and a screenshot whose
// GPU band must hold kernel-coloured pixels (saved under the build folder to look at).
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QDir>
#include <QImage>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>
#include <algorithm>
#include <map>
#include <tuple>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_row_model.h"
#include "app/timeline/timeline_view.h"
#include "app/timeline/timeline_widget.h"
#include "db/database.h"
#include "db/gpu_activity.h"

using namespace parm::app;
namespace db = parm::db;

namespace {

constexpr int kIterations = 2;
constexpr std::int64_t kIterationNs = 1'000'000;
const QColor kKernelColour(0x76, 0xb9, 0x00);  // timeline_painting.cpp's GPU kernel colour
const char* const kGemm =
    "void parm::kernels::gemm_kernel<float, 128>(float const*, float const*, float*, int)";
const char* const kUnavailable =
    "CUPTI unavailable: cuptiActivityEnable returned CUPTI_ERROR_UNKNOWN (no driver)";

// The second stream of each rank: NCCL's.
std::int64_t commStream(int rank) {
  return rank == 0 ? 13 : 14;
}

}  // namespace

class TestAppTimelineGpu : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString path_;
  std::int64_t run_ = 0;
  std::unique_ptr<TimelineWidget> w_;
  // What was stored, per (rank, stream): items in every iteration and in iteration 0 (the aligned build).
  std::map<std::pair<int, std::int64_t>, int> storedAll_, storedFirst_;

  void count(int rank, std::int64_t stream, int iteration) {
    ++storedAll_[{rank, stream}];
    if (iteration == 0) ++storedFirst_[{rank, stream}];
  }

  const TimelineData& data() const { return *w_->timelineData(); }

  // The GPU row of (rank, stream) in the build, -1 when none.
  int gpuRow(int rank, std::int64_t stream) const {
    for (std::size_t i = 0; i < data().rows().size(); ++i) {
      const TimelineRow& r = data().rows()[i];
      if (r.gpu() && r.rank == rank &&
          data().laneName(rank, r.lane).endsWith(QStringLiteral(" %1").arg(stream)))
        return static_cast<int>(i);
    }
    return -1;
  }

  // The first entry of a row whose item has this kind (and label, when given).
  std::size_t entryOf(int row, GpuKind kind, const QString& label = {}) const {
    const TimelineRow& r = data().rows()[static_cast<std::size_t>(row)];
    for (std::size_t i = 0; i < r.event.size(); ++i) {
      const TimelineGpuItem& g = data().gpuItems()[static_cast<std::size_t>(r.event[i])];
      if (g.kind == kind && (label.isEmpty() || data().strings()[g.label] == label)) return i;
    }
    return r.event.size();
  }

  QPoint centreOf(int row, std::size_t entry) const {
    const QRectF rect = w_->view()->eventRect(row, entry);
    return rect.center().toPoint();
  }

  QModelIndex findLabel(const QAbstractItemModel& m, const QString& prefix, const QModelIndex& parent = {}) {
    for (int r = 0; r < m.rowCount(parent); ++r) {
      const QModelIndex i = m.index(r, 0, parent);
      if (m.data(i).toString().startsWith(prefix)) return i;
      const QModelIndex below = findLabel(m, prefix, i);
      if (below.isValid()) return below;
    }
    return {};
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    path_ = dir_.filePath("gpu.sqlite");
    auto project = db::Database::open(path_.toStdString(), true);
    db::RunInfo info;
    info.name = "gpu";
    info.kind = "measured";
    info.backend = "cuda";
    info.ranks = 3;
    run_ = project.begin_run(info);
    const std::int32_t schedule = project.intern("S1"), none = project.intern("-");
    std::vector<db::EventRow> events;
    // Per rank and iteration: experts (compute lane) then AlltoAll (intra lane).
    for (int rank = 0; rank < 3; ++rank)
      for (int it = 0; it < kIterations; ++it)
        for (int k = 0; k < 2; ++k) {
          db::EventRow e;
          e.rank = rank;
          e.lane = k;
          e.schedule = schedule;
          e.iteration = it;
          e.op = project.intern(k == 0 ? "experts" : "AlltoAll");
          e.group = k == 0 ? none : project.intern("EP");
          e.purpose = project.intern(k == 0 ? "experts" : "dispatch");
          e.seq = k == 0 ? -1 : it;
          e.comm = k == 0 ? -1 : 0;
          e.bytes = k == 0 ? 0 : 1 << 20;
          e.start_ns = it * kIterationNs + (k == 0 ? 10'000 : 350'000);
          e.end_ns = e.start_ns + (k == 0 ? 300'000 : 200'000);
          events.push_back(e);
        }
    const std::int64_t first = project.add_events(run_, events);
    QVERIFY(first > 0);

    db::GpuActivityRows gpu;
    for (int rank = 0; rank < 2; ++rank) {
      db::GpuCaptureRow c;
      c.rank = rank;
      c.dropped_records = rank == 1 ? 5 : 0;
      c.overhead_ns = 12'000;
      c.process_id = 4000 + rank;
      c.process_name = "parm worker (rank " + std::to_string(rank) + ")";
      gpu.captures.push_back(c);
      db::GpuDeviceRow d;
      d.rank = rank;
      d.id = 0;
      d.name = "NVIDIA H200";
      gpu.devices.push_back(d);
    }
    db::GpuCaptureRow off;
    off.rank = 2;
    off.status = kUnavailable;
    gpu.captures.push_back(off);
    for (std::size_t i = 0; i < events.size(); ++i) {
      const db::EventRow& e = events[i];
      if (e.rank == 2) continue;  // nothing captured there
      const std::int64_t id = first + static_cast<std::int64_t>(i);
      if (e.lane == 0) {  // two GEMMs per experts op on stream 7
        for (int g = 0; g < 2; ++g) {
          db::GpuKernelRow k;
          k.rank = e.rank;
          k.start_ns = e.start_ns + 10'000 + g * 140'000;
          k.end_ns = k.start_ns + 120'000;
          k.stream_id = 7;
          k.correlation_id = 100 + static_cast<std::int64_t>(i) * 4 + g;
          k.event = id;
          k.demangled_name = kGemm;
          k.short_name = "gemm_kernel";
          k.grid_x = 64, k.grid_y = 2, k.grid_z = 1, k.block_x = 256, k.block_y = 1, k.block_z = 1;
          k.static_shared_bytes = 1024, k.dynamic_shared_bytes = 49152, k.registers_per_thread = 96;
          gpu.kernels.push_back(k);
          count(e.rank, 7, e.iteration);
        }
      } else {  // the AlltoAll's copy and NCCL kernel on the rank's comm stream
        db::GpuMemcpyRow m;
        m.rank = e.rank;
        m.start_ns = e.start_ns + 10'000;
        m.end_ns = m.start_ns + 40'000;
        m.stream_id = commStream(e.rank);
        m.event = id;
        m.bytes = 1 << 20;
        m.copy_kind = 8;  // DtoD
        gpu.memcpys.push_back(m);
        count(e.rank, m.stream_id, e.iteration);
        db::GpuKernelRow k;
        k.rank = e.rank;
        k.start_ns = e.start_ns + 60'000;
        k.end_ns = k.start_ns + 130'000;
        k.stream_id = commStream(e.rank);
        k.event = id;
        k.demangled_name = "ncclDevKernel_SendRecv(ncclDevKernelArgsStorage<4096ul>)";
        k.short_name = "ncclDevKernel_SendRecv";
        k.grid_x = 4, k.grid_y = 1, k.grid_z = 1, k.block_x = 640, k.block_y = 1, k.block_z = 1;
        gpu.kernels.push_back(k);
        count(e.rank, k.stream_id, e.iteration);
      }
    }
    db::GpuMemsetRow zero;  // launched outside any op, inside iteration 0 of rank 0
    zero.rank = 0;
    zero.start_ns = 320'000;  // between experts and AlltoAll
    zero.end_ns = 324'000;
    zero.stream_id = 7;
    zero.bytes = 4096;
    gpu.memsets.push_back(zero);
    count(0, 7, 0);
    std::sort(gpu.kernels.begin(), gpu.kernels.end(), [](const auto& a, const auto& b) {
      return std::tie(a.rank, a.start_ns) < std::tie(b.rank, b.start_ns);
    });
    db::add_gpu_activity(project, run_, gpu);
    project.finish_run(run_);

    w_ = std::make_unique<TimelineWidget>();
    w_->resize(1400, 760);
    w_->show();
    QString error;
    QVERIFY2(w_->openRun(path_, run_, &error), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(!w_->isLoading(), 30000);
    QVERIFY(w_->timelineData());
  }

  void gpuRowsHaveNamesAndCounts() {
    int stored = 0;
    for (const auto& [key, n] : storedAll_) stored += n;
    QCOMPARE(static_cast<int>(data().gpuItems().size()), stored);
    for (const auto& [key, n] : storedFirst_) {
      const int row = gpuRow(key.first, key.second);
      QVERIFY2(row >= 0, qPrintable(QStringLiteral("rank %1 stream %2").arg(key.first).arg(key.second)));
      const TimelineRow& r = data().rows()[static_cast<std::size_t>(row)];
      QCOMPARE(data().laneName(r.rank, r.lane), QStringLiteral("GPU 0 \u00b7 stream %1").arg(key.second));
      QCOMPARE(static_cast<int>(r.event.size()), n);
    }
    int gpuRows = 0;
    for (const TimelineRow& r : data().rows()) {
      if (!r.gpu()) continue;
      ++gpuRows;
      QVERIFY(r.rank != 2);  // no capture, no rows
    }
    QCOMPARE(gpuRows, 4);
    // Each GPU row sits right after its rank's host lanes.
    const int row = gpuRow(0, 7);
    QVERIFY(!data().rows()[static_cast<std::size_t>(row - 1)].gpu() ||
            data().rows()[static_cast<std::size_t>(row - 1)].rank == 0);
    QCOMPARE(data().rows()[static_cast<std::size_t>(row - 1)].rank, 0);

    w_->setMode(TimelineMode::WholeRun);
    for (const auto& [key, n] : storedAll_)
      QCOMPARE(static_cast<int>(
                   data().rows()[static_cast<std::size_t>(gpuRow(key.first, key.second))].event.size()),
               n);
    w_->setMode(TimelineMode::Aligned);
  }

  void kernelsKnowTheirOp() {
    std::size_t withOp = 0;
    for (const TimelineGpuItem& g : data().gpuItems()) {
      if (g.op < 0) {
        QCOMPARE(g.kind, GpuKind::Memset);
        QCOMPARE(g.iteration, 0);  // placed by time
        continue;
      }
      ++withOp;
      const TimelineEvent& e = data().measured()[static_cast<std::size_t>(g.op)];
      QCOMPARE(e.rank, g.rank);
      QCOMPARE(g.iteration, e.iteration);
      QVERIFY(g.start_ns >= e.start_ns && g.end_ns <= e.end_ns);  // the records were built inside their op
      const QString op = data().strings()[e.op];
      QCOMPARE(op, g.kind == GpuKind::Kernel && data().strings()[g.label] == "gemm_kernel"
                       ? QString("experts")
                       : QString("AlltoAll"));
      const auto of = data().gpuItemsOf(g.op);
      QCOMPARE(of.size(), std::size_t(2));
    }
    QCOMPARE(withOp, data().gpuItems().size() - 1);
  }

  void hoverNamesTheKernelAndItsOp() {
    QApplication::processEvents();
    const int row = gpuRow(0, 7);
    const std::size_t gemm = entryOf(row, GpuKind::Kernel, "gemm_kernel");
    const QPoint at = centreOf(row, gemm);
    QVERIFY(!at.isNull());
    const QString text = w_->view()->hoverText(at);
    QVERIFY2(text.contains("kernel void parm::kernels::gemm_kernel<float, 128>"), qPrintable(text));
    QVERIFY2(text.contains("grid (64, 2, 1), block (256, 1, 1)"), qPrintable(text));
    QVERIFY2(text.contains("1024 B (1.0 KiB) static + 49152 B (48.0 KiB) dynamic, 96 registers per thread"),
             qPrintable(text));
    QVERIFY2(text.contains("duration 120.0 us"), qPrintable(text));
    QVERIFY2(text.contains("GPU 0 \u00b7 stream 7"), qPrintable(text));
    QVERIFY2(text.contains("launched by experts (schedule S1, iteration 0, forward)"), qPrintable(text));

    const int comm = gpuRow(1, 14);
    const QString copy = w_->view()->hoverText(centreOf(comm, entryOf(comm, GpuKind::Memcpy)));
    QVERIFY2(copy.contains("memcpy DtoD, 1048576 B (1.00 MiB)"), qPrintable(copy));
    QVERIFY2(copy.contains("launched by AlltoAll"), qPrintable(copy));
    const QString set = w_->view()->hoverText(centreOf(row, entryOf(row, GpuKind::Memset)));
    QVERIFY2(set.contains("memset 4096 B") && set.contains("launched outside any traced op"),
             qPrintable(set));
  }

  // Hovering a kernel outlines its op and its sibling; hovering the op outlines the same set.
  void hoverTiesOpAndKernels() {
    QApplication::processEvents();
    const int row = gpuRow(0, 7);
    const std::size_t gemm = entryOf(row, GpuKind::Kernel, "gemm_kernel");
    w_->view()->setHoverPoint(centreOf(row, gemm));
    const std::vector<QRectF> fromKernel = w_->view()->highlightRects();
    QCOMPARE(fromKernel.size(), std::size_t(3));  // the experts op and its two GEMMs
    const TimelineGpuItem& g =
        data().gpuItems()[static_cast<std::size_t>(data().rows()[static_cast<std::size_t>(row)].event[gemm])];
    const TimelineEvent& op = data().measured()[static_cast<std::size_t>(g.op)];
    const QRectF opRect = fromKernel.front();
    QVERIFY(opRect.top() < fromKernel[1].top());  // the op's lane is above its GPU row
    w_->view()->setHoverPoint(opRect.center().toPoint());
    QCOMPARE(w_->view()->highlightRects().size(), std::size_t(3));
    QVERIFY(op.row >= 0);
    w_->view()->setHoverPoint(QPoint(1, 1));  // the axis: nothing
    QVERIFY(w_->view()->highlightRects().empty());
  }

  void rankLabelSaysCaptureStatus() {
    TimelineRowModel* m = w_->rowModel();
    const QModelIndex off = findLabel(*m, "rank 2");
    QVERIFY(off.isValid());
    QCOMPARE(m->data(off).toString(), QString("rank 2 (CUPTI unavailable)"));
    QVERIFY2(m->data(off, Qt::ToolTipRole).toString().contains(kUnavailable),
             qPrintable(m->data(off, Qt::ToolTipRole).toString()));
    const QModelIndex dropped = findLabel(*m, "rank 1");
    QCOMPARE(m->data(dropped).toString(), QString("rank 1 (5 dropped)"));
    QVERIFY(m->data(dropped, Qt::ToolTipRole).toString().contains("CUPTI dropped 5 records"));
    const QModelIndex fine = findLabel(*m, "rank 0");
    QCOMPARE(m->data(fine).toString(), QString("rank 0"));
    QVERIFY(m->data(fine, Qt::ToolTipRole).toString().contains("CUPTI overhead 12.0 us"));
    // GPU leaves are listed under their rank, after its lanes.
    QCOMPARE(m->rowCount(fine), 4);
    QCOMPARE(m->data(m->index(2, 0, fine)).toString(), QStringLiteral("GPU 0 \u00b7 stream 7"));
    QCOMPARE(m->data(m->index(3, 0, fine)).toString(), QStringLiteral("GPU 0 \u00b7 stream 13"));
  }

  void rowModelPassesTheTester() {
    TimelineRowModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.rebuild(w_->timelineData(), false);
    QVERIFY(model.rowCount() > 0);
    model.rebuild(w_->timelineData(), true);  // side by side: GPU leaves per rank too
    QVERIFY(findLabel(model, QStringLiteral("GPU 0 \u00b7 stream 14")).isValid());
    model.rebuild(nullptr, false);
    QCOMPARE(model.rowCount(), 0);
  }

  // Collapsing a rank merges its GPU rows into the rank's one row: GPU bars still drawn there.
  void collapsedRankKeepsGpuBars() {
    TimelineRowModel* m = w_->rowModel();
    const QModelIndex rank0 = findLabel(*m, "rank 0");
    w_->tree()->collapse(rank0);
    QApplication::processEvents();
    const int row = gpuRow(0, 7);
    QVERIFY(!w_->view()->eventRect(row, 0).isEmpty());
    w_->tree()->expand(rank0);
    QApplication::processEvents();
  }

  void screenshotShowsGpuBars() {
    QApplication::processEvents();
    const QString png = QStringLiteral(PARM_BINARY_DIR "/timeline-gpu.png");
    const int row = gpuRow(0, 7);  // hovered: the op and its kernels outlined, as a user sees it
    w_->view()->setHoverPoint(centreOf(row, entryOf(row, GpuKind::Kernel, "gemm_kernel")));
    QVERIFY(w_->grab().save(png));
    const QImage view = w_->view()->grab().toImage();
    int kernelPixels = 0, outside = 0;
    for (std::size_t i = 0; i < data().rows().size(); ++i) {
      const TimelineRow& r = data().rows()[i];
      if (r.event.empty()) continue;
      const QRectF band = w_->view()->eventRect(static_cast<int>(i), 0);
      for (int y = static_cast<int>(band.top()) + 1; y < static_cast<int>(band.bottom()); ++y)
        for (int x = 0; x < view.width(); ++x)
          if (view.pixelColor(x, y) == kKernelColour) (r.gpu() ? kernelPixels : outside) += 1;
    }
    QVERIFY2(kernelPixels > 200, qPrintable(QString::number(kernelPixels)));
    QCOMPARE(outside, 0);  // host rows never use the kernel colour
    qInfo("screenshot: %s (%d kernel pixels)", qPrintable(png), kernelPixels);
  }

  // Side by side and the whole run: GPU rows still drawn (and looked at: the PNG beside the first).
  void otherLayoutsDrawGpuBars() {
    w_->setSideBySide(true);
    w_->setMode(TimelineMode::WholeRun);
    QApplication::processEvents();
    QVERIFY(w_->grab().save(QStringLiteral(PARM_BINARY_DIR "/timeline-gpu-whole-run.png")));
    const QImage view = w_->view()->grab().toImage();
    int kernelPixels = 0;
    for (int y = 0; y < view.height(); ++y)
      for (int x = 0; x < view.width(); ++x) kernelPixels += view.pixelColor(x, y) == kKernelColour;
    QVERIFY2(kernelPixels > 100, qPrintable(QString::number(kernelPixels)));
    w_->setSideBySide(false);
    w_->setMode(TimelineMode::Aligned);
  }
};

QTEST_MAIN(TestAppTimelineGpu)
#include "test_app_timeline_gpu.moc"
