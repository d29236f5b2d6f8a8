// The one way a suite brings an emulated cluster (`parm cluster`) under test: whether this process may (root,
// `ip netns add` permitted), what of a named cluster exists now, and a guard that takes it down on every way
// out that runs destructors. Part of parm_test_support.
#pragma once

#include <QString>
#include <QStringList>
#include <utility>

namespace parm_test {

// Everything of cluster `name` that exists now: namespaces, /etc/netns entries, the state directory.
QStringList cluster_leftovers(const QString& name);

// True when this process can bring up an emulated cluster; otherwise false with *why set to one line
// ("needs root (network namespaces)", "`ip netns add` not permitted: ...").
bool cluster_usable(QString* why);

// `parm cluster down --name NAME` when destroyed (a failed or interrupted suite leaves nothing behind).
class ClusterTeardown {
 public:
  explicit ClusterTeardown(QString name) : name_(std::move(name)) {}
  ~ClusterTeardown();
  ClusterTeardown(const ClusterTeardown&) = delete;
  ClusterTeardown& operator=(const ClusterTeardown&) = delete;

 private:
  QString name_;
};

}  // namespace parm_test
