// A read-only place for a test's project file, as this machine allows. Tests often run as root, where file
// permissions are not enforced, so: a read-only bind mount of the folder (root with CAP_SYS_ADMIN), else the
// immutable attribute on the file (chattr +i, which binds root too), else (not root) a read-only file and
// folder. `file` is empty when none could be made (the caller skips). Undone on destruction, so the temporary
// folder can be removed whatever the test did; destroy whatever holds the file open first.
#pragma once

#include <unistd.h>

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace hostile {

struct ReadOnlyPlace {
  QString dir, view, file, how;
  bool mounted = false, immutable = false, chmodded = false;

  // `name` in the folder `folder`; `mount_point` (created) is where the read-only view goes.
  ReadOnlyPlace(const QString& folder, const QString& mount_point, const QString& name)
      : dir(folder), view(mount_point) {
    QDir().mkpath(view);
    if (::geteuid() == 0 && tool("mount", {"--bind", dir, view})) {
      mounted = true;
      if (tool("mount", {"-o", "remount,ro,bind", view})) {
        file = view + "/" + name;
        how = "read-only bind mount";
        return;
      }
      unmount();
    }
    file = dir + "/" + name;
    if (tool("chattr", {"+i", file})) {
      immutable = true;
      how = "immutable file";
    } else if (::geteuid() != 0) {
      chmodded = QFile::setPermissions(file, QFile::ReadOwner) &&
                 QFile::setPermissions(dir, QFile::ReadOwner | QFile::ExeOwner);
      if (chmodded) how = "read-only file and folder";
    }
    if (how.isEmpty()) file.clear();
  }
  ReadOnlyPlace(const ReadOnlyPlace&) = delete;
  ReadOnlyPlace& operator=(const ReadOnlyPlace&) = delete;
  ~ReadOnlyPlace() {
    unmount();
    if (immutable) tool("chattr", {"-i", file});
    if (chmodded) {
      QFile::setPermissions(dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
      QFile::setPermissions(file, QFile::ReadOwner | QFile::WriteOwner);
    }
  }

 private:
  static bool tool(const QString& program, const QStringList& args) {
    QProcess p;
    p.start(program, args);
    return p.waitForFinished(30000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
  }
  void unmount() {
    if (mounted) tool("umount", {view});
    mounted = false;
  }
};

}  // namespace hostile
