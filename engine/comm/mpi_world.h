// The MPI world a rank process joins (`parm worker`, `parm calibrate-worker`): the one place outside the
// communicators that calls MPI at world level. It initialises MPI (MPI_THREAD_MULTIPLE, as the lanes need),
// answers this rank's place in the world, runs the few world-wide steps a worker takes around its layer
// (barrier, agreement, gather of results to rank 0) and finalises MPI when it goes out of scope, so every way
// out of a worker (return, refusal, exception) finalises.
#pragma once

#include <string>
#include <vector>

namespace parm::comm {

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
