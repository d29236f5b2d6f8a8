// Hostile grids through the real `parm sweep` (and `parm validate GRID`, which reads them the same way): a
// grid above 100000 configurations needs --limit, every axis value is checked against its field, a grid of
// only invalid configurations exits 2, and a large sweep streams its rows with memory that does not grow.
#include <QElapsedTimer>
#include <QThread>

#include "hostile_support.h"

namespace {

// A calibration of the default preset's layout (P = 4, G = 2, N_MP = N_ESP = 2).
const QByteArray kCalibration = R"({"id": "calib-sweep", "layout": {"ranks": 4, "gpus_per_node": 2, "mp": 2,
  "esp": 2}, "fits": [
  {"op": "alltoall", "communicator": "EP", "group_size": 2, "alpha": 0.2, "beta": 3e-7},
  {"op": "p2p", "communicator": "EP", "group_size": 2, "alpha": 0.02, "beta": 3e-7},
  {"op": "allgather", "communicator": "MP", "group_size": 2, "alpha": 0.03, "beta": 1e-7},
  {"op": "reducescatter", "communicator": "MP", "group_size": 2, "alpha": 0.03, "beta": 1e-7},
  {"op": "allreduce", "communicator": "MP", "group_size": 2, "alpha": 0.05, "beta": 2e-7},
  {"op": "gemm", "communicator": "local", "group_size": 1, "alpha": 0.01, "beta": 1e-9}]})";

QByteArray range(int n, int first = 1) {
  QByteArray list = "[";
  for (int i = 0; i < n; ++i) list += (i ? "," : "") + QByteArray::number(first + i);
  return list + "]";
}

// The default preset as the base; `axes` is the axes object's body.
QByteArray grid(const QByteArray& axes) {
  return R"({"name": "hostile", "base": {"name": "hostile"}, "axes": {)" + axes + "}}";
}

// 200 x 1000 = 200000 configurations: above the limit.
QByteArray big_grid() {
  return grid(R"("batch": )" + range(200) + R"(, "seq_len": )" + range(1000, 64));
}

struct Files {
  QTemporaryDir dir;
  QString calib, grid;
  explicit Files(const QByteArray& grid_text) {
    calib = hostile::write_file(QDir(dir.path()), "calib.json", kCalibration);
    grid = hostile::write_file(QDir(dir.path()), "grid.json", grid_text);
  }
};

long rss_kib(qint64 pid) {
  QFile f(QString("/proc/%1/status").arg(pid));
  if (!f.open(QIODevice::ReadOnly)) return -1;
  for (const QByteArray& line : f.readAll().split('\n'))
    if (line.startsWith("VmHWM:")) return line.mid(6).trimmed().split(' ').front().toLong();
  return -1;
}

}  // namespace

class TestHostileSweep : public QObject {
  Q_OBJECT
 private slots:
  void refused_data() {
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QByteArray>("needle");
    QTest::newRow("above the size limit")
        << big_grid()
        << QByteArray("200000 configurations is above the 100000 a grid may have without --limit");
    QTest::newRow("every configuration invalid")
        << grid(R"("top_k": [50, 60])")
        << QByteArray("every one of the 2 configurations is invalid (first: #0:");
    QTest::newRow("batch 1e300") << grid(R"("batch": [1, 1e300])")
                                 << QByteArray("axes.batch[1] = 1e+300: must be an integer from 1 to");
    QTest::newRow("batch 2.5") << grid(R"("batch": [2.5])")
                               << QByteArray("axes.batch[0] = 2.5: must be an integer");
    QTest::newRow("capacity_factor -1")
        << grid(R"("capacity_factor": [-1])")
        << QByteArray("axes.capacity_factor[0] = -1: must be a finite number > 0");
    QTest::newRow("ffn_ratio overflow")
        << grid(R"("ffn_ratio": [1e300])")
        << QByteArray("axes.ffn_ratio[0]: ffn_ratio x hidden must stay below 2^53");
    QTest::newRow("unknown axis") << grid(R"("batches": [1, 2])")
                                  << QByteArray("unknown axis 'batches' (known:");
    QTest::newRow("empty axis") << grid(R"("batch": [])")
                                << QByteArray("axes.batch: must be a non-empty list");
    QTest::newRow("text value") << grid(R"("batch": ["8"])")
                                << QByteArray("axes.batch[0] = \"8\": must be a number");
    QTest::newRow("duplicate axis") << grid(R"("batch": [1], "batch": [2])")
                                    << QByteArray("duplicate key \"batch\"");
    QTest::newRow("product overflows 64 bits")
        << grid(R"("batch": )" + range(65536) + R"(, "seq_len": )" + range(65536) + R"(, "hidden": )" +
                range(65536) + R"(, "top_k": )" + range(65536))
        << QByteArray("more than 2^64 configurations");
    QTest::newRow("invalid base") << QByteArray(R"({"base": {"layer": {"batch": -4}}, "axes": {}})")
                                  << QByteArray("base: error: layer.batch");
  }
  void refused() {
    QFETCH(QByteArray, content);
    QFETCH(QByteArray, needle);
    Files f(content);
    const hostile::Result r = hostile::run_parm({"sweep", "--grid", f.grid, "--calibration", f.calib}, 60000);
    hostile::expect_refused(r, 2, needle);
  }

  // validate reads grids through the same code: the same limit and the same axis checks, before anything
  // runs.
  void validate_refuses_the_same() {
    Files big(big_grid());
    hostile::expect_refused(hostile::run_parm({"validate", big.grid, "--calibration", big.calib}, 60000), 2,
                            "above the 100000 a grid may have without --limit");
    Files bad(grid(R"("batch": [1e300])"));
    hostile::expect_refused(hostile::run_parm({"validate", bad.grid, "--calibration", bad.calib}, 60000), 2,
                            "axes.batch[0] = 1e+300");
  }

  // --limit K: K evenly spaced configurations of the big grid, the invalid ones counted in one line.
  void limit_accepts_a_big_grid() {
    Files f(big_grid());
    const QString csv = f.dir.filePath("out.csv");
    const hostile::Result r = hostile::run_parm(
        {"sweep", "--grid", f.grid, "--calibration", f.calib, "--limit", "50", "--out", csv, "--json"},
        60000);
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY2(r.out.contains("\"grid_configurations\": 200000"), r.out.constData());
    QVERIFY2(r.out.contains("\"configurations\": 50"), r.out.constData());
    QFile out(csv);
    QVERIFY(out.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = out.readAll().trimmed().split('\n');
    QVERIFY(lines.size() >= 2 && lines.size() <= 51);
    QVERIFY(lines[1].startsWith("0,1,64,"));  // index 0: batch 1, seq_len 64
  }

  // A sweep of 200000 configurations: rows reach the file while it runs, and the process stays small (a
  // materialised product of configurations grew to gigabytes).
  void large_sweep_streams_with_bounded_memory() {
    Files f(big_grid());
    const QString csv = f.dir.filePath("stream.csv");
    QProcess p;
    p.setWorkingDirectory(PARM_SOURCE_DIR);
    p.start(PARM_EXE,
            {"sweep", "--grid", f.grid, "--calibration", f.calib, "--limit", "200000", "--out", csv});
    QVERIFY(p.waitForStarted());
    QElapsedTimer timer;
    timer.start();
    qsizetype rows = 0;
    long peak = 0;
    while (timer.elapsed() < 20000 && rows < 2000 && p.state() == QProcess::Running) {
      QThread::msleep(200);
      peak = std::max(peak, rss_kib(p.processId()));
      QFile out(csv);
      if (out.open(QIODevice::ReadOnly)) rows = out.readAll().count('\n');
    }
    const bool still_running = p.state() == QProcess::Running;
    p.kill();
    p.waitForFinished(5000);
    QVERIFY2(rows >= 2000,
             qPrintable(QString("only %1 rows written after %2 ms").arg(rows).arg(timer.elapsed())));
    QVERIFY2(still_running, "the sweep finished before the check: rows were not shown to stream");
    QVERIFY2(peak > 0 && peak < 100 * 1024, qPrintable(QString("peak RSS %1 KiB").arg(peak)));
  }
};

QTEST_GUILESS_MAIN(TestHostileSweep)
#include "test_hostile_sweep.moc"
