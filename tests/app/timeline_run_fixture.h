// The project both timeline suites read: a real 4-rank `parm run --db` of the default preset with the given
// schedules (1 warm-up, 3 iterations), and `parm predict --db` with a calibration written here for its layout
// (4 ranks, 2 per node, MP = ESP = 2; no micro-benchmarks). Needs PARM_EXE and PARM_SOURCE_DIR.
#pragma once

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QtTest>

#include "db/database.h"

namespace parm::test {

inline QByteArray runParm(const QStringList& args) {
  QProcess p;
  p.setWorkingDirectory(PARM_SOURCE_DIR);
  p.setProcessChannelMode(QProcess::MergedChannels);
  p.start(PARM_EXE, args);
  if (!p.waitForFinished(120000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
    p.kill();
    qFatal("parm %s failed:\n%s", qPrintable(args.join(' ')), p.readAll().constData());
  }
  return p.readAll();
}

inline void writeJson(const QString& path, const QJsonObject& o) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(QJsonDocument(o).toJson());
}

struct TimelineRunIds {
  qint64 measured = 0;
  qint64 prediction = 0;
};

// Writes config.json, cal.json and the two runs into `db` (in folder `dir`); returns their run ids.
inline TimelineRunIds writeTimelineRun(const QString& dir, const QString& db, const QJsonArray& schedules) {
  QFile preset(QStringLiteral(PARM_SOURCE_DIR "/resources/presets/default.json"));
  if (!preset.open(QIODevice::ReadOnly)) qFatal("cannot read the default preset");
  QJsonObject config = QJsonDocument::fromJson(preset.readAll()).object();
  QJsonObject run = config["run"].toObject();
  run["schedules"] = schedules;
  run["warmup"] = 1;
  run["iterations"] = 3;
  config["run"] = run;
  const QString cfg = dir + "/config.json";
  writeJson(cfg, config);
  runParm({"run", cfg, "--ranks", "4", "--db", db});
  auto fit = [](const char* op, const char* comm, int n, double alpha, double beta) {
    return QJsonObject{{"op", op},       {"communicator", comm}, {"group_size", n},
                       {"alpha", alpha}, {"beta", beta},         {"r2", 1.0}};
  };
  const QJsonArray fits{fit("alltoall", "EP", 2, 0.05, 3e-7),    fit("p2p", "EP", 2, 0.02, 4e-7),
                        fit("allgather", "MP", 2, 0.02, 2.4e-7), fit("reducescatter", "MP", 2, 0.03, 3.7e-7),
                        fit("allreduce", "MP", 2, 0.02, 6e-7),   fit("gemm", "local", 1, 0.1, 4.5e-8),
                        fit("gate", "local", 1, 0.0, 1e-6),      fit("order", "local", 1, 0.0, 9e-7),
                        fit("combine", "local", 1, 0.0, 4e-7)};
  const QString cal = dir + "/cal.json";
  writeJson(cal, {{"id", "calib-timeline-test"},
                  {"layout", QJsonObject{{"ranks", 4}, {"gpus_per_node", 2}, {"mp", 2}, {"esp", 2}}},
                  {"dtype", "fp32"},
                  {"interference", 1.0},
                  {"fits", fits}});
  runParm({"predict", cfg, "--calibration", cal, "--db", db});
  TimelineRunIds ids;
  const auto database = db::Database::open(db.toStdString(), false);
  for (const auto& r : database.runs()) {
    if (r.kind == "measured") ids.measured = r.id;
    if (r.kind == "prediction") ids.prediction = r.id;
  }
  return ids;
}

}  // namespace parm::test
