// "Compare two runs" (app/compare/run_diff_page.h, run_diff_model.h) on a project built here: two runs of the
// same layer (S1 clearly faster after, B_DS the same within noise), one of another layer. The tables fill on
// the worker (QAbstractItemModelTester on both models), the pickers list the runs, the ops table follows the
// selected schedule, and different layers, a missing run, the same run twice and a missing file are one line.
#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include "app/compare/run_diff_model.h"
#include "app/compare/run_diff_page.h"
#include "app/models/latest_job.h"
#include "db/database.h"
#include "engine/core/run_result.h"

using namespace parm;
using namespace parm::app;

namespace {

RunResult result_of(std::int64_t hidden, double s1_ms) {
  RunResult r;
  r.config.parallel.ranks = 2;
  r.config.parallel.mp = 2;
  r.config.layer.hidden = hidden;
  r.backend = "cpu";
  for (int rank = 0; rank < 2; ++rank) {
    RankRunResult rr;
    rr.rank = rank;
    for (ScheduleKind kind : {ScheduleKind::B_DS, ScheduleKind::S1}) {
      RankScheduleResult s;
      s.kind = kind;
      for (int i = 0; i < 5; ++i) {
        const double ms = (kind == ScheduleKind::B_DS ? 10.0 : s1_ms) + 0.1 * i + 0.05 * rank;
        s.forward_s.push_back(0.4e-3 * ms);
        s.backward_s.push_back(0.6e-3 * ms);
      }
      rr.schedules.push_back(s);
    }
    r.ranks.push_back(rr);
  }
  return r;
}

std::int64_t store(db::Database& d, const RunResult& result, std::int64_t a2a_ns) {
  db::RunInfo info;
  info.name = "layer";
  info.kind = "measured";
  info.ranks = 2;
  info.result_json = to_json(result).dump();
  const std::int64_t run = d.begin_run(info);
  const std::int32_t s1 = d.intern("S1"), s1f = d.intern("S1F"), a2a = d.intern("AlltoAll"),
                     ep = d.intern("EP"), dispatch = d.intern("dispatch");
  std::vector<db::EventRow> rows;
  for (int rank = 0; rank < 2; ++rank)
    for (int it = 0; it < 5; ++it) {
      const std::int64_t t = 100000 * it;
      rows.push_back({rank, 2, s1, it, 0, a2a, ep, dispatch, 0, -1, 64, it, t, t + a2a_ns + 10 * it});
      rows.push_back({rank, 2, s1f, it, 0, a2a, ep, dispatch, 0, -1, 64, it, t + 50000, t + 50000 + 3000});
    }
  d.add_events(run, rows);
  d.finish_run(run);
  return run;
}

}  // namespace

class TestAppRunDiff : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  QString path_;
  std::int64_t before_ = 0, after_ = 0, other_ = 0;

 private slots:
  void initTestCase() {
    path_ = dir_.filePath("diff.sqlite");
    db::Database d = db::Database::open(path_.toStdString(), true);
    before_ = store(d, result_of(128, 8.0), 2000);
    after_ = store(d, result_of(128, 6.0), 1000);
    other_ = store(d, result_of(256, 6.0), 1000);
  }

  void comparesTwoRunsOnTheWorker() {
    RunDiffPage page;
    QAbstractItemModelTester schedulesTester(page.scheduleModel(),
                                             QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester opsTester(page.opModel(),
                                       QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(&page, &RunDiffPage::diffLoaded);
    QVERIFY(page.setRuns(path_, before_, after_));
    QVERIFY(loaded.wait(10000));
    QCOMPARE(page.beforeRun(), before_);

    RunDiffModel* s = page.scheduleModel();
    QCOMPARE(s->rowCount(), 2);
    QCOMPARE(s->index(0, RunDiffModel::Schedule).data().toString(), QString("B_DS"));
    QCOMPARE(s->index(0, RunDiffModel::Verdict).data().toString(), QString("no change within noise"));
    QCOMPARE(s->index(1, RunDiffModel::Schedule).data().toString(), QString("S1"));
    QVERIFY2(s->index(1, RunDiffModel::Verdict).data().toString().startsWith("faster by 1.3"),
             qPrintable(s->index(1, RunDiffModel::Verdict).data().toString()));
    QVERIFY(s->index(1, RunDiffModel::Change).data(RunDiffModel::ValueRole).toDouble() < -20);
    QVERIFY(s->index(1, RunDiffModel::Before).data().toString().endsWith(") ms"));

    // Per op: the S1 AlltoAll halves (microsecond ops shown in us), S1F's is unchanged.
    RunDiffModel* o = page.opModel();
    QCOMPARE(o->rowCount(), 2);
    int faster = 0, same = 0;
    for (int r = 0; r < o->rowCount(); ++r) {
      const QString verdict = o->index(r, RunDiffModel::Verdict).data().toString();
      faster += verdict.startsWith("faster by 1.9");
      same += verdict == "no change within noise";
      QVERIFY(o->index(r, RunDiffModel::After).data().toString().endsWith(" us"));
    }
    QCOMPARE(faster, 1);
    QCOMPARE(same, 1);

    // Selecting S1 keeps only S1's ops (not S1F's).
    page.schedulesView()->selectRow(1);
    QCOMPARE(page.opsView()->model()->rowCount(), 1);
    QCOMPARE(page.opsView()->model()->index(0, RunDiffModel::Schedule).data().toString(), QString("S1"));

    // The pickers list the three runs, showing the pair compared.
    const QList<QComboBox*> pickers = page.findChildren<QComboBox*>();
    QCOMPARE(pickers.size(), 2);
    QCOMPARE(pickers[0]->count(), 3);
    QCOMPARE(pickers[0]->currentData().toLongLong(), before_);
    QCOMPARE(pickers[1]->currentData().toLongLong(), after_);
  }

  void badPairsAreOneLine_data() {
    QTest::addColumn<int>("which");
    QTest::newRow("different layers") << 0;
    QTest::newRow("missing run") << 1;
  }
  void badPairsAreOneLine() {
    QFETCH(int, which);
    RunDiffPage page;
    QSignalSpy failed(&page, &RunDiffPage::errorOccurred);
    QVERIFY(page.setRuns(path_, before_, which == 0 ? other_ : 999));
    QVERIFY(failed.wait(10000));
    const QString line = failed.front().front().toString();
    QVERIFY2(!line.contains('\n'), qPrintable(line));
    QVERIFY2(line.contains(which == 0 ? "layer.hidden: 128 vs 256" : "no run 999"), qPrintable(line));
    QCOMPARE(page.scheduleModel()->rowCount(), 0);
    QCOMPARE(page.statusText(), line);
  }

  void refusesAtOnceWhatNeedsNoRead() {
    RunDiffPage page;
    QSignalSpy failed(&page, &RunDiffPage::errorOccurred);
    QVERIFY(!page.setRuns(path_, before_, before_));
    QVERIFY(!page.setRuns(dir_.filePath("missing.sqlite"), before_, after_));
    QVERIFY(!page.setRuns(QString(), before_, after_));
    QCOMPARE(failed.size(), 3);
    QVERIFY(failed[1].front().toString().contains("no such file"));
    QVERIFY(!page.loadJob()->pending());
  }

  void corruptFileIsOneLine() {
    const QString bad = dir_.filePath("bad.sqlite");
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("not a database at all, just text");
    f.close();
    RunDiffPage page;
    QSignalSpy failed(&page, &RunDiffPage::errorOccurred);
    QVERIFY(page.setRuns(bad, 1, 2));
    QVERIFY(failed.wait(10000));
    QVERIFY(!failed.front().front().toString().contains('\n'));
  }
};

QTEST_MAIN(TestAppRunDiff)
#include "test_app_run_diff.moc"
