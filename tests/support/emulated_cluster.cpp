#include "tests/support/emulated_cluster.h"

#include <unistd.h>

#include <QDir>
#include <QRegularExpression>

#include "tests/support/parm_process.h"

namespace parm_test {

QStringList cluster_leftovers(const QString& name) {
  QStringList out;
  const QRegularExpression re("^parm-" + name + "-(sw|n[0-9]+)$");
  for (const QString& dir : {QString("/run/netns"), QString("/etc/netns")})
    for (const QString& entry : QDir(dir).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::System))
      if (re.match(entry).hasMatch()) out << dir + "/" + entry;
  if (QDir("/run/parm-cluster/" + name).exists()) out << "/run/parm-cluster/" + name;
  return out;
}

bool cluster_usable(QString* why) {
  if (::geteuid() != 0) {
    *why = "needs root (network namespaces)";
    return false;
  }
  const QString probe = QString("parm-probe%1").arg(::getpid());
  const ProcessResult add = run_program("ip", {"netns", "add", probe});
  run_program("ip", {"netns", "del", probe});
  if (add.exit_code != 0) *why = "`ip netns add` not permitted: " + QString::fromUtf8(add.err).trimmed();
  return add.exit_code == 0;
}

ClusterTeardown::~ClusterTeardown() {
  run_parm({"cluster", "down", "--name", name_});
}

}  // namespace parm_test
