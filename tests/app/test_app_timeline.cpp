// The timeline area against a real 4-rank run (`parm run --db`) and a stored prediction (`parm predict
// --db`): rows, counts equal to SQL counts, hover, fit, zoom, range selection, flow arrows, bad files,
// export.
#include <sqlite3.h>

#include <QAbstractItemModelTester>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QSignalSpy>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>
#include <QWheelEvent>
#include <map>
#include <set>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_row_model.h"
#include "app/timeline/timeline_view.h"
#include "app/timeline/timeline_widget.h"
#include "db/database.h"
#include "tests/app/timeline_run_fixture.h"

using namespace parm::app;

namespace {


// One integer from SQL on the project file.
qint64 sqlCount(const QString& path, const QString& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.toUtf8().constData(), -1, &st, nullptr) != SQLITE_OK)
    qFatal("%s: %s", qPrintable(sql), sqlite3_errmsg(db));
  qint64 v = -1;
  if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

QList<qint64> sqlColumn(const QString& path, const QString& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.toUtf8().constData(), -1, &st, nullptr) != SQLITE_OK)
    qFatal("%s: %s", qPrintable(sql), sqlite3_errmsg(db));
  QList<qint64> out;
  while (sqlite3_step(st) == SQLITE_ROW) out << sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

}  // namespace

class TestAppTimeline : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString db_;
  qint64 measured_ = -1, prediction_ = -1;
  std::unique_ptr<TimelineWidget> w_;

  void open(TimelineWidget& w) {
    QString error;
    QVERIFY2(w.openRun(db_, measured_, &error, prediction_), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 30000);
    QVERIFY(w.timelineData());
  }
  int sectionOf(const QString& schedule) const {
    const auto& s = w_->timelineData()->sections();
    for (std::size_t i = 0; i < s.size(); ++i)
      if (s[i].schedule == schedule) return static_cast<int>(i);
    return -1;
  }
  QString where(const TimelineRow& r) const {
    const auto& s = w_->timelineData()->sections()[static_cast<std::size_t>(r.section)];
    return QStringLiteral(
               "run = %1 AND schedule = (SELECT id FROM StringIds WHERE value = '%2') AND lane = %3")
        .arg(r.predicted() ? prediction_ : measured_)
        .arg(s.schedule)
        .arg(r.lane);
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath("project.sqlite");
    const parm::test::TimelineRunIds ids =
        parm::test::writeTimelineRun(dir_.path(), db_, {"B_DS", "S1", "S2F"});
    measured_ = ids.measured;
    prediction_ = ids.prediction;
    QVERIFY(measured_ > 0);
    QVERIFY(prediction_ > 0);

    w_ = std::make_unique<TimelineWidget>();
    new QAbstractItemModelTester(w_->rowModel(), QAbstractItemModelTester::FailureReportingMode::QtTest,
                                 w_.get());
    w_->resize(1400, 1000);
    w_->show();
    open(*w_);
  }

  void rowsAreSchedulesRanksLanes() {
    TimelineRowModel* m = w_->rowModel();
    QCOMPARE(m->rowCount(), 3);
    QSet<QString> schedules;
    for (int s = 0; s < 3; ++s) {
      const QModelIndex section = m->index(s, 0);
      schedules << section.data().toString();
      QCOMPARE(m->rowCount(section), 5);  // 4 ranks + predicted
      for (int r = 0; r < 4; ++r) {
        const QModelIndex rank = m->index(r, 0, section);
        QCOMPARE(rank.data().toString(), QStringLiteral("rank %1").arg(r));
        QStringList lanes;
        for (int l = 0; l < m->rowCount(rank); ++l) lanes << m->index(l, 0, rank).data().toString();
        QCOMPARE(lanes, (QStringList{"compute", "intra", "inter"}));
      }
      QCOMPARE(m->index(4, 0, section).data().toString(), QStringLiteral("predicted"));
    }
    QCOMPARE(schedules, (QSet<QString>{"B_DS", "S1", "S2F"}));
  }

  void countsEqualSql() {
    for (TimelineMode mode : {TimelineMode::WholeRun, TimelineMode::Aligned}) {
      w_->setMode(mode);
      const TimelineData* d = w_->timelineData();
      std::int64_t shown = 0;
      for (const TimelineRow& r : d->rows()) {
        QString sql;
        if (r.predicted()) {
          sql = QStringLiteral("SELECT count(*) FROM predictions WHERE %1").arg(where(r));
        } else {
          sql =
              QStringLiteral("SELECT count(*) FROM events WHERE %1 AND rank = %2").arg(where(r)).arg(r.rank);
          if (mode == TimelineMode::Aligned)
            sql += QStringLiteral(" AND iteration = %1")
                       .arg(d->sections()[static_cast<std::size_t>(r.section)].chosenIteration);
          shown += static_cast<std::int64_t>(r.event.size());
        }
        QCOMPARE(static_cast<qint64>(r.event.size()), sqlCount(db_, sql));
        QVERIFY(std::is_sorted(r.start.begin(), r.start.end()));
      }
      if (mode == TimelineMode::WholeRun)
        QCOMPARE(shown,
                 sqlCount(db_, QStringLiteral("SELECT count(*) FROM events WHERE run = %1").arg(measured_)));
    }
    // The median of 3 iterations by length is the middle one, and its rows start at 0.
    for (const TimelineSection& s : w_->timelineData()->sections()) {
      QCOMPARE(s.iterationStart.size(), std::size_t(3));
      QVERIFY(s.chosenIteration >= 0);
      QCOMPARE(s.offset, s.iterationStart[static_cast<std::size_t>(s.chosenIteration)]);
    }
    QCOMPARE(w_->timelineData()->displayStart(), std::int64_t(0));
  }

  void hoverNamesOpGroupBytesAndDurations() {
    w_->setMode(TimelineMode::Aligned);
    const TimelineData* d = w_->timelineData();
    const int row = d->findRow(sectionOf("S1"), 0, 2);  // rank 0, inter lane: the EP AlltoAlls
    QVERIFY(row >= 0);
    const TimelineRow& r = d->rows()[static_cast<std::size_t>(row)];
    const TimelineEvent& e = d->measured()[static_cast<std::size_t>(r.event[0])];
    QCOMPARE(d->strings()[e.op], QStringLiteral("AlltoAll"));
    QVERIFY(e.match >= 0);  // matched with the predicted "AlltoAll(EP)"
    QCOMPARE(d->strings()[d->predicted()[static_cast<std::size_t>(e.match)].op],
             QStringLiteral("AlltoAll(EP)"));
    const double span = static_cast<double>(r.end[0] - r.start[0]);
    w_->view()->setVisibleRange(static_cast<double>(r.start[0]) - span, static_cast<double>(r.end[0]) + span);
    const QRectF rect = w_->view()->eventRect(row, 0);
    QVERIFY(rect.isValid());
    const QString text = w_->view()->hoverText(rect.center().toPoint());
    QVERIFY2(text.startsWith("AlltoAll"), qPrintable(text));
    QVERIFY2(text.contains("group EP"), qPrintable(text));
    QVERIFY2(text.contains(QString::number(e.bytes) + " B"), qPrintable(text));
    QVERIFY2(text.contains("measured "), qPrintable(text));
    QVERIFY2(text.contains("predicted "), qPrintable(text));
    QVERIFY2(text.contains("rank 0") && text.contains("S1") && text.contains("inter"), qPrintable(text));
    // Off the rows: nothing.
    QVERIFY(w_->view()->hoverText(QPoint(5, 5)).isEmpty());
  }

  void fitCoversAllEvents() {
    for (TimelineMode mode : {TimelineMode::WholeRun, TimelineMode::Aligned}) {
      w_->setMode(mode);
      w_->view()->setVisibleRange(10, 20);
      w_->fitToView();
      const TimelineData* d = w_->timelineData();
      for (const TimelineRow& r : d->rows()) {
        if (r.start.empty()) continue;
        QVERIFY(w_->view()->visibleStart() <= static_cast<double>(r.start.front()));
        QVERIFY(w_->view()->visibleEnd() >= static_cast<double>(r.endMax.back()));
      }
      QVERIFY(w_->view()->visibleEnd() - w_->view()->visibleStart() <
              1.1 * static_cast<double>(d->displayEnd() - d->displayStart()));
    }
  }

  void wheelZoomKeepsPointUnderCursor() {
    TimelineView* v = w_->view();
    w_->fitToView();
    const QPointF at(v->width() * 0.37, 200);
    const double before = v->timeAt(at.x());
    const double span = v->visibleEnd() - v->visibleStart();
    QWheelEvent wheel(at, v->mapToGlobal(at), QPoint(), QPoint(0, 240), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    QCoreApplication::sendEvent(v, &wheel);
    QVERIFY(v->visibleEnd() - v->visibleStart() < span * 0.7);
    QVERIFY(std::abs(v->timeAt(at.x()) - before) < 1e-6 * span);
    // Keys: S zooms back out, D pans right, F fits.
    QTest::keyClick(v, Qt::Key_S);
    QTest::keyClick(v, Qt::Key_S);
    QVERIFY(std::abs((v->visibleEnd() - v->visibleStart()) - span) < 1e-6 * span);
    const double left = v->visibleStart();
    QTest::keyClick(v, Qt::Key_D);
    QVERIFY(v->visibleStart() > left);
    QTest::keyClick(v, Qt::Key_F);
    QVERIFY(v->visibleStart() <= static_cast<double>(w_->timelineData()->displayStart()));
  }

  void rangeSelectionEmitsRunTime() {
    TimelineView* v = w_->view();
    QSignalSpy selected(w_.get(), &TimelineWidget::rangeSelected);
    QSignalSpy cleared(w_.get(), &TimelineWidget::rangeCleared);
    for (TimelineMode mode : {TimelineMode::WholeRun, TimelineMode::Aligned}) {
      w_->setMode(mode);
      QTest::qWait(20);
      const int y = TimelineView::kAxisHeight + 40;
      const double a = v->timeAt(200), b = v->timeAt(500);
      // The row under the press names the schedule (the first one) whose time base the range is converted
      // from.
      const std::int64_t offset =
          mode == TimelineMode::Aligned ? w_->timelineData()->sections()[0].offset : 0;
      QTest::mousePress(v, Qt::LeftButton, Qt::ShiftModifier, QPoint(200, y));
      QTest::mouseRelease(v, Qt::LeftButton, Qt::ShiftModifier, QPoint(500, y));
      QCOMPARE(selected.size(), 1);
      const qint64 start = selected[0][0].toLongLong(), end = selected[0][1].toLongLong();
      QVERIFY2(std::abs(start - (static_cast<qint64>(a) + offset)) <= 1, qPrintable(QString::number(start)));
      QVERIFY(std::abs(end - (static_cast<qint64>(b) + offset)) <= 1);
      selected.clear();
      QTest::keyClick(v, Qt::Key_Escape);
      QCOMPARE(cleared.size(), 1);
      cleared.clear();
      QVERIFY(!v->selection());
    }
  }

  void flowArrowsJoinExactlyTheMembers() {
    w_->setMode(TimelineMode::Aligned);
    w_->setFlowsVisible(true);
    // Only S1 expanded, so all its rows fit on screen.
    TimelineRowModel* m = w_->rowModel();
    for (int s = 0; s < m->rowCount(); ++s)
      if (m->index(s, 0).data().toString() != "S1") w_->tree()->collapse(m->index(s, 0));
    QTest::qWait(20);
    w_->fitToView();
    w_->view()->grab();
    const auto& arrows = w_->view()->lastFlows();
    QVERIFY(!arrows.empty());
    const TimelineData* d = w_->timelineData();
    std::map<std::int32_t, std::set<int>> joined;  // flow -> ranks the arrows touch
    for (const auto& a : arrows) {
      const TimelineEvent& from = d->measured()[static_cast<std::size_t>(a.from)];
      const TimelineEvent& to = d->measured()[static_cast<std::size_t>(a.to)];
      QCOMPARE(from.flow, to.flow);
      QVERIFY(from.rank < to.rank);
      joined[from.flow].insert({from.rank, to.rank});
    }
    int checked = 0;
    for (const auto& [flow, ranks] : joined) {
      const TimelineEvent& e = d->measured()[static_cast<std::size_t>(d->flowMembers(flow).front())];
      const QString sql = QStringLiteral(
                              "SELECT rank FROM events e WHERE run = %1 AND schedule = (SELECT id FROM "
                              "StringIds WHERE value = '%2') "
                              "AND iteration = %3 AND phase = %4 AND grp = (SELECT id FROM StringIds WHERE "
                              "value = '%5') AND comm = "
                              "%6 AND seq = %7 ORDER BY rank")
                              .arg(measured_)
                              .arg(d->sections()[static_cast<std::size_t>(e.section)].schedule)
                              .arg(e.iteration)
                              .arg(e.phase)
                              .arg(d->strings()[e.group])
                              .arg(e.comm)
                              .arg(e.seq);
      const QList<qint64> members = sqlColumn(db_, sql);
      QVERIFY(members.size() >= 2);
      const std::set<int> expected(members.begin(), members.end());
      QCOMPARE(ranks, expected);
      ++checked;
    }
    QVERIFY(checked > 5);
    w_->setFlowsVisible(false);
    w_->view()->grab();
    QVERIFY(w_->view()->lastFlows().empty());
    w_->setFlowsVisible(true);
    w_->expandAllRows();  // not tree()->expandAll(): the widget keeps what was collapsed across rebuilds
  }

  void sideBySideColumnsPerSchedule() {
    w_->setSideBySide(true);
    TimelineRowModel* m = w_->rowModel();
    QCOMPARE(m->timeColumns(), 3);
    QCOMPARE(m->rowCount(), 5);                                      // ranks 0..3 + predicted
    const auto rows = m->rowsUnder(m->index(0, 0, m->index(0, 0)));  // rank 0, compute: one row per schedule
    QCOMPARE(rows.size(), std::size_t(3));
    for (const auto& c : rows) QCOMPARE(c.size(), std::size_t(1));
    QVERIFY(!w_->view()->grab().isNull());
    w_->setSideBySide(false);
    QCOMPARE(m->rowCount(), 3);
  }

  void exportPngAndSvg() {
    QString error;
    const QString png = dir_.filePath("timeline.png"), svg = dir_.filePath("timeline.svg");
    QVERIFY2(w_->exportImage(png, &error), qPrintable(error));
    QVERIFY2(w_->exportImage(svg, &error), qPrintable(error));
    QImage image(png);
    QVERIFY(!image.isNull());
    QVERIFY(image.width() > 100 && image.height() > 100);
    QVERIFY(QSvgRenderer(svg).isValid());
    if (const QString keep = qEnvironmentVariable("PARM_TIMELINE_KEEP");
        !keep.isEmpty()) {  // to look at them
      QFile::copy(png, keep + "/timeline.png");
      QFile::copy(svg, keep + "/timeline.svg");
    }
    QVERIFY(QFileInfo(svg).size() > 1000);
    QVERIFY(!w_->exportImage(dir_.filePath("nodir/x.png"), &error));
    QVERIFY(error.contains("x.png"));
  }

  void badFilesGiveOneLineErrors() {
    TimelineWidget w;
    QString error;
    const QString garbage = dir_.filePath("garbage.sqlite");
    {
      QFile f(garbage);
      QVERIFY(f.open(QIODevice::WriteOnly));
      QByteArray junk(8192, '\0');
      for (int i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 7919) % 251);
      f.write(junk);
    }
    QVERIFY(!w.openRun(garbage, 1, &error));
    QVERIFY2(error.contains("garbage.sqlite") && !error.contains('\n'), qPrintable(error));

    const QString foreign = dir_.filePath("foreign.sqlite");
    sqlite3* db = nullptr;
    sqlite3_open(foreign.toUtf8().constData(), &db);
    sqlite3_exec(db, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    QVERIFY(!w.openRun(foreign, 1, &error));
    QVERIFY2(error.contains("foreign.sqlite") && !error.contains('\n'), qPrintable(error));

    QVERIFY(!w.openRun(db_, 9999, &error));
    QVERIFY2(error.contains("9999"), qPrintable(error));
    QVERIFY(!w.openRun(dir_.filePath("missing.sqlite"), 1, &error));
    QVERIFY(!w.exportImage(dir_.filePath("none.png"), &error));  // nothing loaded
  }

  void incompleteRunShowsWhatExists() {
    const QString path = dir_.filePath("partial.sqlite");
    std::int64_t run = 0;
    {
      auto db = parm::db::Database::open(path.toStdString(), true);
      parm::db::RunInfo info;
      info.name = "partial";
      info.kind = "measured";
      info.backend = "cpu";
      info.ranks = 2;
      run = db.begin_run(info);
      std::vector<parm::db::EventRow> rows;
      for (int i = 0; i < 10; ++i) {
        parm::db::EventRow e;
        e.rank = i % 2;
        e.lane = 0;
        e.schedule = db.intern("S1");
        e.op = db.intern("experts");
        e.group = db.intern("-");
        e.purpose = db.intern("experts");
        e.start_ns = i * 1000;
        e.end_ns = i * 1000 + 500;
        rows.push_back(e);
      }
      db.add_events(run, rows);  // never finished: a run still being written
    }
    TimelineWidget w;
    w.resize(800, 500);
    QString notice;
    QVERIFY(w.openRun(path, run, &notice));
    QVERIFY2(notice.contains("incomplete"), qPrintable(notice));
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 10000);
    QCOMPARE(w.timelineData()->measured().size(), std::size_t(10));
    QVERIFY(!w.view()->grab().isNull());
  }

  // A run of kind "prediction" on its own: predicted rows only, one section per predicted schedule.
  void predictionRunAlone() {
    TimelineWidget w;
    w.resize(800, 500);
    QString error;
    QVERIFY2(w.openRun(db_, prediction_, &error), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 10000);
    QVERIFY(w.timelineData()->measured().empty());
    std::size_t n = 0;
    for (const TimelineRow& r : w.timelineData()->rows()) {
      QVERIFY(r.predicted());
      n += r.event.size();
    }
    QCOMPARE(
        static_cast<qint64>(n),
        sqlCount(db_, QStringLiteral("SELECT count(*) FROM predictions WHERE run = %1").arg(prediction_)));
    QVERIFY(n > 0);
    QVERIFY(!w.view()->grab().isNull());
  }

  void cleanupTestCase() { w_.reset(); }
};

QTEST_MAIN(TestAppTimeline)
#include "test_app_timeline.moc"
