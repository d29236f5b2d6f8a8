// The `parm` command line of one launch, as a pure function of what the user chose: the action, the config
// file, the ranks, where it runs (locally, on an emulated cluster, with a hostfile, as a Slurm job), the
// project database and the calibration file. Only flags the subcommand really has are emitted; a combination
// it lacks is an error.
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

namespace parm::app {

// ImportNsys: `parm import-nsys FILE --db PROJECT` (File > Import Nsight Systems export, not in the panel).
enum class ParmAction { Check, Calibrate, Predict, Run, Validate, ImportNsys };
// Slurm (issue 20): `parm run --slurm`, submitted from this machine or over ssh from a login host.
enum class LaunchTarget { Local, Cluster, Hostfile, Slurm };

struct SlurmTarget {
  QString host;  // the login host for --remote (OpenSSH, the user's keys and config); empty: this machine
  QString partition;  // --partition, --account, --time: empty leaves them to the cluster's defaults
  QString account;
  QString timeLimit;
  QString remoteParm;  // --remote-parm: parm's path on the login host; empty: the parm on its PATH
};

struct ParmCommandSpec {
  ParmAction action = ParmAction::Run;
  QString config;  // JSON file or embedded preset name; empty: the subcommand's default
  int ranks = 0;   // 0: parallel.ranks of the config
  LaunchTarget target = LaunchTarget::Local;
  QString targetName;   // cluster name (Cluster) or hostfile path (Hostfile)
  SlurmTarget slurm;    // Slurm
  QString dbPath;       // store into this project file; empty: don't store
  QString calibration;  // calibrate: where to write it (--out); predict/validate: the fits to use
  bool quick = true;    // calibrate --quick
  // predict / validate (issue 19): also select over these pipeline degrees (2, 4, 8: --degrees 1,...) and
  // the hierarchical AlltoAll (--alltoall flat,2dh); other actions refuse them.
  QList<int> degrees;
  bool hierarchical = false;
  QString source;         // import-nsys: the Nsight Systems export (nsys export --type sqlite)
  QStringList extraArgs;  // appended verbatim (e.g. --max-error 10)
};

struct ParmCommand {
  QStringList args;  // after the executable, starting with the subcommand
  QString error;     // one line naming the option and the rule; args are empty then
  bool ok() const { return error.isEmpty(); }
};

QString actionName(ParmAction action);  // the subcommand: "run", "calibrate", ...
ParmCommand buildParmCommand(const ParmCommandSpec& spec);

// POSIX shell quoting: words made only of safe characters stay as they are, others go in single quotes.
QString shellQuote(const QString& word);
QString shellCommandLine(const QString& program, const QStringList& args);

}  // namespace parm::app
