#include "app/launch/slurm_job_line.h"

#include <QRegularExpression>

namespace parm::app {

bool SlurmJobLine::finished() const {
  return state != QLatin1String("SUBMITTED") && state != QLatin1String("PENDING") &&
         state != QLatin1String("RUNNING") && state != QLatin1String("CONFIGURING") &&
         state != QLatin1String("COMPLETING") && state != QLatin1String("SUSPENDED");
}

QString SlurmJobLine::text() const {
  return QStringLiteral("Slurm job %1: %2%3").arg(id, state, detail);
}

std::optional<SlurmJobLine> parseSlurmJobLine(const QString& line) {
  static const QRegularExpression submitted(QStringLiteral(R"(^parm \w+: submitted Slurm job (\d+)\b(.*)$)"));
  static const QRegularExpression state(QStringLiteral(R"(^parm \w+: Slurm job (\d+) ([A-Z_]+)\b(.*)$)"));
  // Our own cancel (Ctrl-C, SIGTERM from the panel's Cancel): "Slurm job 12 [on HOST] cancelled: ...".
  static const QRegularExpression interrupted(
      QStringLiteral(R"(^parm \w+: Slurm job (\d+) (?:on \S+ )?cancelled: (.*)$)"));
  const QString trimmed = line.trimmed();
  if (const auto m = interrupted.match(trimmed); m.hasMatch())
    return SlurmJobLine{m.captured(1), QStringLiteral("CANCELLED"), ": " + m.captured(2)};
  if (const auto m = submitted.match(trimmed); m.hasMatch())
    return SlurmJobLine{m.captured(1), QStringLiteral("SUBMITTED"), m.captured(2)};
  if (const auto m = state.match(trimmed); m.hasMatch())
    return SlurmJobLine{m.captured(1), m.captured(2), m.captured(3)};
  return std::nullopt;
}

}  // namespace parm::app
