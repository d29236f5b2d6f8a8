// What every hostile-input suite needs: the real `parm` binary run as a user would run it, files written into
// a temporary folder, and the two things each case asserts (the documented exit code, and one stderr line
// that names the field or the file).
#pragma once

#include <QDir>
#include <QFile>
#include <QProcess>  // suites that start a parm in the background
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QtTest>

#include "tests/support/parm_process.h"

namespace hostile {

using Result = parm_test::ProcessResult;  // exit_code -1: crashed (signal), -2: did not finish

// Runs parm with `args` from the source folder; a run that outlives `timeout_ms` is killed and fails the
// test.
inline Result run_parm(const QStringList& args, int timeout_ms = 120000, const QByteArray& stdin_data = {}) {
  return parm_test::run_parm(args, {.timeout_ms = timeout_ms, .stdin_data = stdin_data});
}

inline QString write_file(const QDir& dir, const QString& name, const QByteArray& content) {
  const QString path = dir.filePath(name);
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) qFatal("cannot write %s", qPrintable(path));
  f.write(content);
  return path;
}

// A configuration of the default preset whose "layer" section holds `members` (`"batch": 1e12`).
inline QByteArray layer(const QByteArray& members) {
  return "{\"name\": \"hostile\", \"layer\": {" + members + "}}";
}

// The case's verdict: exit code as documented, no crash, and stderr has a short line mentioning `needle`
// (a field name, a file name or the rule); nothing from a library leaks ("terminate called", "what():",
// "[json.exception").
inline void expect_refused(const Result& r, int exit_code, const QByteArray& needle) {
  const QByteArray all = r.out + r.err;
  QVERIFY2(!r.crashed, qPrintable("crashed:\n" + all));
  QVERIFY2(r.exit_code == exit_code,
           qPrintable(QString("exit %1, expected %2:\n").arg(r.exit_code).arg(exit_code) + all));
  for (const char* leak :
       {"terminate called", "what():", "[json.exception", "Segmentation", "std::bad_alloc"})
    QVERIFY2(!all.contains(leak), qPrintable(QString("library text leaked (%1):\n").arg(leak) + all));
  bool named = false;
  for (const QByteArray& line : r.err.split('\n'))
    if (line.contains(needle) && line.size() <= 400) named = true;
  QVERIFY2(named, qPrintable("no short stderr line names '" + needle + "':\n" + all.left(2000)));
}

}  // namespace hostile
