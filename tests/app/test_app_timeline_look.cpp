// How the timeline looks and exports, on a project written through the writer (no `parm run`): 2 ranks, B_DS
// and S1 with different op counts, 3 iterations, predictions for B_DS. The first view is fitted even when the
// run loads into a hidden widget; counts fit their column and are per schedule side by side; the exported
// image has a title, a legend and only the rows shown; the legend lists the classes present; the whole-run
// overview moves the view; collapse/expand all survive rebuilds; a dark palette paints a dark timeline.
#include <QAbstractItemModelTester>
#include <QFile>
#include <QHeaderView>
#include <QImage>
#include <QScrollBar>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>
#include <functional>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_image_export.h"
#include "app/timeline/timeline_legend.h"
#include "app/timeline/timeline_overview.h"
#include "app/timeline/timeline_palette.h"
#include "app/timeline/timeline_row_model.h"
#include "app/timeline/timeline_tree_state.h"
#include "app/timeline/timeline_view.h"
#include "app/timeline/timeline_widget.h"
#include "db/database.h"

using namespace parm::app;
namespace db = parm::db;

namespace {

constexpr int kRanks = 2, kIterations = 3;
constexpr std::int64_t kIterationNs = 1'000'000;

// Ops of one rank's iteration per schedule: (op, lane, group, start, end) in ns from the iteration start.
struct Op {
  const char* name;
  int lane;
  const char* group;
  std::int64_t start, end;
};
const std::vector<Op> kBds{{"experts", 0, "-", 0, 200'000},
                           {"AlltoAll", 2, "EP", 200'000, 300'000},
                           {"experts", 0, "-", 300'000, 500'000},
                           {"AllGather", 1, "MP", 500'000, 560'000},
                           {"AlltoAll", 2, "EP", 560'000, 640'000}};
const std::vector<Op> kS1{{"experts", 0, "-", 0, 150'000}, {"SAA:AlltoAll", 2, "EP", 150'000, 400'000}};

int lightness(QRgb c) {
  return QColor(c).lightness();
}

// Pixels of `image` in `rows` whose colour differs from `background` by more than a little.
int inkPixels(const QImage& image, int y0, int y1, QRgb background) {
  int n = 0;
  for (int y = std::max(0, y0); y < std::min(image.height(), y1); ++y)
    for (int x = 0; x < image.width(); ++x) {
      const QRgb c = image.pixel(x, y);
      if (std::abs(qRed(c) - qRed(background)) + std::abs(qGreen(c) - qGreen(background)) +
              std::abs(qBlue(c) - qBlue(background)) >
          60)
        ++n;
    }
  return n;
}

int pixelsOf(const QImage& image, int y0, int y1, const QColor& colour) {
  int n = 0;
  for (int y = std::max(0, y0); y < std::min(image.height(), y1); ++y)
    for (int x = 0; x < image.width(); ++x)
      if (QColor(image.pixel(x, y)).rgb() == colour.rgb()) ++n;
  return n;
}

QPalette darkPalette() {
  QPalette p;
  p.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
  p.setColor(QPalette::WindowText, QColor(0xe8, 0xe8, 0xe8));
  p.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
  p.setColor(QPalette::AlternateBase, QColor(0x26, 0x26, 0x26));
  p.setColor(QPalette::Text, QColor(0xee, 0xee, 0xee));
  p.setColor(QPalette::Button, QColor(0x35, 0x35, 0x35));
  p.setColor(QPalette::ButtonText, QColor(0xee, 0xee, 0xee));
  p.setColor(QPalette::Highlight, QColor(0x3d, 0x8e, 0xe6));
  p.setColor(QPalette::Mid, QColor(0x50, 0x50, 0x50));
  return p;
}

}  // namespace

class TestAppTimelineLook : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString path_;
  std::int64_t run_ = 0;
  std::unique_ptr<TimelineWidget> w_;

  void open(TimelineWidget& w) {
    QString error;
    QVERIFY2(w.openRun(path_, run_, &error), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 20000);
    QVERIFY(w.timelineData());
  }

  // Every index the tree shows (expanded parents' children), depth first.
  std::vector<QModelIndex> shownIndexes(const QTreeView& tree) const {
    std::vector<QModelIndex> out;
    std::function<void(const QModelIndex&)> walk = [&](const QModelIndex& parent) {
      for (int r = 0; r < tree.model()->rowCount(parent); ++r) {
        const QModelIndex i = tree.model()->index(r, 0, parent);
        out.push_back(i);
        if (tree.isExpanded(i)) walk(i);
      }
    };
    walk({});
    return out;
  }
  QModelIndex childLabelled(const QModelIndex& parent, const QString& label) const {
    const QAbstractItemModel* m = w_->rowModel();
    for (int r = 0; r < m->rowCount(parent); ++r)
      if (m->index(r, 0, parent).data().toString() == label) return m->index(r, 0, parent);
    return {};
  }
  int rankNodesCollapsed(bool* allCollapsed) const {
    int n = 0;
    *allCollapsed = true;
    for (const QModelIndex& i : shownIndexes(*w_->tree()))
      if (TimelineTreeState::isRankNode(*w_->rowModel(), i)) {
        ++n;
        if (w_->tree()->isExpanded(i)) *allCollapsed = false;
      }
    return n;
  }
  QImage exportPng(const QString& name) {
    QString error;
    const QString png = dir_.filePath(name);
    if (!w_->exportImage(png, &error)) qWarning("%s", qPrintable(error));
    if (const QString keep = qEnvironmentVariable("PARM_TIMELINE_KEEP"); !keep.isEmpty()) {
      QFile::remove(keep + "/" + name);
      QFile::copy(png, keep + "/" + name);
    }
    return QImage(png);
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    path_ = dir_.filePath("look.sqlite");
    auto project = db::Database::open(path_.toStdString(), true);
    db::RunInfo info;
    info.name = "look";
    info.kind = "measured";
    info.backend = "cpu";
    info.ranks = kRanks;
    run_ = project.begin_run(info);
    std::vector<db::EventRow> events, predictions;
    std::int64_t at = 0;
    for (const auto& [schedule, ops] : {std::pair{"B_DS", &kBds}, std::pair{"S1", &kS1}})
      for (int it = 0; it < kIterations; ++it, at += kIterationNs + it * 50'000)
        for (int rank = 0; rank < kRanks; ++rank)
          for (std::size_t k = 0; k < ops->size(); ++k) {
            const Op& op = (*ops)[k];
            db::EventRow e;
            e.rank = rank;
            e.lane = op.lane;
            e.schedule = project.intern(schedule);
            e.iteration = it;
            e.op = project.intern(op.name);
            e.group = project.intern(op.group);
            e.purpose = project.intern(op.lane == 0 ? "experts" : "dispatch");
            e.comm = op.lane == 0 ? -1 : 0;
            e.seq = op.lane == 0 ? -1 : static_cast<std::int64_t>(k);
            e.start_ns = at + op.start + rank * 1000;
            e.end_ns = at + op.end + rank * 1000;
            events.push_back(e);
            if (std::string_view(schedule) == "B_DS" && it == 0 && rank == 0) {
              db::EventRow p = e;
              p.start_ns = op.start;
              p.end_ns = op.end * 9 / 10;
              predictions.push_back(p);
            }
          }
    project.add_events(run_, events);
    project.add_predictions(run_, predictions);
    project.finish_run(run_);

    w_ = std::make_unique<TimelineWidget>();
    new QAbstractItemModelTester(w_->rowModel(), QAbstractItemModelTester::FailureReportingMode::QtTest,
                                 w_.get());
  }

  // Broken 7: the run loads while the widget is hidden (the Timeline tab is not the current one) at another
  // size; once shown and laid out, the view is fitted to the whole build.
  void firstViewIsFittedOnceShown() {
    w_->resize(500, 300);
    open(*w_);  // never shown yet
    w_->resize(1400, 900);
    w_->show();
    QVERIFY(QTest::qWaitForWindowExposed(w_.get()));
    const TimelineView* v = w_->view();
    const TimelineData* d = w_->timelineData();
    QVERIFY(v->isFitted());
    QVERIFY(v->visibleStart() <= static_cast<double>(d->displayStart()));
    QVERIFY(v->visibleEnd() >= static_cast<double>(d->displayEnd()));
    QVERIFY(v->visibleEnd() - v->visibleStart() <
            1.1 * static_cast<double>(d->displayEnd() - d->displayStart()));
    // Once the user zooms, a resize keeps the scale instead of refitting.
    w_->view()->zoomAt(300, 2.0);
    QVERIFY(!v->isFitted());
    const double span = v->visibleEnd() - v->visibleStart();
    w_->resize(1300, 900);
    QTest::qWait(20);
    QVERIFY(v->visibleEnd() - v->visibleStart() < span);
    w_->fitToView();
    QVERIFY(v->isFitted());
  }

  // Broken 7: no event count is cut off, stacked or side by side (where they are longer).
  void countsFitTheirColumn() {
    for (bool side : {false, true}) {
      w_->setSideBySide(side);
      QTest::qWait(20);
      QTreeView* tree = w_->tree();
      const int viewport = tree->viewport()->width();
      int checked = 0;
      for (const QModelIndex& label : shownIndexes(*tree)) {
        const QModelIndex count = label.siblingAtColumn(TimelineRowModel::EventsColumn);
        const QRect r = tree->visualRect(count);
        if (!r.isValid() || r.top() > tree->viewport()->height()) continue;
        const int needed = tree->fontMetrics().horizontalAdvance(count.data().toString());
        QVERIFY2(r.right() < viewport, qPrintable(QStringLiteral("%1 ends at %2 of %3")
                                                      .arg(count.data().toString())
                                                      .arg(r.right())
                                                      .arg(viewport)));
        QVERIFY2(r.width() >= needed, qPrintable(count.data().toString()));
        ++checked;
      }
      QVERIFY(checked >= 6);
    }
    w_->setSideBySide(false);
  }

  // Broken 7: side by side, each schedule shows its own count (B_DS has 5 ops per rank and iteration, S1 2).
  void sideBySideCountsPerSchedule() {
    w_->setMode(TimelineMode::WholeRun);
    w_->setSideBySide(true);
    const QStringList titles = w_->rowModel()->columnTitles();
    QCOMPARE(titles, (QStringList{"B_DS", "S1"}));
    const QModelIndex rank0 = childLabelled({}, "rank 0");
    QVERIFY(rank0.isValid());
    const QVariantList counts = rank0.data(TimelineRowModel::EventsPerColumnRole).toList();
    QCOMPARE(counts.size(), 2);
    QCOMPARE(counts[0].toLongLong(), qint64(kBds.size() * kIterations));
    QCOMPARE(counts[1].toLongLong(), qint64(kS1.size() * kIterations));
    QCOMPARE(rank0.siblingAtColumn(TimelineRowModel::EventsColumn).data().toString(),
             QStringLiteral("%1 / %2").arg(kBds.size() * kIterations).arg(kS1.size() * kIterations));
    const QModelIndex inter = childLabelled(rank0, "inter");  // B_DS: 2 AlltoAlls, S1: 1 SAA pipeline
    QCOMPARE(inter.data(TimelineRowModel::EventsPerColumnRole).toList().value(0).toLongLong(),
             qint64(2 * kIterations));
    QCOMPARE(inter.data(TimelineRowModel::EventsPerColumnRole).toList().value(1).toLongLong(),
             qint64(kIterations));
    // Stacked: one column, the plain total.
    w_->setSideBySide(false);
    const QModelIndex bds = childLabelled({}, "B_DS");
    QCOMPARE(bds.siblingAtColumn(TimelineRowModel::EventsColumn).data().toLongLong(),
             qint64(kRanks * kBds.size() * kIterations + kBds.size()));  // + B_DS's predicted ops
    w_->setMode(TimelineMode::Aligned);
  }

  // Broken 7 + Build 4: the exported image opens with a title line and the legend, and ends with the rows
  // shown (its height follows them), in PNG and SVG.
  void exportHasTitleLegendAndOnlyTheRowsShown() {
    w_->expandAllRows();
    const QString title = w_->exportTitle();
    for (const QString& part : {QStringLiteral("look.sqlite"), QStringLiteral("run %1 (look)").arg(run_),
                                QStringLiteral("B_DS, S1"), QStringLiteral("measured vs predicted"),
                                QStringLiteral("median iteration"), QStringLiteral("visible ")})
      QVERIFY2(title.contains(part), qPrintable(title + " lacks " + part));

    const QImage full = exportPng("look-expanded.png");
    QVERIFY(!full.isNull());
    const QRgb background = w_->view()->palette().color(QPalette::Base).rgb();
    QVERIFY2(inkPixels(full, 0, 24, background) > 100, "the title line is missing");
    // The legend sits between the title and the timeline: compute (measured) and AlltoAll swatches.
    TimelineImage header;
    header.title = title;
    header.legend = legendEntries(*w_->timelineData());
    const int headerHeight = timelineImageHeaderHeight(header, full.width());
    QVERIFY(pixelsOf(full, 20, headerHeight, opClassColour(OpClass::Compute)) >= 100);
    QVERIFY(pixelsOf(full, 20, headerHeight, opClassColour(OpClass::AlltoAll)) >= 100);
    // Sized to the rows: header + axis + the tree's rows, far less than the 900 px tall widget.
    const int rows = shownRowsBottom(*w_->tree());
    QVERIFY(rows > 0);
    QCOMPARE(full.height(), headerHeight + TimelineView::kAxisHeight + rows);
    QVERIFY(full.height() < w_->height());
    QVERIFY2(inkPixels(full, full.height() - 30, full.height(), background) > 50, "blank bottom");

    w_->collapseAllRanks();
    QTest::qWait(20);
    const QImage collapsed = exportPng("look-collapsed.png");
    QVERIFY2(collapsed.height() < full.height() - 100,
             qPrintable(QStringLiteral("%1 vs %2").arg(collapsed.height()).arg(full.height())));
    w_->expandAllRows();

    const QString svg = dir_.filePath("look.svg");
    QString error;
    QVERIFY2(w_->exportImage(svg, &error), qPrintable(error));
    QVERIFY(QSvgRenderer(svg).isValid());
    QCOMPARE(QSvgRenderer(svg).viewBox().height(), full.height());  // defaultSize is in points
    QFile f(svg);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray text = f.readAll();
    QVERIFY(text.contains("look.sqlite"));
    QVERIFY(text.contains("AlltoAll"));  // a legend label
  }

  // Build 4: the legend lists the classes present (and predicted), nothing else, and is shown.
  void legendListsClassesPresent() {
    QStringList labels;
    for (const LegendEntry& e : w_->legend()->entries()) labels << e.label;
    QCOMPARE(labels, (QStringList{"compute", "AlltoAll", "AllGather", "SAA pipeline",
                                  "predicted (lighter, dashed)"}));
    QVERIFY(w_->legend()->isVisible());
    const QImage strip = w_->legend()->grab().toImage();
    QVERIFY(pixelsOf(strip, 0, strip.height(), opClassColour(OpClass::PipelineSaa)) >= 50);
  }

  // Build 4: the overview strip, whole run only: per schedule density, the window as a rectangle, a click
  // moves the view there.
  void overviewMovesTheView() {
    w_->setMode(TimelineMode::Aligned);
    QVERIFY(!w_->overview()->isVisible());
    w_->setMode(TimelineMode::WholeRun);
    QTest::qWait(20);
    TimelineOverview* o = w_->overview();
    QVERIFY(o->isVisible());
    const OverviewDensity& d = o->density();
    QCOMPARE(d.labels, (std::vector<QString>{"B_DS", "S1"}));
    // B_DS is busy in the first half of the run, S1 in the second.
    auto busyIn = [&](int section, double from, double to) {
      const auto& b = d.busy[static_cast<std::size_t>(section)];
      double sum = 0;
      for (std::size_t k = static_cast<std::size_t>(from * b.size());
           k < static_cast<std::size_t>(to * b.size()); ++k)
        sum += b[k];
      return sum;
    };
    QVERIFY(busyIn(0, 0, 0.4) > 10 && busyIn(0, 0.6, 1.0) == 0);
    QVERIFY(busyIn(1, 0.6, 1.0) > 10 && busyIn(1, 0, 0.4) == 0);
    for (const auto& lane : d.busy)
      for (float v : lane) QVERIFY(v >= 0 && v <= 1);

    TimelineView* v = w_->view();
    const double span = static_cast<double>(d.end - d.start) / 10;
    v->setVisibleRange(static_cast<double>(d.start), static_cast<double>(d.start) + span);
    const QRectF window = o->windowRect();
    QVERIFY(std::abs(window.width() - o->stripRect().width() / 10.0) < 3);
    const QPoint click(o->stripRect().left() + o->stripRect().width() * 3 / 4, o->height() / 2);
    QTest::mouseClick(o, Qt::LeftButton, {}, click);
    const double centre = (v->visibleStart() + v->visibleEnd()) / 2;
    QVERIFY2(std::abs(centre - o->timeAtX(click.x())) < span * 0.02, qPrintable(QString::number(centre)));
    QVERIFY(std::abs((v->visibleEnd() - v->visibleStart()) - span) < span * 0.01);
    QVERIFY(std::abs(o->windowRect().center().x() - click.x()) < 3);
    // Dragging the window moves the view with it.
    const double before = v->visibleStart();
    QTest::mousePress(o, Qt::LeftButton, {}, click);
    QTest::mouseMove(o, click - QPoint(o->stripRect().width() / 5, 0));
    QTest::mouseRelease(o, Qt::LeftButton, {}, click - QPoint(o->stripRect().width() / 5, 0));
    QVERIFY(v->visibleStart() < before - span);
    w_->setMode(TimelineMode::Aligned);
    QVERIFY(!w_->overview()->isVisible());
  }

  // Build 4: collapse all ranks / expand all, by call and by shortcut, kept across rebuilds.
  void collapseAndExpandAllSurviveRebuilds() {
    bool all = false;
    w_->collapseAllRanks();
    QCOMPARE(rankNodesCollapsed(&all), 2 * kRanks + 1);  // B_DS: 2 ranks + predicted, S1: 2 ranks
    QVERIFY(all);
    w_->setMode(TimelineMode::WholeRun);
    QVERIFY(rankNodesCollapsed(&all) > 0 && all);
    w_->setSideBySide(true);  // other paths, still "all ranks collapsed"
    QVERIFY(rankNodesCollapsed(&all) == kRanks + 1 && all);
    w_->setSideBySide(false);
    QVERIFY(all);
    w_->setMode(TimelineMode::Aligned);
    // The shortcuts work while the focus is anywhere in the timeline.
    w_->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(w_.get()));
    w_->tree()->setFocus();
    QTest::keyClick(w_->tree(), Qt::Key_BracketRight, Qt::ControlModifier);
    rankNodesCollapsed(&all);
    QVERIFY(!all);
    for (const QModelIndex& i : shownIndexes(*w_->tree()))
      if (w_->rowModel()->rowCount(i) > 0) QVERIFY(w_->tree()->isExpanded(i));
    QTest::keyClick(w_->tree(), Qt::Key_BracketLeft, Qt::ControlModifier);
    QVERIFY(rankNodesCollapsed(&all) > 0 && all);
    w_->expandAllRows();
    // One node collapsed by hand stays collapsed through a rebuild, the others stay expanded.
    const QModelIndex s1 = childLabelled({}, "S1");
    w_->tree()->collapse(s1);
    w_->setIterationChoice(kIterationSlowest);
    QVERIFY(!w_->tree()->isExpanded(childLabelled({}, "S1")));
    QVERIFY(w_->tree()->isExpanded(childLabelled({}, "B_DS")));
    w_->expandAllRows();
    w_->setIterationChoice(kIterationMedian);
    QVERIFY(w_->tree()->isExpanded(childLabelled({}, "S1")));
  }

  // Build 4: dark palette. The canvas background is dark, its axis labels and the tree's labels light; bar
  // labels are black or white by the bar's luminance; an export keeps the dark background.
  void darkPaletteReads() {
    QCOMPARE(textColourOn(QColor(0xff, 0xd8, 0x40)), QColor(Qt::black));
    QCOMPARE(textColourOn(QColor(0x20, 0x30, 0x80)), QColor(Qt::white));
    QCOMPARE(textColourOn(opClassColour(OpClass::Compute)), QColor(Qt::black));

    TimelineWidget dark;
    dark.setPalette(darkPalette());
    dark.resize(1200, 700);
    dark.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dark));
    open(dark);
    const QImage canvas = dark.view()->grab().toImage();
    const QRgb empty = canvas.pixel(canvas.width() - 5, canvas.height() - 5);  // below the last row
    QVERIFY2(lightness(empty) < 60, qPrintable(QColor(empty).name()));
    int lightAxis = 0;
    for (int y = TimelineView::kAxisHeight / 2; y < TimelineView::kAxisHeight - 2; ++y)
      for (int x = 0; x < canvas.width(); ++x) lightAxis += lightness(canvas.pixel(x, y)) > 170;
    QVERIFY2(lightAxis > 30, "axis labels are not light");
    const QImage tree = dark.tree()->grab().toImage();
    QVERIFY(lightness(tree.pixel(tree.width() - 3, tree.height() - 3)) < 60);
    int lightText = 0;
    for (int y = 0; y < 60; ++y)
      for (int x = 0; x < tree.width(); ++x) lightText += lightness(tree.pixel(x, y)) > 170;
    QVERIFY2(lightText > 30, "tree labels are not light");
    QString error;
    const QString png = dir_.filePath("dark.png");
    QVERIFY2(dark.exportImage(png, &error), qPrintable(error));
    const QImage image(png);
    QVERIFY(lightness(image.pixel(2, 2)) < 60);
    int lightTitle = 0;
    for (int y = 0; y < 24; ++y)
      for (int x = 0; x < image.width(); ++x) lightTitle += lightness(image.pixel(x, y)) > 170;
    QVERIFY2(lightTitle > 50, "the title is not light on dark");
    if (const QString keep = qEnvironmentVariable("PARM_TIMELINE_KEEP"); !keep.isEmpty()) {
      QFile::remove(keep + "/look-dark.png");
      QFile::copy(png, keep + "/look-dark.png");
    }
  }

  // A run without events, in every mode and layout: no crash, an empty overview and legend, a one-line
  // export error or an image.
  void emptyRunPaintsAndExports() {
    const QString path = dir_.filePath("empty.sqlite");
    std::int64_t run = 0;
    {
      auto project = db::Database::open(path.toStdString(), true);
      db::RunInfo info;
      info.name = "empty";
      info.kind = "measured";
      info.backend = "cpu";
      info.ranks = 2;
      run = project.begin_run(info);
      project.finish_run(run);
    }
    TimelineWidget w;
    w.resize(900, 500);
    w.show();
    w.setMode(TimelineMode::WholeRun);
    QString error;
    QVERIFY2(w.openRun(path, run, &error), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 10000);
    QVERIFY(w.overview()->density().busy.empty());
    QVERIFY(w.legend()->entries().empty());
    QVERIFY(!w.legend()->isVisible());
    for (bool side : {true, false}) {
      w.setSideBySide(side);
      w.collapseAllRanks();
      QVERIFY(!w.grab().isNull());
    }
    const QString png = dir_.filePath("empty.png");
    if (!w.exportImage(png, &error))
      QVERIFY2(!error.contains('\n') && error.contains("empty.png"), qPrintable(error));
    else
      QVERIFY(!QImage(png).isNull());
  }

  void cleanupTestCase() { w_.reset(); }
};

QTEST_MAIN(TestAppTimelineLook)
#include "test_app_timeline_look.moc"
