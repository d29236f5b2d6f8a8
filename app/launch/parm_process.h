// One `parm` subcommand as a child process (QProcess, never blocking the GUI thread): writes the current
// configuration to a temporary JSON file, starts `parm`, reports its output line by line and its "[i/n]"
// progress, cancels (SIGTERM, which parm forwards to its mpirun, then SIGKILL after a grace period) and ends
// with finished(ok, one line). After a run that stored into the open project, the project is re-read and
// every run it gained is announced with runAppeared.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QProcess>
#include <QTemporaryDir>

#include "app/launch/parm_command.h"

class QTimer;

namespace parm::app {

class Project;

class ParmProcess : public QObject {
  Q_OBJECT
 public:
  // An empty `executable` means defaultExecutable().
  explicit ParmProcess(const QString& executable = {}, QObject* parent = nullptr);
  ~ParmProcess() override;  // a running parm is terminated (and killed after the grace period)

  // `parm` next to the application (same folder, or ../engine/parm in the build tree), else the one on PATH.
  static QString defaultExecutable();
  QString executable() const { return executable_; }
  void setExecutable(const QString& executable);

  // The project whose runs a --db launch into the same file adds (may be null).
  void setProject(Project* project);
  // Where start() writes the configuration it is given (a private temporary folder).
  QString configFilePath() const;
  // Milliseconds between SIGTERM and SIGKILL on cancel (default 2000).
  void setCancelGraceMs(int ms) { graceMs_ = ms; }

  // The arguments start() would pass; with `configFile`, spec.config is replaced by configFilePath().
  ParmCommand command(ParmCommandSpec spec, bool configFile) const;

  // Starts parm; `configJson` (if not empty) is written to configFilePath() and passed as the config. False
  // (with finished(false, reason) emitted) when the command is invalid, a run is already going or the file
  // cannot be written.
  bool start(const ParmCommandSpec& spec, const QString& configJson = {});
  void cancel();
  bool isRunning() const;
  QString commandLine() const { return commandLine_; }  // of the last start, shell-quoted
  QString lastErrorLine() const { return lastStderr_; }

 signals:
  void started(const QString& commandLine);
  void outputLine(const QString& line, bool isStderr);
  void progress(int done, int total);  // from "[i/n]" lines: i-1 of n done
  void finished(bool ok, const QString& message);
  void runAppeared(qint64 runId);

 private:
  void readChannel(QProcess::ProcessChannel channel);
  void emitLine(const QString& line, bool isStderr);
  void onFinished(int exitCode, QProcess::ExitStatus status);
  void onError(QProcess::ProcessError error);

  QString executable_;
  QProcess* process_;
  QTimer* killTimer_;
  QTemporaryDir tempDir_;
  QPointer<Project> project_;
  ParmCommandSpec spec_;
  QString commandLine_;
  QByteArray pending_[2];  // partial lines of stdout, stderr
  QString lastStderr_;
  qint64 maxRunBefore_ = 0;
  bool cancelled_ = false;
  bool startFailed_ = false;
  int graceMs_ = 2000;
  QElapsedTimer clock_;
};

}  // namespace parm::app
