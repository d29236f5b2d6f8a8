// The launch area: which `parm` action (check, calibrate, predict, run, validate), where (locally, on an
// emulated cluster, with a hostfile, as a Slurm job from here or from a login host), into which project;
// start and cancel; the exact command line, copyable for cluster use; the live log, progress and a one-line
// status. The configuration (the form's JSON) is the one source of truth: the rank count is shown from its
// parallel.ranks, not held here, and Start is disabled (the reason in its tooltip) while it has errors.
#pragma once

#include <QWidget>
#include <optional>

#include "app/launch/parm_command.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace parm::app {

class ParmProcess;
class Project;

class LaunchPanel : public QWidget {
  Q_OBJECT
 public:
  // An empty `parmExecutable` means ParmProcess::defaultExecutable().
  explicit LaunchPanel(const QString& parmExecutable = {}, QWidget* parent = nullptr);

  ParmProcess* process() const { return process_; }
  // Runs launched with "store in project" write into this project's file, and its runs list follows.
  void setProject(Project* project);
  void setParmExecutable(const QString& path);

  // The choices as the widgets hold them (config = the file start() writes, db = the project's file).
  ParmCommandSpec spec() const;
  void setAction(ParmAction action);
  void setTarget(LaunchTarget target, const QString& nameOrFile = {});
  void setSlurmTarget(const SlurmTarget& slurm);  // the Slurm row's fields (host, partition, account, time)
  void setCalibrationFile(const QString& path);
  void setStoreInProject(bool store);

  QString commandLine() const;  // shell-quoted, as shown
  QString statusText() const;
  QString logText() const;
  bool isRunning() const;
  // The submitted job's last state as parm reported it ("Slurm job 12: RUNNING on node7"); empty before one.
  QString slurmJobText() const;
  // parallel.ranks of the configuration (0 while it does not parse), and its first error (empty: none).
  int configRanks() const { return configRanks_; }
  QString configError() const { return configError_; }
  bool canStart() const;

 public slots:
  // The configuration JSON to launch, validated here by the engine; empty: parm's embedded default.
  void setConfigText(const QString& json);
  // The same, with what the form already parsed (no second parse): `ranks` its parallel.ranks (0: unknown),
  // `error` the first error the form shows (empty when valid).
  void setConfiguration(const QString& json, int ranks, const QString& error);
  bool start();
  void cancel();
  void copyCommandLine();

 signals:
  void started(const QString& commandLine);
  void finished(bool ok, const QString& message);
  void runAppeared(qint64 runId);
  void slurmJobChanged(const QString& text);

 private:
  void updateCommand();
  void updateTargetWidgets();
  void setStatus(const QString& text, bool error);
  void onFinished(bool ok, const QString& message);
  void onOutputLine(const QString& line, bool isStderr);

  ParmProcess* process_;
  Project* project_ = nullptr;
  QString configText_;
  int configRanks_ = 0;
  QString configError_;
  QComboBox* action_;
  QComboBox* target_;
  QLineEdit* targetName_;
  QWidget* slurmRow_;  // shown for the Slurm target only
  QLineEdit* slurmHost_;
  QLineEdit* slurmRemoteParm_;
  QLineEdit* slurmPartition_;
  QLineEdit* slurmAccount_;
  QLineEdit* slurmTime_;
  QLabel* slurmJob_;
  QLabel* ranks_;
  QLineEdit* calibration_;
  QCheckBox* quick_;
  // predict / validate: the selection space beyond Parm's (pipeline degrees, 2DH AlltoAll)
  QCheckBox* degree2_;
  QCheckBox* degree4_;
  QCheckBox* degree8_;
  QCheckBox* hierarchical_;
  QCheckBox* store_;
  QPushButton* start_;
  QPushButton* cancel_;
  QLineEdit* command_;
  QPushButton* copy_;
  QProgressBar* progress_;
  QLabel* status_;
  QPlainTextEdit* log_;
};

}  // namespace parm::app
