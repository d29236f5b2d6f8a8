#include "parm_process.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QProcess>
#include <QProcessEnvironment>
#include <QtGlobal>

namespace parm_test {

namespace {

// What a process that outlived its timeout was doing: its threads' stacks (gdb, when the machine has it, 20 s
// at most) and the kernel's view, so a hang seen once in CI can be read afterwards instead of guessed at.
QByteArray hang_report(qint64 pid) {
  QByteArray report = "\n--- hang report for pid " + QByteArray::number(pid) + " ---\n";
  QFile status(QStringLiteral("/proc/%1/status").arg(pid));
  if (status.open(QIODevice::ReadOnly))
    for (const QByteArray& line : status.readAll().split('\n'))
      if (line.startsWith("State:") || line.startsWith("Threads:")) report += line + '\n';
  QFile wchan(QStringLiteral("/proc/%1/wchan").arg(pid));
  if (wchan.open(QIODevice::ReadOnly)) report += "wchan: " + wchan.readAll() + '\n';
  QProcess gdb;
  gdb.start(QStringLiteral("gdb"),
            {"-batch", "-nx", "-p", QString::number(pid), "-ex", "thread apply all bt 12"});
  if (gdb.waitForStarted(2000) && gdb.waitForFinished(20000)) {
    for (const QByteArray& line : gdb.readAllStandardOutput().split('\n'))
      if (line.startsWith('#') || line.startsWith("Thread ")) report += line.left(200) + '\n';
  } else {
    gdb.kill();
    gdb.waitForFinished(2000);
    report += "(no gdb backtrace)\n";
  }
  return report;
}

}  // namespace

ProcessResult run_program(const QString& program, const QStringList& args, const ProcessOptions& options) {
  ProcessResult result;
  result.command = (QStringList{program} + args).join(' ');
  QProcess p;
  if (!options.working_directory.isEmpty()) p.setWorkingDirectory(options.working_directory);
  if (!options.environment.isEmpty()) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const auto& [name, value] : options.environment) env.insert(name, value);
    p.setProcessEnvironment(env);
  }
  QElapsedTimer clock;
  clock.start();
  p.start(program, args);
  if (!options.stdin_data.isEmpty()) p.write(options.stdin_data);
  p.closeWriteChannel();  // a program that reads stdin sees end of file, never waits on the test
  if (!p.waitForFinished(options.timeout_ms)) {
    const QByteArray hang = p.state() == QProcess::Running ? hang_report(p.processId()) : QByteArray();
    p.kill();
    p.waitForFinished(5000);
    result.elapsed_ms = clock.elapsed();
    result.out = p.readAllStandardOutput();
    result.err = p.readAllStandardError() + hang;
    if (p.error() == QProcess::FailedToStart) {
      result.crashed = true;
      result.err += "failed to start: " + p.errorString().toUtf8();
      return result;
    }
    if (options.fatal_on_timeout)
      qFatal("%s did not finish within %d ms%s", qPrintable(result.command), options.timeout_ms,
             hang.constData());
    qWarning("%s did not finish within %d ms%s", qPrintable(result.command), options.timeout_ms,
             hang.constData());
    result.exit_code = -2;
    result.timed_out = true;
    return result;
  }
  result.elapsed_ms = clock.elapsed();
  result.out = p.readAllStandardOutput();
  result.err = p.readAllStandardError();
  result.crashed = p.exitStatus() != QProcess::NormalExit;
  result.exit_code = result.crashed ? -1 : p.exitCode();
  return result;
}

QString source_directory() {
  return QStringLiteral(PARM_TEST_SOURCE_DIR);
}

QString parm_executable() {
  return QStringLiteral(PARM_TEST_PARM_EXE);
}

ProcessResult run_parm(const QStringList& args, const ProcessOptions& options) {
  return run_program(parm_executable(), args, options);
}

QByteArray output_of_success(const ProcessResult& result) {
  if (result.exit_code != 0)
    qFatal("%s failed (exit %d%s):\n%s\n%s", qPrintable(result.command), result.exit_code,
           result.timed_out ? ", timed out" : "", result.out.constData(), result.err.constData());
  return result.out;
}

QJsonObject json_object_of(const QByteArray& bytes) {
  QJsonParseError error{};
  const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
  if (error.error != QJsonParseError::NoError)
    qFatal("not JSON: %s\n%s", qPrintable(error.errorString()), bytes.left(2000).constData());
  return doc.object();
}

}  // namespace parm_test
