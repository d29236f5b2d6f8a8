#include "app/launch/nsys_import.h"

#include <QFileInfo>
#include <algorithm>

#include "app/launch/parm_command.h"
#include "app/launch/parm_process.h"
#include "app/launch/project.h"

namespace parm::app {

NsysImport::NsysImport(Project* project, const QString& parmExecutable, QObject* parent)
    : QObject(parent), project_(project), process_(new ParmProcess(parmExecutable, this)) {
  process_->setProject(project_);
  connect(process_, &ParmProcess::runAppeared, this,
          [this](qint64 id) { imported_ = std::max(imported_, id); });
  connect(process_, &ParmProcess::finished, this, [this](bool ok, const QString& message) {
    if (ok && imported_ == 0)
      emit finished(false, tr("%1: parm import-nsys finished but the project has no new run").arg(file_), 0);
    else
      emit finished(
          ok, ok ? tr("Imported %1 as run %2").arg(QFileInfo(file_).fileName()).arg(imported_) : message,
          ok ? imported_ : 0);
  });
}

bool NsysImport::isRunning() const {
  return process_->isRunning();
}

bool NsysImport::start(const QString& exportFile) {
  if (!project_ || !project_->isOpen()) {
    emit finished(false, tr("Open or create a project first: the import is stored in it"), 0);
    return false;
  }
  file_ = exportFile;
  imported_ = 0;
  ParmCommandSpec spec;
  spec.action = ParmAction::ImportNsys;
  spec.source = QFileInfo(exportFile).absoluteFilePath();
  spec.dbPath = project_->path();
  if (!process_->start(spec)) return false;  // finished(false, why) came through the process already
  emit started(exportFile);
  return true;
}

}  // namespace parm::app
