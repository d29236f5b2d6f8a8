// The MPI world a rank process joins (`parm worker`, `parm calibrate-worker`): the one place outside the
// communicators that calls MPI at world level. It initialises MPI (MPI_THREAD_MULTIPLE, as the lanes need),
// answers this rank's place in the world, runs the few world-wide steps a worker takes around its layer
// (barrier, agreement, gather of results to rank 0) and finalises MPI when it goes out of scope, so every way
// out of a worker (return, refusal, exception) finalises.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace parm::comm {

// This rank's place among the ranks of its host: which GPU it uses (backend cuda / cuda+mpi).
struct LocalPlacement {
  int local_rank = 0;
  int local_size = 1;
  bool operator==(const LocalPlacement&) const = default;
};

// What the launcher says, read through `env` (getenv in production): Open MPI's
// OMPI_COMM_WORLD_LOCAL_RANK / _LOCAL_SIZE, else Slurm's SLURM_LOCALID with SLURM_NTASKS_PER_NODE or
// SLURM_TASKS_PER_NODE ("4(x2),3") at SLURM_NODEID; nullopt when neither answers completely.
std::optional<LocalPlacement> local_placement_from_env(const std::function<const char*(const char*)>& env);

// The ranks sharing this rank's node by MPI_Comm_split_type(MPI_COMM_TYPE_SHARED): collective over the
// world; MPI must be initialised.
LocalPlacement local_placement_from_split();

// The launcher's answer, else the split (then collective over the world: every rank must call it).
LocalPlacement local_placement();

class MpiWorld {
 public:
  MpiWorld();  // throws CommError when MPI cannot give MPI_THREAD_MULTIPLE
  ~MpiWorld();
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

  void barrier() const;
  double max(double mine) const;  // over every rank
  int min(int mine) const;

  // Rank 0 receives every rank's bytes (index = rank); the others get an empty vector. Throws
  // std::length_error on rank 0 when the total exceeds one MPI message (2 GiB).
  std::vector<std::string> gather_to_root(const std::string& mine) const;

  // Takes every rank down (a failed rank must not leave its peers waiting on a collective).
  [[noreturn]] void abort(int code) const;

 private:
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace parm::comm
