// One way for tests to start `parm` (or another program) as a user would: arguments, extra environment, a
// working folder, stdin closed, a timeout that kills what outlives it, and everything it printed.
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>
#include <utility>

namespace parm_test {

struct ProcessResult {
  int exit_code = -1;  // -1: ended by a signal (crashed); -2: killed after the timeout
  QByteArray out;
  QByteArray err;
  bool crashed = false;
  bool timed_out = false;
  qint64 elapsed_ms = 0;
  QString command;  // program and arguments, for failure messages
};

// The source folder: relative paths such as resources/presets/tc1.json resolve there.
QString source_directory();

struct ProcessOptions {
  QString working_directory = source_directory();  // empty: this test's own working folder
  int timeout_ms = 120000;
  QList<std::pair<QString, QString>> environment{};  // added to (or replacing in) this process's environment
  QByteArray stdin_data{};                           // written, then stdin is closed (it always is)
  bool fatal_on_timeout = false;                     // qFatal instead of returning exit_code -2
};

// Starts `program` and waits for it; a start failure is reported as a crash.
ProcessResult run_program(const QString& program, const QStringList& args,
                          const ProcessOptions& options = {});

// The `parm` binary of this build (PARM_TEST_PARM_EXE).
QString parm_executable();
ProcessResult run_parm(const QStringList& args, const ProcessOptions& options = {});

// Stdout of a run that must succeed; any other ending stops the suite with the command and both streams.
QByteArray output_of_success(const ProcessResult& result);

// The JSON object `bytes` hold (a `--json` stdout, an exported file); anything else stops the suite with the
// parser's reason and the start of the text.
QJsonObject json_object_of(const QByteArray& bytes);

}  // namespace parm_test
