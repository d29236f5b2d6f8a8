#include "app/launch/parm_process.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStandardPaths>
#include <QTimer>
#include <utility>

#include "app/launch/project.h"
#include "app/models/run_list_model.h"

namespace parm::app {

ParmProcess::ParmProcess(const QString& executable, QObject* parent)
    : QObject(parent), process_(new QProcess(this)), killTimer_(new QTimer(this)) {
  setExecutable(executable);
  killTimer_->setSingleShot(true);
  connect(killTimer_, &QTimer::timeout, process_, &QProcess::kill);
  connect(process_, &QProcess::readyReadStandardOutput, this,
          [this] { readChannel(QProcess::StandardOutput); });
  connect(process_, &QProcess::readyReadStandardError, this,
          [this] { readChannel(QProcess::StandardError); });
  connect(process_, &QProcess::finished, this, &ParmProcess::onFinished);
  connect(process_, &QProcess::errorOccurred, this, &ParmProcess::onError);
}

ParmProcess::~ParmProcess() {
  if (!isRunning()) return;
  process_->disconnect(this);
  process_->terminate();
  if (!process_->waitForFinished(graceMs_)) {
    process_->kill();
    process_->waitForFinished(1000);
  }
}

QString ParmProcess::defaultExecutable() {
  const QDir dir(QCoreApplication::applicationDirPath());
  for (const QString& candidate : {dir.filePath("parm"), dir.filePath("../engine/parm")})
    if (QFileInfo(candidate).isExecutable() && QFileInfo(candidate).isFile())
      return QDir::cleanPath(candidate);
  const QString onPath = QStandardPaths::findExecutable("parm");
  return onPath.isEmpty() ? QStringLiteral("parm") : onPath;
}

void ParmProcess::setExecutable(const QString& executable) {
  executable_ = executable.isEmpty() ? defaultExecutable() : executable;
}

void ParmProcess::setProject(Project* project) {
  project_ = project;
}

QString ParmProcess::configFilePath() const {
  return tempDir_.isValid() ? tempDir_.filePath("config.json")
                            : QDir::temp().filePath("parm-studio-config.json");
}

bool ParmProcess::isRunning() const {
  return process_->state() != QProcess::NotRunning;
}

ParmCommand ParmProcess::command(ParmCommandSpec spec, bool configFile) const {
  if (configFile) spec.config = configFilePath();
  return buildParmCommand(spec);
}

bool ParmProcess::start(const ParmCommandSpec& spec, const QString& configJson) {
  const auto refuse = [this](const QString& why) {
    emit finished(false, why);
    return false;
  };
  if (isRunning()) return refuse(tr("parm %1 is still running").arg(actionName(spec_.action)));
  const ParmCommand cmd = command(spec, !configJson.isEmpty());
  if (!cmd.ok()) return refuse(cmd.error);
  if (!configJson.isEmpty()) {
    QSaveFile f(configFilePath());
    if (!f.open(QIODevice::WriteOnly) || f.write(configJson.toUtf8()) < 0 || !f.commit())
      return refuse(tr("%1: cannot write the configuration (%2)").arg(configFilePath(), f.errorString()));
  }
  spec_ = spec;
  cancelled_ = false;
  lastStderr_.clear();
  pending_[0].clear();
  pending_[1].clear();
  maxRunBefore_ = project_ && project_->isOpen() ? project_->runs()->maxRunId() : 0;
  commandLine_ = shellCommandLine(executable_, cmd.args);
  // Relative paths (calibration.json, hostfiles) resolve next to the project, as on the command line there.
  process_->setWorkingDirectory(project_ && project_->isOpen() ? QFileInfo(project_->path()).absolutePath()
                                                               : QDir::currentPath());
  process_->setProcessChannelMode(QProcess::SeparateChannels);
  clock_.start();
  startFailed_ = false;
  process_->start(executable_, cmd.args, QIODevice::ReadOnly);
  if (startFailed_) return false;  // finished(false, ...) was emitted already
  emit started(commandLine_);
  return true;
}

void ParmProcess::cancel() {
  if (!isRunning()) return;
  cancelled_ = true;
  process_->terminate();
  killTimer_->start(graceMs_);
}

void ParmProcess::readChannel(QProcess::ProcessChannel channel) {
  const bool err = channel == QProcess::StandardError;
  process_->setReadChannel(channel);
  QByteArray& buffer = pending_[err ? 1 : 0];
  buffer += process_->readAll();
  qsizetype start = 0;
  for (qsizetype i = 0; i < buffer.size(); ++i) {
    if (buffer[i] != '\n' && buffer[i] != '\r') continue;
    emitLine(QString::fromUtf8(buffer.mid(start, i - start)), err);
    start = i + 1;
  }
  buffer.remove(0, start);
}

void ParmProcess::emitLine(const QString& line, bool isStderr) {
  if (line.trimmed().isEmpty()) return;
  if (isStderr) lastStderr_ = line.trimmed();
  static const QRegularExpression step(QStringLiteral("\\[(\\d+)/(\\d+)\\]"));
  if (const auto m = step.match(line); m.hasMatch())
    emit progress(m.captured(1).toInt() - 1, m.captured(2).toInt());
  emit outputLine(line, isStderr);
}

void ParmProcess::onFinished(int exitCode, QProcess::ExitStatus status) {
  killTimer_->stop();
  readChannel(QProcess::StandardOutput);
  readChannel(QProcess::StandardError);
  for (int c = 0; c < 2; ++c)
    if (!pending_[c].isEmpty()) emitLine(QString::fromUtf8(std::exchange(pending_[c], {})), c == 1);

  const QString sub = QStringLiteral("parm ") + actionName(spec_.action);
  const bool ok = !cancelled_ && status == QProcess::NormalExit && exitCode == 0;
  QString message;
  if (cancelled_)
    message = tr("%1 cancelled").arg(sub);
  else if (status != QProcess::NormalExit)
    message = tr("%1 was killed%2")
                  .arg(sub, lastStderr_.isEmpty() ? QString() : QStringLiteral(": ") + lastStderr_);
  else if (exitCode != 0)
    message = lastStderr_.isEmpty() ? tr("%1 failed (exit code %2)").arg(sub).arg(exitCode) : lastStderr_;
  else
    message = tr("%1 finished in %2 s").arg(sub).arg(clock_.elapsed() / 1000.0, 0, 'f', 1);

  // Runs stored into the open project (even by a failed validate: its runs are there) appear now.
  if (project_ && project_->isOpen() && !spec_.dbPath.isEmpty() &&
      QFileInfo(spec_.dbPath).absoluteFilePath() == project_->path()) {
    project_->refresh();
    const RunListModel* runs = project_->runs();
    for (int r = 0; r < runs->rowCount(); ++r)
      if (const auto* row = runs->row(r); row->id > maxRunBefore_) emit runAppeared(row->id);
  }
  emit finished(ok, message);
}

void ParmProcess::onError(QProcess::ProcessError error) {
  if (error != QProcess::FailedToStart) return;  // crashes end in onFinished
  startFailed_ = true;
  emit finished(false, tr("%1: cannot start (%2)").arg(executable_, process_->errorString()));
}

}  // namespace parm::app
