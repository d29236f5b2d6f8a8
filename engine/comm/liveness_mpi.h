// Which ranks still answer. Every rank answers pings while it waits on a collective, so the rank whose wait
// times out can name the peer that stopped (SIGSTOP, a hang, a crash MPI has not noticed yet) instead of
// itself: it is the one that noticed, not the one that failed.
#pragma once

#include <mpi.h>

#include <chrono>
#include <mutex>
#include <vector>

namespace parm::comm {

class Liveness {
 public:
  // Duplicates `world` for its own messages; collective over it.
  explicit Liveness(MPI_Comm world);
  ~Liveness();
  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;

  // Answers the pings that have arrived; cheap, called from every polling wait.
  void serve();

  // Pings every other rank and returns those that did not answer within `window` (ranks of `world`, in
  // order). Keeps answering others for another `window` afterwards, so peers diagnosing the same stall at
  // the same moment see this rank as alive.
  std::vector<int> unresponsive(std::chrono::milliseconds window);

 private:
  void serve_locked();
  void post_ping_receive();

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  std::mutex mutex_;
  MPI_Request ping_receive_ = MPI_REQUEST_NULL;
  int ping_in_ = 0;
  const int ping_out_ = 1;
  const int pong_out_ = 2;
  std::vector<MPI_Request> sends_;  // pings and pongs in flight (tiny, complete on their own)
};

}  // namespace parm::comm
