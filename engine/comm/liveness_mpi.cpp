#include "engine/comm/liveness_mpi.h"

#include <algorithm>
#include <thread>

namespace parm::comm {
namespace {

constexpr int kPingTag = 0x11fe;
constexpr int kPongTag = 0x11ff;

}  // namespace

Liveness::Liveness(MPI_Comm world) {
  MPI_Comm_dup(world, &comm_);
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  post_ping_receive();
}

Liveness::~Liveness() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (ping_receive_ != MPI_REQUEST_NULL) {
    MPI_Cancel(&ping_receive_);
    MPI_Wait(&ping_receive_, MPI_STATUS_IGNORE);  // a cancelled receive completes at once
  }
  for (MPI_Request& r : sends_)
    if (r != MPI_REQUEST_NULL) MPI_Request_free(&r);
  MPI_Comm_free(&comm_);
}

void Liveness::post_ping_receive() {
  MPI_Irecv(&ping_in_, 1, MPI_INT, MPI_ANY_SOURCE, kPingTag, comm_, &ping_receive_);
}

void Liveness::serve() {
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (lock.owns_lock()) serve_locked();  // another thread is serving (or diagnosing) already
}

void Liveness::serve_locked() {
  for (;;) {
    int flag = 0;
    MPI_Status status{};
    if (ping_receive_ == MPI_REQUEST_NULL || MPI_Test(&ping_receive_, &flag, &status) != MPI_SUCCESS || !flag)
      break;
    MPI_Request pong = MPI_REQUEST_NULL;
    if (MPI_Isend(&pong_out_, 1, MPI_INT, status.MPI_SOURCE, kPongTag, comm_, &pong) == MPI_SUCCESS)
      sends_.push_back(pong);
    post_ping_receive();
  }
  std::erase_if(sends_, [](MPI_Request& r) {
    int flag = 0;
    MPI_Test(&r, &flag, MPI_STATUS_IGNORE);
    return flag != 0;
  });
}

std::vector<int> Liveness::unresponsive(std::chrono::milliseconds window) {
  std::lock_guard lock(mutex_);
  std::vector<MPI_Request> pongs(static_cast<std::size_t>(size_), MPI_REQUEST_NULL);
  std::vector<int> answers(static_cast<std::size_t>(size_), 0);
  for (int r = 0; r < size_; ++r) {
    if (r == rank_) continue;
    const auto i = static_cast<std::size_t>(r);
    MPI_Irecv(&answers[i], 1, MPI_INT, r, kPongTag, comm_, &pongs[i]);
    MPI_Request ping = MPI_REQUEST_NULL;
    if (MPI_Isend(&ping_out_, 1, MPI_INT, r, kPingTag, comm_, &ping) == MPI_SUCCESS) sends_.push_back(ping);
  }
  const auto deadline = std::chrono::steady_clock::now() + window;
  bool all = false;
  while (!all && std::chrono::steady_clock::now() < deadline) {
    serve_locked();
    all = true;
    for (MPI_Request& p : pongs) {
      if (p == MPI_REQUEST_NULL) continue;
      int flag = 0;
      MPI_Test(&p, &flag, MPI_STATUS_IGNORE);
      all = all && flag != 0;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::vector<int> silent;
  for (int r = 0; r < size_; ++r) {
    MPI_Request& p = pongs[static_cast<std::size_t>(r)];
    if (p == MPI_REQUEST_NULL) continue;
    silent.push_back(r);
    MPI_Cancel(&p);
    MPI_Wait(&p, MPI_STATUS_IGNORE);
  }
  const auto linger = std::chrono::steady_clock::now() + window;
  while (std::chrono::steady_clock::now() < linger) {
    serve_locked();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return silent;
}

}  // namespace parm::comm
