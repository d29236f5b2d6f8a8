// The timeline's selection and inspection against a real 4-rank run of B_DS, B_DS2 and S1 (`parm run --db`)
// with a stored prediction: a drawn range means one run-origin range per schedule, the statistics table's
// numbers equal SQL over the events, click-to-select and its details (wait/transfer from the members'
// starts), copying, search with next/previous, selectOps, and flow arrows of the selected collective only.
#include <sqlite3.h>

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QFile>
#include <QItemSelectionModel>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>
#include <map>
#include <set>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_details.h"
#include "app/timeline/timeline_format.h"
#include "app/timeline/timeline_inspector.h"
#include "app/timeline/timeline_row_model.h"
#include "app/timeline/timeline_search.h"
#include "app/timeline/timeline_stats_model.h"
#include "app/timeline/timeline_view.h"
#include "app/timeline/timeline_widget.h"
#include "db/database.h"
#include "engine/model/run_comparison.h"
#include "tests/app/timeline_run_fixture.h"

using namespace parm::app;

namespace {


// The first row of a query, as integers (0 for NULL).
QList<qint64> sqlRow(const QString& path, const QString& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.toUtf8().constData(), -1, &st, nullptr) != SQLITE_OK)
    qFatal("%s: %s", qPrintable(sql), sqlite3_errmsg(db));
  QList<qint64> out;
  if (sqlite3_step(st) == SQLITE_ROW)
    for (int c = 0; c < sqlite3_column_count(st); ++c) out << sqlite3_column_int64(st, c);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

QString str(const QString& value) {
  return QStringLiteral("(SELECT id FROM StringIds WHERE value = '%1')").arg(value);
}

}  // namespace

class TestAppTimelineSelection : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString db_;
  qint64 measured_ = -1, prediction_ = -1;
  std::unique_ptr<TimelineWidget> w_;

  const TimelineData& data() const { return *w_->timelineData(); }
  int sectionOf(const QString& schedule) const {
    for (std::size_t i = 0; i < data().sections().size(); ++i)
      if (data().sections()[i].schedule == schedule) return static_cast<int>(i);
    return -1;
  }
  int laneIndex(const QString& name) const {
    for (int lane = 0; lane < 8; ++lane)
      if (data().laneName(0, lane) == name) return lane;
    return -1;
  }
  // Rank 0's first event in (schedule, lane) of the build, zoomed so that it is wide on screen.
  std::pair<int, QRectF> showFirst(const QString& schedule, int lane) {
    const int row = data().findRow(sectionOf(schedule), 0, lane);
    if (row < 0) return {-1, {}};
    w_->tree()->scrollTo(w_->rowModel()->indexOfDataRow(row), QAbstractItemView::PositionAtCenter);
    const TimelineRow& r = data().rows()[static_cast<std::size_t>(row)];
    const double span = static_cast<double>(r.end[0] - r.start[0]);
    w_->view()->setVisibleRange(static_cast<double>(r.start[0]) - span, static_cast<double>(r.end[0]) + span);
    return {row, w_->view()->eventRect(row, 0)};
  }
  // Draws a range with the mouse (shift-drag) at height y of the canvas.
  void drawRange(int x0, int x1, int y) {
    QTest::mousePress(w_->view(), Qt::LeftButton, Qt::ShiftModifier, QPoint(x0, y));
    QTest::mouseMove(w_->view(), QPoint((x0 + x1) / 2, y));
    QTest::mouseRelease(w_->view(), Qt::LeftButton, Qt::ShiftModifier, QPoint(x1, y));
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath("project.sqlite");
    const parm::test::TimelineRunIds ids =
        parm::test::writeTimelineRun(dir_.path(), db_, {"B_DS", "B_DS2", "S1"});
    measured_ = ids.measured;
    prediction_ = ids.prediction;
    QVERIFY(measured_ > 0 && prediction_ > 0);

    w_ = std::make_unique<TimelineWidget>();
    using Tester = QAbstractItemModelTester;
    new Tester(w_->inspector()->statsModel(), Tester::FailureReportingMode::QtTest, w_.get());
    new Tester(w_->inspector()->detailsModel(), Tester::FailureReportingMode::QtTest, w_.get());
    w_->resize(1500, 1100);
    w_->show();
    QString error;
    QVERIFY2(w_->openRun(db_, measured_, &error, prediction_), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(!w_->isLoading(), 30000);
    QCOMPARE(data().sections().size(), std::size_t(3));
  }

  // Broken 2: in one-iteration mode a range drawn over B_DS's rows is, for every schedule, that schedule's
  // own run-origin window; the per-op aggregation over it is non-empty for B_DS and B_DS2 alike, while the
  // old single range (B_DS's time base) holds nothing of B_DS2.
  void rangeMeansTheSameForEverySchedule() {
    w_->setMode(TimelineMode::Aligned);
    w_->fitToView();
    QSignalSpy perSchedule(w_.get(), &TimelineWidget::scheduleRangesSelected);
    QSignalSpy single(w_.get(), &TimelineWidget::rangeSelected);
    const auto [row, rect] = showFirst("B_DS", 0);
    QVERIFY(row >= 0);
    w_->fitToView();
    drawRange(250, 650, static_cast<int>(rect.center().y()));
    QCOMPARE(perSchedule.size(), 1);
    QCOMPARE(single.size(), 1);
    const auto ranges = perSchedule[0][0].value<parm::ScheduleRanges>();
    QCOMPARE(ranges.size(), std::size_t(3));
    const auto drawn = w_->view()->displaySelection();
    QVERIFY(drawn);
    const auto a = static_cast<std::int64_t>(std::llround(std::min(drawn->first, drawn->second)));
    for (const TimelineSection& s : data().sections()) {
      const parm::TimeRange& r = ranges.at(s.schedule.toStdString());
      QCOMPARE(r.start_ns, a + s.iterationStart[static_cast<std::size_t>(s.chosenIteration)]);
      QVERIFY(r.end_ns > r.start_ns);
    }
    const auto db = parm::db::Database::open(db_.toStdString(), false);
    const parm::MeasuredOps ops = parm::load_measured_ops(db, measured_);
    auto schedulesIn = [](const std::map<parm::OpKey, double>& agg) {
      std::set<std::string> out;
      for (const auto& [key, ms] : agg)
        if (ms > 0) out.insert(std::get<0>(key));
      return out;
    };
    const std::set<std::string> now = schedulesIn(parm::aggregate_measured_ops(ops, ranges));
    QVERIFY(now.count("B_DS") && now.count("B_DS2") && now.count("S1"));
    const parm::TimeRange old{single[0][0].toLongLong(), single[0][1].toLongLong()};
    QVERIFY(!schedulesIn(parm::aggregate_measured_ops(ops, old)).count("B_DS2"));  // the bug it replaces

    // Whole-run mode: one time base, every schedule gets the same range.
    w_->setMode(TimelineMode::WholeRun);
    drawRange(300, 900, static_cast<int>(rect.center().y()));
    QCOMPARE(perSchedule.size(), 2);
    const auto whole = perSchedule[1][0].value<parm::ScheduleRanges>();
    QCOMPARE(whole.size(), std::size_t(3));
    for (const auto& [schedule, r] : whole) {
      QCOMPARE(r.start_ns, whole.begin()->second.start_ns);
      QCOMPARE(r.end_ns, whole.begin()->second.end_ns);
    }
    w_->setMode(TimelineMode::Aligned);
  }

  // Area selection: the table's count, sum, min and max per (schedule, op, lane) equal SQL over the events
  // overlapping each schedule's range; the range's duration is written on the ruler.
  void selectionStatisticsEqualSql() {
    w_->fitToView();
    const auto [row, rect] = showFirst("B_DS2", 0);
    w_->fitToView();
    QSignalSpy perSchedule(w_.get(), &TimelineWidget::scheduleRangesSelected);
    drawRange(300, 700, static_cast<int>(rect.center().y()));
    QCOMPARE(perSchedule.size(), 1);
    const auto ranges = perSchedule[0][0].value<parm::ScheduleRanges>();
    TimelineStatsModel* m = w_->inspector()->statsModel();
    QCOMPARE(m->scope(), TimelineStatsModel::Scope::Selection);
    QCOMPARE(w_->inspector()->scopeBox()->currentText(), QStringLiteral("Selection"));
    QVERIFY2(m->rowCount() > 5, qPrintable(QStringLiteral("%1 rows, range %2 .. %3 ns, view %4 .. %5")
                                               .arg(m->rowCount())
                                               .arg(w_->view()->displaySelection()->first)
                                               .arg(w_->view()->displaySelection()->second)
                                               .arg(w_->view()->visibleStart())
                                               .arg(w_->view()->visibleEnd())));
    std::set<std::string> schedules;
    for (const TimelineStatsModel::Row& r : m->statsRows()) {
      const parm::TimeRange& range = ranges.at(r.schedule.toStdString());
      const QList<qint64> sql = sqlRow(
          db_, QStringLiteral("SELECT count(*), sum(end_ns - start_ns), min(end_ns - start_ns), "
                              "max(end_ns - start_ns) FROM events WHERE run = %1 AND schedule = %2 AND "
                              "op = %3 AND lane = %4 AND iteration >= 0 AND end_ns > %5 AND start_ns < %6")
                   .arg(measured_)
                   .arg(str(r.schedule), str(r.op))
                   .arg(laneIndex(r.lane))
                   .arg(range.start_ns)
                   .arg(range.end_ns));
      QCOMPARE(r.count, sql[0]);
      QCOMPARE(static_cast<qint64>(r.sumNs), sql[1]);
      QCOMPARE(static_cast<qint64>(r.minNs), sql[2]);
      QCOMPARE(static_cast<qint64>(r.maxNs), sql[3]);
      QVERIFY(r.sharePct >= 0 && r.sharePct <= 100.0 + 1e-9);
      schedules.insert(r.schedule.toStdString());
    }
    QCOMPARE(schedules, (std::set<std::string>{"B_DS", "B_DS2", "S1"}));
    // Sorted by sum, largest first (numbers sort as numbers).
    QAbstractItemModel* shown = w_->inspector()->statsTable()->model();
    QVERIFY(shown->rowCount() == m->rowCount());
    for (int i = 1; i < shown->rowCount(); ++i)
      QVERIFY(shown->index(i - 1, TimelineStatsModel::Sum).data(TimelineStatsModel::SortRole).toDouble() >=
              shown->index(i, TimelineStatsModel::Sum).data(TimelineStatsModel::SortRole).toDouble());
    // The ruler: a label box in the highlight colour over the range (pixels on the axis' top line).
    const auto drawn = *w_->view()->displaySelection();
    const QImage image = w_->view()->grab().toImage();
    const QColor highlight = w_->view()->palette().color(QPalette::Highlight);
    const int xa = static_cast<int>(w_->view()->xAt(drawn.first, 0));
    const int xb = static_cast<int>(w_->view()->xAt(drawn.second, 0));
    int filled = 0;
    for (int x = std::min(xa, xb); x <= std::max(xa, xb); ++x)
      filled += QColor(image.pixel(x, 2)) == highlight;
    QVERIFY2(filled > 20, qPrintable(QString::number(filled)));
    if (const QString keep = qEnvironmentVariable("PARM_TIMELINE_KEEP"); !keep.isEmpty())
      w_->grab().save(keep + "/selection_stats.png");

    // Esc: back to the whole-run summary, same model.
    QTest::keyClick(w_->view(), Qt::Key_Escape);
    QCOMPARE(m->scope(), TimelineStatsModel::Scope::WholeRun);
  }

  // Whole run: the per-schedule op summary; % of layer = mean time per rank and iteration over the median
  // iteration's length.
  void wholeRunSummaryEqualsSql() {
    TimelineStatsModel* m = w_->inspector()->statsModel();
    QCOMPARE(m->scope(), TimelineStatsModel::Scope::WholeRun);
    QCOMPARE(m->headerData(TimelineStatsModel::Share, Qt::Horizontal).toString(),
             QStringLiteral("% of layer"));
    const TimelineStatsModel::Row* r = m->find("S1", "AlltoAll", "inter");
    QVERIFY(r);
    const QList<qint64> sql = sqlRow(
        db_,
        QStringLiteral("SELECT count(*), sum(end_ns - start_ns) FROM events WHERE run = %1 AND schedule = %2 "
                       "AND op = %3 AND lane = 2 AND iteration >= 0")
            .arg(measured_)
            .arg(str("S1"), str("AlltoAll")));
    QCOMPARE(r->count, sql[0]);
    QCOMPARE(static_cast<qint64>(r->sumNs), sql[1]);
    const TimelineSection& s = data().sections()[static_cast<std::size_t>(sectionOf("S1"))];
    std::vector<std::int64_t> lengths;
    for (std::size_t i = 0; i < s.iterationStart.size(); ++i)
      lengths.push_back(s.iterationEnd[i] - s.iterationStart[i]);
    std::sort(lengths.begin(), lengths.end());
    QCOMPARE(lengths.size(), std::size_t(3));
    const double expected =
        100.0 * static_cast<double>(sql[1]) / (4.0 * 3.0) / static_cast<double>(lengths[1]);
    QVERIFY2(std::abs(r->sharePct - expected) < 1e-6, qPrintable(QString::number(r->sharePct)));
    QVERIFY(r->sharePct > 0 && r->sharePct < 100);
    // The toggle shows the selection again (empty without a range) and back.
    w_->inspector()->scopeBox()->setCurrentIndex(0);
    QCOMPARE(m->rowCount(), 0);
    w_->inspector()->scopeBox()->setCurrentIndex(1);
    QVERIFY(m->rowCount() > 10);
  }

  // Click-to-select: the details of S1's first EP AlltoAll on rank 0, its wait and transfer from the members'
  // starts in SQL, copying, the tooltip, the outline, Esc.
  void clickSelectsAndShowsDetails() {
    w_->setMode(TimelineMode::Aligned);
    const auto [row, rect] = showFirst("S1", 2);
    QVERIFY(row >= 0 && rect.isValid());
    const TimelineRow& r = data().rows()[static_cast<std::size_t>(row)];
    const std::int32_t index = r.event[0];
    const TimelineEvent& e = data().measured()[static_cast<std::size_t>(index)];
    QVERIFY(e.flow >= 0);
    QSignalSpy selected(w_.get(), &TimelineWidget::eventSelected);
    QTest::mouseClick(w_->view(), Qt::LeftButton, Qt::NoModifier, rect.center().toPoint());
    QCOMPARE(selected.size(), 1);
    QCOMPARE(w_->view()->selectedEvent(), (EventRef{false, index}));
    TimelineDetailsModel* d = w_->inspector()->detailsModel();
    QCOMPARE(d->value("op"), QStringLiteral("AlltoAll"));
    QCOMPARE(d->value("schedule"), QStringLiteral("S1"));
    QCOMPARE(d->value("rank"), QStringLiteral("0"));
    QCOMPARE(d->value("lane"), QStringLiteral("inter"));
    QCOMPARE(d->value("group"), QStringLiteral("EP"));
    QCOMPARE(d->value("iteration"), QString::number(e.iteration));
    QVERIFY(d->value("bytes").startsWith(QString::number(e.bytes) + " B"));
    QVERIFY(d->value("predicted").contains("AlltoAll(EP)"));
    const QString members =
        QStringLiteral(
            "FROM events WHERE run = %1 AND schedule = %2 AND iteration = %3 AND phase = %4 "
            "AND grp = %5 AND comm = %6 AND seq = %7")
            .arg(measured_)
            .arg(str("S1"))
            .arg(e.iteration)
            .arg(e.phase)
            .arg(str("EP"))
            .arg(e.comm)
            .arg(e.seq);
    const QList<qint64> last = sqlRow(db_, "SELECT max(start_ns), count(*) " + members);
    QVERIFY(last[1] >= 2);
    const parm::CollectiveSplit split = parm::split_collective(e.start_ns, e.end_ns, last[0]);
    QVERIFY2(d->value("wait").startsWith(formatDuration(static_cast<double>(split.wait_ns))),
             qPrintable(d->value("wait")));
    QCOMPARE(d->value("transfer"), formatDuration(static_cast<double>(split.transfer_ns)));
    QCOMPARE(d->value("member ranks").split(", ").size(), static_cast<int>(last[1]));
    // The tooltip says the same.
    const QString tip = w_->view()->hoverText(rect.center().toPoint());
    QVERIFY2(tip.contains("wait " + formatDuration(static_cast<double>(split.wait_ns))) &&
                 tip.contains("transfer " + formatDuration(static_cast<double>(split.transfer_ns))),
             qPrintable(tip));
    // Outlined in the highlight colour, just outside the bar (flow arrows off: one may cross the outline).
    w_->setFlowsVisible(false);
    const QImage image = w_->view()->grab().toImage();
    w_->setFlowsVisible(true);
    const QRectF bar = w_->view()->eventBar(w_->view()->selectedEvent());
    QCOMPARE(QColor(image.pixel(static_cast<int>(bar.left()) - 2, static_cast<int>(bar.center().y()))),
             w_->view()->palette().color(QPalette::Highlight));
    // Copy: the selected rows (op, rank) with the button's action, every row with Ctrl+C and no selection.
    QTableView* table = w_->inspector()->detailsTable();
    table->selectionModel()->select(d->index(0, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
    table->selectionModel()->select(d->index(2, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
    w_->inspector()->copyAction()->trigger();
    QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("op\tAlltoAll\nrank\t0"));
    table->clearSelection();
    QTest::keyClick(table, Qt::Key_C, Qt::ControlModifier);
    QCOMPARE(QApplication::clipboard()->text().split('\n').size(), d->rowCount());
    QVERIFY(QApplication::clipboard()->text().contains("transfer\t"));
    // A predicted event: its own details, no bytes.
    const int predictedRow = data().findRow(sectionOf("S1"), -1, 2);
    QVERIFY(predictedRow >= 0);
    w_->view()->selectEvent({true, data().rows()[static_cast<std::size_t>(predictedRow)].event[0]});
    QCOMPARE(d->value("rank"), QStringLiteral("predicted"));
    QVERIFY(d->value("bytes").isEmpty());
    // Esc clears; a click on empty space too.
    QTest::keyClick(w_->view(), Qt::Key_Escape);
    QVERIFY(!w_->view()->selectedEvent().valid());
    QCOMPARE(d->rowCount(), 0);
    QTest::mouseClick(w_->view(), Qt::LeftButton, Qt::NoModifier, rect.center().toPoint());
    QVERIFY(w_->view()->selectedEvent().valid());
    QTest::mouseClick(w_->view(), Qt::LeftButton, Qt::NoModifier, QPoint(5, 5));  // the ruler
    QVERIFY(!w_->view()->selectedEvent().valid());
  }

  // Search: matches equal SQL's (op, group or purpose containing the text in the shown iteration), Enter /
  // Shift+Enter / F3 step through them centring and selecting each, the label counts.
  void searchHighlightsAndJumps() {
    w_->setMode(TimelineMode::Aligned);
    TimelineSearchBar* search = w_->searchBar();
    search->setText("alltoall");
    qint64 expected = 0;
    for (const TimelineSection& s : data().sections())
      expected += sqlRow(
          db_, QStringLiteral("SELECT count(*) FROM events WHERE run = %1 AND schedule = %2 AND iteration = "
                              "%3 AND (op IN (SELECT id FROM StringIds WHERE value LIKE '%alltoall%') OR "
                              "grp IN (SELECT id FROM StringIds WHERE value LIKE '%alltoall%') OR purpose "
                              "IN (SELECT id FROM StringIds WHERE value LIKE '%alltoall%'))")
                   .arg(measured_)
                   .arg(str(s.schedule))
                   .arg(s.chosenIteration))[0];
    QVERIFY(expected > 10);
    QCOMPARE(search->matchCount(), static_cast<int>(expected));
    QCOMPARE(w_->view()->highlighted().size(), static_cast<std::size_t>(expected));
    QCOMPARE(search->countLabel()->text(), QStringLiteral("%1 matches").arg(expected));
    QTest::keyClick(search->edit(), Qt::Key_Return);
    QCOMPARE(search->countLabel()->text(), QStringLiteral("1 of %1").arg(expected));
    const EventRef first{false, search->matches().front()};
    QCOMPARE(w_->view()->selectedEvent(), first);
    const TimelineEvent& e = data().measured()[static_cast<std::size_t>(first.index)];
    const double centre = (w_->view()->visibleStart() + w_->view()->visibleEnd()) / 2;
    const double mid = static_cast<double>(data().displayStart(e) + data().displayEnd(e)) / 2;
    QVERIFY(std::abs(centre - mid) <= 0.01 * (w_->view()->visibleEnd() - w_->view()->visibleStart()));
    QVERIFY(w_->view()->eventBar(first).isValid());
    QTest::keyClick(search->edit(), Qt::Key_Return, Qt::ShiftModifier);
    QCOMPARE(search->countLabel()->text(), QStringLiteral("%1 of %1").arg(expected));
    QTest::keyClick(w_->view(), Qt::Key_F3);
    QCOMPARE(search->countLabel()->text(), QStringLiteral("1 of %1").arg(expected));
    QTest::keyClick(w_->view(), Qt::Key_F3);
    QCOMPARE(search->current(), 1);
    QCOMPARE(w_->view()->selectedEvent(), (EventRef{false, search->matches()[1]}));
    // Every match's op, group or purpose contains the text; dimmed elsewhere (the pixel of a compute bar
    // changes).
    for (std::int32_t i : search->matches()) {
      const TimelineEvent& m = data().measured()[static_cast<std::size_t>(i)];
      const QString all = data().strings()[m.op] + data().strings()[m.group] + data().strings()[m.purpose];
      QVERIFY(all.contains("alltoall", Qt::CaseInsensitive));
    }
    const auto [row, rect] = showFirst("B_DS", 0);
    const QImage dimmed = w_->view()->grab().toImage();
    if (const QString keep = qEnvironmentVariable("PARM_TIMELINE_KEEP"); !keep.isEmpty())
      w_->grab().save(keep + "/search.png");
    search->setText("no such op");
    QCOMPARE(search->countLabel()->text(), QStringLiteral("no match"));
    search->setText(QString());
    QVERIFY(w_->view()->highlighted().empty());
    const QImage plain = w_->view()->grab().toImage();
    const QPoint at = rect.center().toPoint();
    QVERIFY(dimmed.pixel(at) != plain.pixel(at));
  }

  // selectOps: the Compare page's bars select ops by a predicate; the view fits them.
  void selectOpsHighlightsAndFits() {
    w_->setMode(TimelineMode::Aligned);
    const QStringList& names = data().strings();
    const int n = w_->selectOps("S1", [&](const TimelineEvent& e) { return names[e.op] == "AlltoAll"; });
    const TimelineSection& s = data().sections()[static_cast<std::size_t>(sectionOf("S1"))];
    const qint64 sql =
        sqlRow(db_, QStringLiteral("SELECT count(*) FROM events WHERE run = %1 AND schedule = %2 AND "
                                   "iteration = %3 AND op = %4")
                        .arg(measured_)
                        .arg(str("S1"))
                        .arg(s.chosenIteration)
                        .arg(str("AlltoAll")))[0];
    QVERIFY(sql > 0);
    QCOMPARE(n, static_cast<int>(sql));
    QCOMPARE(w_->view()->highlighted().size(), static_cast<std::size_t>(n));
    for (std::int32_t i : w_->view()->highlighted()) {
      const TimelineEvent& e = data().measured()[static_cast<std::size_t>(i)];
      QCOMPARE(data().sections()[static_cast<std::size_t>(e.section)].schedule, QStringLiteral("S1"));
      QVERIFY(w_->view()->visibleStart() <= static_cast<double>(data().displayStart(e)));
      QVERIFY(w_->view()->visibleEnd() >= static_cast<double>(data().displayEnd(e)));
    }
    QCOMPARE(w_->selectOps("", [](const TimelineEvent&) { return false; }), 0);
    QVERIFY(w_->view()->highlighted().empty());
    QVERIFY(w_->selectOps("", {}) > 0);  // no predicate: every shown op
    QCOMPARE(w_->selectOps("no such schedule", {}), 0);
    w_->selectOps("B_DS2", [](const TimelineEvent& e) { return e.cls == OpClass::Compute; });
    w_->clearOpSelection();
    QVERIFY(w_->view()->highlighted().empty());
  }

  // Flow arrows: with "selected only", none without a selection, only the selected collective's with one.
  void flowArrowsOfTheSelectedCollectiveOnly() {
    w_->setMode(TimelineMode::Aligned);
    w_->setFlowsVisible(true);
    const auto [row, rect] = showFirst("S1", 2);
    w_->view()->grab();
    std::set<std::int32_t> all;
    for (const auto& a : w_->view()->lastFlows())
      all.insert(data().measured()[static_cast<std::size_t>(a.from)].flow);
    QVERIFY(all.size() >= 2);
    w_->flowsSelectedOnlyBox()->setChecked(true);
    QTest::keyClick(w_->view(), Qt::Key_Escape);
    w_->view()->grab();
    QVERIFY(w_->view()->lastFlows().empty());
    QTest::mouseClick(w_->view(), Qt::LeftButton, Qt::NoModifier, rect.center().toPoint());
    const std::int32_t flow =
        data().measured()[static_cast<std::size_t>(w_->view()->selectedEvent().index)].flow;
    QVERIFY(flow >= 0);
    w_->fitToView();  // zoomed out too far for all arrows: the selected one is still drawn
    w_->view()->grab();
    QVERIFY(!w_->view()->lastFlows().empty());
    for (const auto& a : w_->view()->lastFlows()) {
      QCOMPARE(data().measured()[static_cast<std::size_t>(a.from)].flow, flow);
      QCOMPARE(data().measured()[static_cast<std::size_t>(a.to)].flow, flow);
    }
    w_->flowsSelectedOnlyBox()->setChecked(false);
  }

  // A screenshot of the demo project (PARM_TIMELINE_DEMO_DB, PARM_TIMELINE_KEEP): a range drawn, an event
  // selected, the statistics and details under the canvas.
  void demoScreenshot() {
    const QString demo = qEnvironmentVariable("PARM_TIMELINE_DEMO_DB");
    const QString keep = qEnvironmentVariable("PARM_TIMELINE_KEEP");
    if (demo.isEmpty() || keep.isEmpty())
      QSKIP("set PARM_TIMELINE_DEMO_DB and PARM_TIMELINE_KEEP to write one");
    TimelineWidget w;
    w.resize(1500, 1000);
    w.show();
    const auto db = parm::db::Database::open(demo.toStdString(), false);
    qint64 run = -1;
    for (const auto& r : db.runs())
      if (r.kind == "measured") run = r.id;
    QVERIFY(run > 0);
    QString error;
    QVERIFY2(w.openRun(demo, run, &error), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 60000);
    QTest::qWait(50);
    const TimelineData& d = *w.timelineData();
    const int row = d.findRow(0, 0, 2);
    const QRectF first = row >= 0 ? w.view()->eventRect(row, 0) : QRectF(0, 100, 1, 1);
    const int y = static_cast<int>(first.center().y());
    QTest::mousePress(w.view(), Qt::LeftButton, Qt::ShiftModifier, QPoint(280, y));
    QTest::mouseMove(w.view(), QPoint(500, y));
    QTest::mouseRelease(w.view(), Qt::LeftButton, Qt::ShiftModifier, QPoint(620, y));
    if (row >= 0) w.view()->selectEvent({false, d.rows()[static_cast<std::size_t>(row)].event[0]});
    QTest::qWait(50);
    QVERIFY(w.grab().save(keep + "/demo_selection.png"));
  }

  void cleanupTestCase() { w_.reset(); }
};

QTEST_MAIN(TestAppTimelineSelection)
#include "test_app_timeline_selection.moc"
