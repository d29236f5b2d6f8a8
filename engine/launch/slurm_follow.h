// Following a submitted Slurm job to its end (issue 20): its state and Slurm's reason whenever they change,
// its stdout / stderr files streamed to ours as they grow, and SIGINT / SIGTERM to us turned into scancel of
// the job (we submitted it; an interrupted follow never leaves it running unseen).
#pragma once

#include <functional>
#include <string>

#include "engine/launch/slurm_job.h"

namespace parm::slurm {

struct FollowTools {
  std::string scontrol, scancel;
};

struct FollowOutcome {
  JobInfo last;                   // the final (or, when lost, the last seen) state
  bool lost = false;              // scontrol stopped knowing the job before it was seen to finish
  int signal = 0;                 // SIGINT / SIGTERM that made us cancel it; 0 when none
  bool stuck_completing = false;  // still COMPLETING a minute on: Slurm could not end its processes yet
  std::string last_run_line;      // the job's last "parm run: " line on stderr (its own verdict)
};

// Polls `scontrol show job -o ID` every poll_ms until the job finishes; `note` gets one line per state
// change ("PENDING (Resources)", "RUNNING on node1").
FollowOutcome follow_job(const std::string& job_id, const FollowTools& tools, const std::string& out_path,
                         const std::string& err_path, const std::function<void(const std::string&)>& note,
                         int poll_ms = 500);

}  // namespace parm::slurm
