#include "app/calibration/calibration_environment.h"

#include <QObject>
#include <QStringList>
#include <map>

namespace parm::app {
namespace {

QString q(const std::string& s) {
  return QString::fromStdString(s);
}

// "2 x cpu" for identical devices, else each rank's device.
QString devicesText(const std::vector<std::string>& devices) {
  std::map<std::string, int> counts;
  for (const auto& d : devices) ++counts[d];
  QStringList parts;
  if (counts.size() == 1) return QStringLiteral("%1 x %2").arg(devices.size()).arg(q(devices.front()));
  for (std::size_t r = 0; r < devices.size(); ++r)
    parts << QStringLiteral("rank %1 %2").arg(r).arg(q(devices[r]));
  return parts.join(QStringLiteral(", "));
}

}  // namespace

QString calibrationSummary(const Calibration& c) {
  const ParallelConfig& l = c.layout;
  QString text =
      QObject::tr("%1 made %2 on %3: %4 backend%5, %6, P %7, G %8, MP %9, ESP %10; interference %11x")
          .arg(c.id.empty() ? QObject::tr("calibration") : q(c.id))
          .arg(c.created_at.empty() ? QObject::tr("(time not recorded)") : q(c.created_at))
          .arg(c.host.empty() ? QObject::tr("(host not recorded)") : q(c.host))
          .arg(q(c.backend))
          .arg(c.cluster.empty() ? QString() : QObject::tr(" (emulated cluster %1)").arg(q(c.cluster)))
          .arg(QString::fromUtf8(to_string(c.dtype)))
          .arg(l.ranks)
          .arg(l.gpus_per_node)
          .arg(l.mp)
          .arg(l.esp)
          .arg(c.interference, 0, 'f', 2);
  return text;
}

QString calibrationEnvironment(const Calibration& c) {
  QStringList lines;
  if (!c.transport.empty()) lines << QObject::tr("Transport: %1").arg(q(c.transport));
  if (!c.comm_library.empty()) lines << QObject::tr("Communication library: %1").arg(q(c.comm_library));
  if (!c.devices.empty()) lines << QObject::tr("Devices: %1").arg(devicesText(c.devices));
  if (!c.nccl_env.empty()) {
    QStringList vars;
    for (const auto& [name, value] : c.nccl_env) vars << q(name) + QLatin1Char('=') + q(value);
    lines << QObject::tr("NCCL variables: %1").arg(vars.join(QStringLiteral(" ")));
  }
  if (!c.nccl_topology.empty()) lines << QObject::tr("Topology: %1").arg(q(c.nccl_topology));
  if (lines.isEmpty())
    return QObject::tr("Run environment not recorded (a calibration made before parm recorded it)");
  return lines.join(QLatin1Char('\n'));
}

}  // namespace parm::app
