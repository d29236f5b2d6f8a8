// The calibration page (issue 16, broken 4: a calibration run showed an empty timeline): a project with a
// calibration run stored as `parm calibrate --db` stores it (the fits in the calibrations table, the
// Calibration JSON with every sample as the run's result), the fits table, the plot of a fit's samples and
// line, the nccl-tests table of a collective, the recorded environment, and bad input as one line. The bus
// bandwidth factors are checked against nccl-tests' doc/PERFORMANCE.md.
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QChart>
#include <QDir>
#include <QFile>
#include <QLineSeries>
#include <QPalette>
#include <QProcess>
#include <QScatterSeries>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "app/app_theme.h"
#include "app/calibration/calibration_fits_model.h"
#include "app/calibration/calibration_page.h"
#include "app/calibration/fit_chart.h"
#include "app/calibration/nccl_table_model.h"
#include "db/database.h"
#include "db/run_queries.h"
#include "engine/model/bus_bandwidth.h"
#include "engine/model/calibration.h"

using namespace parm;
using namespace parm::app;

namespace {

CalibrationFit fit(const char* op, const char* comm, int ranks, double alpha, double beta,
                   std::vector<FitSample> samples, const char* shape = "") {
  CalibrationFit f;
  f.op = op;
  f.communicator = comm;
  f.group_size = ranks;
  f.fit = {alpha, beta, 0.97, int(samples.size())};
  f.samples = std::move(samples);
  f.shape = shape;
  return f;
}

// A 4-rank calibration as `parm calibrate` records it: collectives on EP (2 ranks) and MP (2 ranks), the
// p2p step, compute fits at the calibration's dtype and at bf16 with a shape.
Calibration makeCalibration() {
  Calibration c;
  c.id = "calib-test";
  c.created_at = "2026-12-01T10:00:00Z";
  c.host = "testhost";
  c.layout = {4, 2, 2, 2};
  c.transport = "Open MPI v4.1.4";
  c.devices = {"cpu", "cpu", "cpu", "cpu"};
  c.fits = {
      fit("alltoall", "EP", 2, 0.063, 2.5e-7, {{65536, 0.086}, {1048576, 0.26}, {16777216, 11.28}}),
      fit("allreduce", "MP", 4, 0.081, 1.35e-6, {{65536, 0.166}, {1048576, 1.85}, {16777216, 20.17}}),
      fit("p2p", "EP", 2, 0.062, 3.9e-7, {{32768, 0.084}, {524288, 0.211}, {8388608, 5.97}}),
      fit("gemm", "local", 1, 0.048, 2.5e-8, {{1e6, 0.07}, {8e6, 0.25}, {6.4e7, 1.7}}),
      fit("gemm_bf16", "local", 1, 0.03, 1.2e-8, {{1e6, 0.05}, {8e6, 0.12}}, "M 1024, Hs 2048"),
  };
  return c;
}

// What engine/calibrate/storage.cpp does for `parm calibrate --db`: a run of kind "calibration", one row per
// fit in seconds, the Calibration JSON as the result. `result` replaces that JSON when given.
qint64 storeCalibration(const QString& path, const Calibration& c, const std::string* result = nullptr) {
  db::Database database = db::Database::open(path.toStdString(), true);
  db::RunInfo info;
  info.name = "cal4";
  info.kind = "calibration";
  info.backend = c.backend;
  info.ranks = 4;
  const qint64 run = database.begin_run(info);
  std::vector<db::CalibrationRow> rows;
  for (const auto& f : c.fits)
    rows.push_back(
        {f.op, f.communicator, f.fit.alpha * 1e-3, f.fit.beta * 1e-3, f.fit.r2, std::int64_t(f.fit.samples)});
  database.add_calibration(run, rows);
  if (!result || !result->empty()) database.set_result(run, result ? *result : to_json(c).dump(1));
  database.finish_run(run);
  return run;
}

// The application's own dark theme's palette, for PARM_SCREENSHOT_DARK.
void useDarkPalette() {
  QApplication::setStyle(QStringLiteral("Fusion"));
  QApplication::setPalette(parm::app::darkPalette());
}

bool oneLine(const QString& s) {
  return !s.isEmpty() && !s.contains(QLatin1Char('\n'));
}

bool waitLoaded(QSignalSpy& finished) {
  return finished.count() > 0 || finished.wait(10000);
}

}  // namespace

class TestAppCalibration : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString db_;
  qint64 run_ = 0;
  Calibration cal_ = makeCalibration();

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("cal.sqlite"));
    run_ = storeCalibration(db_, cal_);
    // A measured-looking run beside it, to be refused by the page.
    db::Database database = db::Database::open(db_.toStdString(), false);
    db::RunInfo other;
    other.name = "m";
    other.kind = "measured";
    database.finish_run(database.begin_run(other));
  }

  void busBandwidthFactorsAreNcclTests() {
    QCOMPARE(bus_bandwidth_factor(BusCollective::AllReduce, 4), 1.5);
    QCOMPARE(bus_bandwidth_factor(BusCollective::AllGather, 4), 0.75);
    QCOMPARE(bus_bandwidth_factor(BusCollective::ReduceScatter, 8), 0.875);
    QCOMPARE(bus_bandwidth_factor(BusCollective::AlltoAll, 2), 0.5);
    QCOMPARE(bus_bandwidth_factor(BusCollective::SendRecv, 2), 1.0);
    QCOMPARE(bus_collective_of("p2p"), std::optional(BusCollective::SendRecv));
    QVERIFY(!bus_collective_of("gemm"));
    QVERIFY(!bus_collective_of("sync"));
  }

  void pageShowsEveryFit() {
    CalibrationPage page;
    QAbstractItemModelTester fitsTester(page.fitsModel(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester ncclTester(page.ncclModel(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy finished(&page, &CalibrationPage::loadFinished);
    QSignalSpy errors(&page, &CalibrationPage::errorOccurred);
    QVERIFY(page.setRun(db_, run_));
    QVERIFY(waitLoaded(finished));
    QCOMPARE(finished.front().front().toString(), QString());
    QCOMPARE(errors.count(), 0);

    CalibrationFitsModel* fits = page.fitsModel();
    QCOMPARE(fits->rowCount(), int(cal_.fits.size()));
    auto cell = [&](int row, int col, int role = Qt::DisplayRole) {
      return fits->index(row, col).data(role);
    };
    for (int row = 0; row < fits->rowCount(); ++row) {
      const CalibrationFit& f = cal_.fits[std::size_t(row)];
      QCOMPARE(cell(row, CalibrationFitsModel::Op).toString(), QString::fromStdString(f.op));
      QCOMPARE(cell(row, CalibrationFitsModel::Communicator).toString(),
               QString::fromStdString(f.communicator));
      QCOMPARE(cell(row, CalibrationFitsModel::Ranks).toInt(), f.group_size);
      QCOMPARE(cell(row, CalibrationFitsModel::Alpha).toString(), QString::number(f.fit.alpha * 1e3, 'f', 2));
      QCOMPARE(cell(row, CalibrationFitsModel::Beta, CalibrationFitsModel::ValueRole).toDouble(), f.fit.beta);
      QCOMPARE(cell(row, CalibrationFitsModel::Samples).toInt(), int(f.samples.size()));
    }
    // 1/beta of alltoall: 2.5e-7 ms/B = 4 GB/s; none for a compute fit.
    QCOMPARE(cell(0, CalibrationFitsModel::Bandwidth, CalibrationFitsModel::ValueRole).toDouble(), 4.0);
    QCOMPARE(cell(3, CalibrationFitsModel::Bandwidth).toString(), QStringLiteral("-"));
    QCOMPARE(cell(3, CalibrationFitsModel::DtypeShape).toString(), QStringLiteral("fp32"));
    QCOMPARE(cell(4, CalibrationFitsModel::DtypeShape).toString(), QStringLiteral("bf16, M 1024, Hs 2048"));
    QCOMPARE(cell(0, CalibrationFitsModel::DtypeShape).toString(), QStringLiteral("-"));
    QVERIFY(page.environmentText().contains(QStringLiteral("Open MPI v4.1.4")));
    QVERIFY(page.environmentText().contains(QStringLiteral("4 x cpu")));
    QVERIFY(page.summaryText().contains(QStringLiteral("5 fits")));
    QCOMPARE(page.selectedFit(), 0);  // the first fit is shown at once
  }

  void plotHoldsTheSamplesAndTheLine() {
    CalibrationPage page;
    QSignalSpy finished(&page, &CalibrationPage::loadFinished);
    QVERIFY(page.setRun(db_, run_));
    QVERIFY(waitLoaded(finished));
    for (int row : {1, 3}) {
      QVERIFY(page.selectFit(row));
      const CalibrationFit& f = cal_.fits[std::size_t(row)];
      QScatterSeries* samples = nullptr;
      QLineSeries* line = nullptr;
      for (QAbstractSeries* s : page.fitChart()->series()) {
        if (auto* sc = qobject_cast<QScatterSeries*>(s))
          samples = sc;
        else if (auto* l = qobject_cast<QLineSeries*>(s))
          line = l;
      }
      QVERIFY(samples && line);
      // The largest time of both fits is over 1 ms: the axis is in ms, the samples as stored.
      const QList<QPointF> pts = samples->points();
      QCOMPARE(pts.size(), qsizetype(f.samples.size()));
      for (qsizetype i = 0; i < pts.size(); ++i) {
        QCOMPARE(pts[i].x(), std::log2(f.samples[std::size_t(i)].n));  // the size axis is log-scaled
        QCOMPARE(pts[i].y(), f.samples[std::size_t(i)].t);
      }
      const QList<QPointF> lp = line->points();
      QCOMPARE(lp.size(), qsizetype(kFitLinePoints));
      QCOMPARE(lp.front().x(), std::log2(f.samples.front().n));
      QVERIFY(qAbs(lp.back().x() - std::log2(f.samples.back().n)) < 1e-9);
      for (const QPointF& p : lp) {
        const double n = std::exp2(p.x());
        QVERIFY(qAbs(p.y() - (f.fit.alpha + f.fit.beta * n)) < 1e-9 * (1 + p.y()));
      }
      QVERIFY(page.fitChart()->title().contains(QStringLiteral("r2 0.970")));
    }
    // A fit whose times stay below 1 ms is plotted in us.
    CalibrationFit small = fit("allgather", "MP", 2, 0.01, 1e-8, {{4096, 0.02}, {65536, 0.05}});
    QChart chart;
    plotFit(&chart, small);
    for (QAbstractSeries* s : chart.series())
      if (auto* sc = qobject_cast<QScatterSeries*>(s)) QCOMPARE(sc->points().back().y(), 50.0);
  }

  void ncclTableUsesTheBusFactor() {
    CalibrationPage page;
    QSignalSpy finished(&page, &CalibrationPage::loadFinished);
    QVERIFY(page.setRun(db_, run_));
    QVERIFY(waitLoaded(finished));
    NcclTableModel* t = page.ncclModel();
    const struct {
      int row;
      double factor;
    } cases[] = {{0, 0.5}, {1, 1.5}, {2, 1.0}};  // alltoall on 2, allreduce on 4, p2p
    for (const auto& c : cases) {
      QVERIFY(page.selectFit(c.row));
      const CalibrationFit& f = cal_.fits[std::size_t(c.row)];
      QVERIFY(t->isCollective());
      QCOMPARE(t->busFactor(), c.factor);
      QCOMPARE(t->rowCount(), int(f.samples.size()));
      for (int r = 0; r < t->rowCount(); ++r) {
        auto v = [&](int col) { return t->index(r, col).data(NcclTableModel::ValueRole).toDouble(); };
        const FitSample& s = f.samples[std::size_t(r)];
        QCOMPARE(v(NcclTableModel::Size), s.n);
        QCOMPARE(v(NcclTableModel::Count), s.n / 4);
        QCOMPARE(v(NcclTableModel::Time), s.t * 1e3);
        QCOMPARE(v(NcclTableModel::AlgBw), s.n / (s.t * 1e-3) / 1e9);
        QCOMPARE(v(NcclTableModel::BusBw), v(NcclTableModel::AlgBw) * c.factor);
      }
    }
    QVERIFY(page.selectFit(3));  // gemm: no bus bandwidth
    QVERIFY(!t->isCollective());
    QCOMPARE(t->rowCount(), 0);
    QCOMPARE(t->columnCount(), int(NcclTableModel::ColumnCount));
  }

  void runWithoutResultUsesTheTable() {
    const QString path = dir_.filePath(QStringLiteral("rows-only.sqlite"));
    const std::string none;
    const qint64 run = storeCalibration(path, cal_, &none);
    CalibrationPage page;
    QSignalSpy finished(&page, &CalibrationPage::loadFinished);
    QVERIFY(page.setRun(path, run));
    QVERIFY(waitLoaded(finished));
    QCOMPARE(page.fitsModel()->rowCount(), int(cal_.fits.size()));
    QVERIFY(page.summaryText().contains(QStringLiteral("no samples")));
    QCOMPARE(page.fitsModel()->index(1, CalibrationFitsModel::Alpha).data().toString(),
             QStringLiteral("81.00"));
  }

  void badInputIsOneLine() {
    CalibrationPage page;
    QSignalSpy errors(&page, &CalibrationPage::errorOccurred);
    QSignalSpy finished(&page, &CalibrationPage::loadFinished);
    // A missing file and a text file: refused at once.
    QVERIFY(!page.setRun(dir_.filePath(QStringLiteral("missing.sqlite")), 1));
    QCOMPARE(errors.count(), 1);
    QVERIFY(oneLine(errors.takeFirst().front().toString()));
    const QString text = dir_.filePath(QStringLiteral("text.sqlite"));
    QFile f(text);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("not a database\n");
    f.close();
    QVERIFY(!page.setRun(text, 1));
    QVERIFY(oneLine(errors.takeFirst().front().toString()));
    QCOMPARE(page.fitsModel()->rowCount(), 0);
    // A run that is not a calibration, and a run that does not exist: refused when the read ends.
    finished.clear();
    QVERIFY(page.setRun(db_, run_ + 1));
    QVERIFY(waitLoaded(finished));
    QVERIFY(finished.front().front().toString().contains(QStringLiteral("not a calibration")));
    QVERIFY(oneLine(errors.takeFirst().front().toString()));
    finished.clear();
    QVERIFY(page.setRun(db_, 999));
    QVERIFY(waitLoaded(finished));
    QVERIFY(oneLine(finished.front().front().toString()));
    // A damaged result: a negative beta names the field.
    nlohmann::json bad = to_json(cal_);
    bad["fits"][1]["beta"] = -1.0;
    const std::string badText = bad.dump();
    const QString badPath = dir_.filePath(QStringLiteral("bad.sqlite"));
    const qint64 badRun = storeCalibration(badPath, cal_, &badText);
    finished.clear();
    QVERIFY(page.setRun(badPath, badRun));
    QVERIFY(waitLoaded(finished));
    const QString error = finished.front().front().toString();
    QVERIFY2(oneLine(error) && error.contains(QStringLiteral("beta")), qPrintable(error));
    QCOMPARE(page.fitsModel()->rowCount(), 0);
  }

  // A real `parm calibrate --quick --db` on 2 ranks (EP 2, MP 1): the page shows every fit it stored, the
  // alltoall's samples and line, its nccl-tests table with busbw = algbw * (n-1)/n, and the environment.
  void realCalibrationProject() {
    const QString cfg = dir_.filePath(QStringLiteral("c2.json"));
    QFile f(cfg);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"name":"c2","layer":{"batch":2,"seq_len":64,"hidden":64,"ffn_hidden":256,"num_experts":4,
 "top_k":2},"parallel":{"ranks":2,"gpus_per_node":2,"mp":1,"esp":1},"run":{"warmup":1,"iterations":3}})");
    f.close();
    const QString path = dir_.filePath(QStringLiteral("real.sqlite"));
    QProcess parm;
    parm.setWorkingDirectory(dir_.path());
    parm.start(QStringLiteral(PARM_EXE), {"calibrate", cfg, "--quick", "--db", path});
    QVERIFY(parm.waitForFinished(180000));
    QVERIFY2(parm.exitCode() == 0, parm.readAllStandardError().constData());

    const db::Database database = db::Database::open(path.toStdString(), false);
    const auto run = db::latest_run_of_kind(database, "calibration", true);
    QVERIFY(run);
    const std::vector<db::CalibrationRow> rows = database.calibrations(*run);
    QVERIFY(!rows.empty());
    CalibrationPage page;
    QAbstractItemModelTester tester(page.fitsModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy finished(&page, &CalibrationPage::loadFinished);
    QVERIFY(page.setRun(path, *run));
    QVERIFY(waitLoaded(finished));
    QCOMPARE(finished.front().front().toString(), QString());
    QCOMPARE(page.fitsModel()->rowCount(), int(rows.size()));
    int alltoall = -1;
    for (int r = 0; r < int(rows.size()); ++r) {
      QCOMPARE(page.fitsModel()->index(r, CalibrationFitsModel::Op).data().toString(),
               QString::fromStdString(rows[std::size_t(r)].op));
      QCOMPARE(page.fitsModel()
                   ->index(r, CalibrationFitsModel::R2)
                   .data(CalibrationFitsModel::ValueRole)
                   .toDouble(),
               rows[std::size_t(r)].r2);
      if (rows[std::size_t(r)].op == "alltoall") alltoall = r;
    }
    QVERIFY(alltoall >= 0);
    QVERIFY(page.selectFit(alltoall));
    const CalibrationFit& fit = *page.fitsModel()->fit(alltoall);
    QCOMPARE(fit.group_size, 2);
    QVERIFY(fit.samples.size() >= 2);
    int scattered = 0;
    for (QAbstractSeries* s : page.fitChart()->series())
      if (auto* sc = qobject_cast<QScatterSeries*>(s)) scattered = int(sc->count());
    QCOMPARE(scattered, int(fit.samples.size()));
    NcclTableModel* t = page.ncclModel();
    QCOMPARE(t->rowCount(), int(fit.samples.size()));
    for (int r = 0; r < t->rowCount(); ++r)
      QCOMPARE(t->index(r, NcclTableModel::BusBw).data(NcclTableModel::ValueRole).toDouble(),
               t->index(r, NcclTableModel::AlgBw).data(NcclTableModel::ValueRole).toDouble() * 0.5);
    QVERIFY2(page.environmentText().contains(QStringLiteral("Transport")),
             qPrintable(page.environmentText()));
  }

  // With PARM_SCREENSHOT_DIR set: the page on PARM_SCREENSHOT_DB's latest calibration (else this test's
  // project), grabbed to calibration.png, for a person to look at.
  void screenshot() {
    const QString dir = qEnvironmentVariable("PARM_SCREENSHOT_DIR");
    if (dir.isEmpty()) QSKIP("PARM_SCREENSHOT_DIR not set");
    if (qEnvironmentVariableIsSet("PARM_SCREENSHOT_DARK")) useDarkPalette();
    const QString path = qEnvironmentVariable("PARM_SCREENSHOT_DB", db_);
    const auto latest =
        db::latest_run_of_kind(db::Database::open(path.toStdString(), false), "calibration", true);
    QVERIFY(latest);
    CalibrationPage page;
    page.resize(1400, 900);
    page.show();
    QSignalSpy finished(&page, &CalibrationPage::loadFinished);
    QVERIFY(page.setRun(path, *latest));
    QVERIFY(waitLoaded(finished));
    QCOMPARE(finished.front().front().toString(), QString());
    const int row = qEnvironmentVariableIntValue("PARM_SCREENSHOT_FIT");
    QVERIFY(page.selectFit(row));
    QTest::qWait(200);
    QVERIFY(page.grab().save(QDir(dir).filePath(QStringLiteral("calibration.png"))));
  }
};

QTEST_MAIN(TestAppCalibration)
#include "test_app_calibration.moc"
