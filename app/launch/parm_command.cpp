#include "app/launch/parm_command.h"

#include <QRegularExpression>
#include <utility>

namespace parm::app {

QString actionName(ParmAction action) {
  switch (action) {
    case ParmAction::Check:
      return QStringLiteral("check");
    case ParmAction::Calibrate:
      return QStringLiteral("calibrate");
    case ParmAction::Predict:
      return QStringLiteral("predict");
    case ParmAction::Run:
      return QStringLiteral("run");
    case ParmAction::Validate:
      return QStringLiteral("validate");
    case ParmAction::ImportNsys:
      return QStringLiteral("import-nsys");
  }
  return {};
}

// Mirrors each subcommand's --help (engine/cli/cli_*.cpp): which of --ranks, --cluster, --hostfile, --db and
// the calibration flags it takes.
ParmCommand buildParmCommand(const ParmCommandSpec& s) {
  const QString sub = actionName(s.action);
  const bool usesRanks =
      s.action == ParmAction::Calibrate || s.action == ParmAction::Run || s.action == ParmAction::Validate;
  const bool takesDb = s.action != ParmAction::Check;
  const auto fail = [&](const QString& why) {
    return ParmCommand{{}, QStringLiteral("parm %1: %2").arg(sub, why)};
  };

  if (s.action == ParmAction::ImportNsys) {  // engine/cli/cli_db.cpp: FILE --db PROJECT, nothing else
    if (s.source.trimmed().isEmpty())
      return fail(QStringLiteral("needs the Nsight Systems export (nsys export --type sqlite)"));
    if (s.dbPath.isEmpty()) return fail(QStringLiteral("--db: required (the project to import into)"));
    if (s.target != LaunchTarget::Local)
      return fail(QStringLiteral("runs no ranks, so it only runs locally"));
    return {QStringList{sub, s.source, "--db", s.dbPath} << s.extraArgs, {}};
  }
  QStringList a{sub};
  if (!s.config.isEmpty()) a << s.config;
  if (s.ranks < 0) return fail(QStringLiteral("--ranks %1: must be positive").arg(s.ranks));
  if (s.ranks > 0 && usesRanks) a << "--ranks" << QString::number(s.ranks);
  switch (s.target) {
    case LaunchTarget::Local:
      break;
    case LaunchTarget::Cluster:
      if (!usesRanks) return fail(QStringLiteral("--cluster: runs no ranks, so it only runs locally"));
      if (s.targetName.trimmed().isEmpty())
        return fail(QStringLiteral("--cluster: needs the cluster's name"));
      a << "--cluster" << s.targetName.trimmed();
      break;
    case LaunchTarget::Hostfile:
      if (s.action != ParmAction::Run)
        return fail(
            QStringLiteral("--hostfile: only `parm run` takes a hostfile (use --cluster, or start it on "
                           "the cluster itself)"));
      if (s.targetName.trimmed().isEmpty()) return fail(QStringLiteral("--hostfile: needs a file"));
      a << "--hostfile" << s.targetName.trimmed();
      break;
    case LaunchTarget::Slurm: {
      if (s.action != ParmAction::Run)
        return fail(
            QStringLiteral("--slurm: only `parm run` submits a Slurm job (calibrate and validate run "
                           "inside an allocation: salloc)"));
      a << "--slurm";
      if (s.slurm.host.trimmed().isEmpty() && !s.slurm.remoteParm.trimmed().isEmpty())
        return fail(QStringLiteral("--remote-parm: needs a login host (--remote)"));
      const std::pair<const char*, QString> fields[] = {{"--remote", s.slurm.host},
                                                        {"--remote-parm", s.slurm.remoteParm},
                                                        {"--partition", s.slurm.partition},
                                                        {"--account", s.slurm.account},
                                                        {"--time", s.slurm.timeLimit}};
      for (const auto& [flag, value] : fields) {
        const QString word = value.trimmed();
        if (word.isEmpty()) continue;
        if (word.contains(QRegularExpression(QStringLiteral("\\s"))))
          return fail(QStringLiteral("%1 '%2': one word, no spaces").arg(QLatin1String(flag), word));
        a << QLatin1String(flag) << word;
      }
      // The job stores its run in the project; from a desktop that file must be on a folder both see.
      if (!s.slurm.host.trimmed().isEmpty() && s.dbPath.isEmpty())
        return fail(
            QStringLiteral("--remote: needs \"Store in the project\" (the run comes back through the "
                           "project, on a folder the login host shares)"));
      break;
    }
  }
  switch (s.action) {
    case ParmAction::Calibrate:
      a << "--out" << (s.calibration.isEmpty() ? QStringLiteral("calibration.json") : s.calibration);
      if (s.quick) a << "--quick";
      break;
    case ParmAction::Predict:
    case ParmAction::Validate: {
      if (s.calibration.isEmpty())
        return fail(QStringLiteral("--calibration: required (a file written by parm calibrate)"));
      a << "--calibration" << s.calibration;
      QStringList degrees{QStringLiteral("1")};
      for (int r : s.degrees) {
        if (r != 2 && r != 4 && r != 8)
          return fail(QStringLiteral("--degrees %1: a pipeline degree is 2, 4 or 8 beside 1").arg(r));
        if (!degrees.contains(QString::number(r))) degrees << QString::number(r);
      }
      if (degrees.size() > 1) a << "--degrees" << degrees.join(u',');
      if (s.hierarchical)
        a << "--alltoall"
          << "flat,2dh";
      break;
    }
    default:
      if (!s.degrees.isEmpty() || s.hierarchical)
        return fail(QStringLiteral("--degrees/--alltoall: only predict and validate select over them"));
      break;
  }
  if (takesDb && !s.dbPath.isEmpty()) a << "--db" << s.dbPath;
  a << s.extraArgs;
  return {a, {}};
}

QString shellQuote(const QString& word) {
  static const QRegularExpression safe(QStringLiteral("^[A-Za-z0-9_@%+=:,./-]+$"));
  if (safe.match(word).hasMatch()) return word;
  QString out = word;
  out.replace(u'\'', QStringLiteral("'\\''"));
  return u'\'' + out + u'\'';
}

QString shellCommandLine(const QString& program, const QStringList& args) {
  QStringList words{shellQuote(program)};
  for (const QString& a : args) words << shellQuote(a);
  return words.join(u' ');
}

}  // namespace parm::app
