// `parm calibrate` as users call it: a quick calibration of a tiny 4-rank layout (2 nodes x 2) writes a
// calibration JSON with every fit the cost model needs, stores the fits with --db, and a bad layout is
// refused before any rank starts.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <nlohmann/json.hpp>

#include "db/database.h"
#include "engine/model/calibration.h"
#include "tests/support/parm_process.h"

namespace {

using Result = parm_test::ProcessResult;

Result run_parm(const QStringList& args, const QString& cwd, int timeout_ms = 60000) {
  return parm_test::run_parm(args, {.working_directory = cwd, .timeout_ms = timeout_ms});
}

QString write_tiny(const QTemporaryDir& dir, int mp = 2) {
  const QString path = dir.filePath("tiny.json");
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(QString(R"({"name": "tiny",
    "layer": {"batch": 2, "seq_len": 8, "hidden": 8, "ffn_hidden": 16, "num_experts": 4, "top_k": 2},
    "parallel": {"ranks": 2, "gpus_per_node": 2, "mp": %1, "esp": %1},
    "run": {"warmup": 1, "iterations": 2}})")
              .arg(mp)
              .toUtf8());
  return path;
}

}  // namespace

class TestCliParmCalibrate : public QObject {
  Q_OBJECT
 private slots:
  void quickCalibrationWritesEveryFit() {
    QTemporaryDir dir;
    const QString out = dir.filePath("calib.json");
    const QString db = dir.filePath("project.sqlite");
    const Result r = run_parm({"calibrate", write_tiny(dir), "--ranks", "4", "--gpus-per-node", "2",
                               "--quick", "--out", out, "--db", db},
                              dir.path());
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY2(r.elapsed_ms < 30000, qPrintable(QString::number(r.elapsed_ms)));
    // nccl-tests style: a #-commented header with units, then the rows.
    QVERIFY2(r.out.contains("# alltoall on EP"), r.out.constData());
    QVERIFY2(r.out.contains("(GB/s)"), r.out.constData());
    QVERIFY2(r.out.contains("algbw") && r.out.contains("busbw"), r.out.constData());
    QVERIFY2(r.err.contains("parm calibrate:"), r.err.constData());  // progress
    // Every size's data checked (nccl-tests -c 1), and where it ran.
    QVERIFY2(r.out.contains("#wrong"), r.out.constData());
    QVERIFY2(r.out.contains("# backend cpu: collectives over "), r.out.constData());
    QVERIFY2(r.out.contains("# devices: 4 x cpu"), r.out.constData());

    parm::Calibration c;
    try {
      std::ifstream in(out.toStdString());
      c = parm::calibration_from_json(nlohmann::json::parse(in));
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
    QCOMPARE(c.layout.ranks, std::int64_t{4});
    QCOMPARE(c.layout.gpus_per_node, std::int64_t{2});
    QCOMPARE(c.layout.mp, std::int64_t{2});
    QCOMPARE(c.layout.esp, std::int64_t{2});
    QVERIFY(c.interference >= 1.0);
    for (const char* op : {"alltoall", "allgather", "reducescatter", "allreduce", "p2p", "gemm", "experts",
                           "experts_bwd", "copy"}) {
      const parm::CalibrationFit* f = c.find(op);
      QVERIFY2(f != nullptr, op);
      QVERIFY2(f->fit.beta > 0, op);
      QVERIFY2(f->fit.r2 > -1e9 && f->fit.r2 <= 1.0 + 1e-9,
               op);  // present and a coefficient of determination
      QVERIFY2(f->fit.samples >= 2, op);
      QVERIFY2(f->samples.size() >= 2, op);
    }
    // The overhead fits (non-negative lines; beta may be 0 on a quiet machine): one point per measured size.
    for (const char* op : {"sync", "pipeline"}) {
      const parm::CalibrationFit* f = c.find(op);
      QVERIFY2(f != nullptr, op);
      QVERIFY2(f->fit.alpha >= 0 && f->fit.beta >= 0, op);
      QCOMPARE(f->samples.size(), std::size_t{3});
      QCOMPARE(f->group_size, 2);
    }
    // The chunked layer's residual (issue 19): one sample per chunk count run, 2 and more, increasing.
    QVERIFY2(r.out.contains("# chunk (S2 at pipeline degree r)"), r.out.constData());
    const parm::CalibrationFit* chunk = c.find("chunk");
    QVERIFY(chunk != nullptr);
    QVERIFY(!chunk->samples.empty() && chunk->samples.size() <= 3);
    for (std::size_t i = 0; i < chunk->samples.size(); ++i) {
      QVERIFY(chunk->samples[i].n >= 2);
      if (i > 0) QVERIFY(chunk->samples[i].n > chunk->samples[i - 1].n);
    }
    QCOMPARE(c.find("alltoall")->communicator, std::string("EP"));
    // N_MP = G: one EP rank per node, so 2DH is the flat AlltoAll and its sub-groups are not measured.
    QVERIFY(!c.find("alltoall", "EP-intra") && !c.find("alltoall", "EP-inter"));
    QVERIFY2(r.out.contains("not measured: the hierarchical AlltoAll is the flat one"), r.out.constData());
    QCOMPARE(c.find("allgather")->communicator, std::string("MP"));
    QCOMPARE(c.find("allgather")->group_size, 2);
    QCOMPARE(c.backend, std::string("cpu"));
    QVERIFY(!c.transport.empty());
    QVERIFY(c.comm_library.empty());
    QCOMPARE(c.devices, (std::vector<std::string>(4, "cpu")));
    QVERIFY(c.nccl_topology.empty());
    QVERIFY2(c.find("experts")->shape.find("Hs ") != std::string::npos, c.find("experts")->shape.c_str());

    const auto database = parm::db::Database::open(db.toStdString(), false);
    const auto runs = database.runs();
    QCOMPARE(runs.size(), std::size_t{1});
    QCOMPARE(runs[0].kind, std::string("calibration"));
    QVERIFY(runs[0].complete);
    QCOMPARE(runs[0].backend, std::string("cpu"));
    const auto rows = database.calibrations(runs[0].id);
    QCOMPARE(rows.size(), c.fits.size());
    for (const auto& row : rows) QVERIFY2(row.samples >= 2, row.op.c_str());
  }

  // N_MP = 1 on 2 nodes x 2: the hierarchical AlltoAll's two sub-groups (2 ranks each) are measured and
  // fitted under their own names, after the EP fit the cost model reads first.
  void quickCalibrationMeasuresTheTwoDhSubGroups() {
    QTemporaryDir dir;
    const QString out = dir.filePath("calib.json");
    const Result r = run_parm(
        {"calibrate", write_tiny(dir, 1), "--ranks", "4", "--gpus-per-node", "2", "--quick", "--out", out},
        dir.path());
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY2(r.out.contains("# alltoall on EP-intra (2 ranks)"), r.out.constData());
    QVERIFY2(r.out.contains("# alltoall on EP-inter (2 ranks)"), r.out.constData());
    std::ifstream in(out.toStdString());
    const parm::Calibration c = parm::calibration_from_json(nlohmann::json::parse(in));
    QCOMPARE(c.find("alltoall")->communicator, std::string("EP"));
    QCOMPARE(c.find("alltoall")->group_size, 4);
    for (const char* group : {"EP-intra", "EP-inter"}) {
      const parm::CalibrationFit* f = c.find("alltoall", group);
      QVERIFY2(f != nullptr, group);
      QCOMPARE(f->group_size, 2);
      QVERIFY2(f->fit.beta > 0 && f->samples.size() >= 2, group);
    }
  }

  void invalidLayoutIsRefusedBeforeStarting() {
    QTemporaryDir dir;
    const Result r = run_parm(
        {"calibrate", write_tiny(dir), "--ranks", "3", "--quick", "--out", dir.filePath("calib.json")},
        dir.path());
    QCOMPARE(r.exit_code, 2);
    QVERIFY2(r.elapsed_ms < 2000, qPrintable(QString::number(r.elapsed_ms)));
    QVERIFY(r.out.isEmpty());
    QVERIFY2(r.err.contains("parallel.mp") || r.err.contains("parallel.ranks"), r.err.constData());
    QVERIFY2(!r.err.contains("starting"), r.err.constData());
    QVERIFY(!QFile::exists(dir.filePath("calib.json")));
  }

  void badSizeIsRefused() {
    QTemporaryDir dir;
    const Result r = run_parm({"calibrate", write_tiny(dir), "--ranks", "4", "-b", "lots"}, dir.path());
    QCOMPARE(r.exit_code, 2);
    QVERIFY2(r.err.contains("-b lots"), r.err.constData());
  }
};

QTEST_GUILESS_MAIN(TestCliParmCalibrate)
#include "test_cli_parm_calibrate.moc"
