// What `parm run --slurm` says about its job on stderr (engine/cli/slurm_submit.cpp), read back for the
// launch panel: "parm run: submitted Slurm job 12 (...)", "parm run: Slurm job 12 PENDING (Resources)",
// "... RUNNING on node7", and the last line "... COMPLETED on node7; ...", "... FAILED (exit code 1): ...",
// "... CANCELLED ...", "... TIMEOUT: ...". The same lines come back over ssh from a login host (--remote).
#pragma once

#include <QString>
#include <optional>

namespace parm::app {

struct SlurmJobLine {
  QString id;      // Slurm's job id
  QString state;   // SUBMITTED, PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ...
  QString detail;  // the rest of the line as parm wrote it: " (Resources)", " on node7", ": it ran past ..."
  bool finished() const;  // a state the job does not leave
  QString text() const;   // "Slurm job 12: PENDING (Resources)"
};

// Empty for any other line (a rank's output, the summary, progress).
std::optional<SlurmJobLine> parseSlurmJobLine(const QString& line);

}  // namespace parm::app
