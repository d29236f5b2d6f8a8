// File > Import Nsight Systems export: runs `parm import-nsys FILE --db PROJECT` (engine/cli/cli_db.cpp) as a
// child process through ParmProcess, into the open project, and ends with the run it added (or parm's
// one-line reason). One import at a time; the GUI thread never waits for it.
#pragma once

#include <QObject>

namespace parm::app {

class ParmProcess;
class Project;

class NsysImport : public QObject {
  Q_OBJECT
 public:
  // An empty `parmExecutable` means ParmProcess::defaultExecutable().
  NsysImport(Project* project, const QString& parmExecutable, QObject* parent = nullptr);

  // False (finished(false, reason) emitted) when no project is open, an import is running or parm cannot
  // start; else started() follows.
  bool start(const QString& exportFile);
  bool isRunning() const;
  ParmProcess* process() const { return process_; }

 signals:
  void started(const QString& exportFile);
  // ok: the import's run id (> 0); else `message` is the one line saying why (the run id is 0).
  void finished(bool ok, const QString& message, qint64 runId);

 private:
  Project* project_;
  ParmProcess* process_;
  QString file_;
  qint64 imported_ = 0;
};

}  // namespace parm::app
