// A CUDA stream waiting for host work that has not happened yet (cudaStreamWaitEvent on an event not yet
// recorded is a no-op, so events cannot express it): a counter in pinned mapped host memory, raised by the
// host thread that ran the MPI part of a staged collective, waited on by the stream.
//
// The wait is cuStreamWaitValue32 (obtained through cudaGetDriverEntryPointByVersion: no link to libcuda)
// where the driver offers it, because it waits in the stream's front end and holds no SM: with several
// ranks time-slicing one GPU (cuda+mpi), a spinning kernel would keep its context busy through slices the
// peer ranks need for the very work the MPI call waits on. Where the entry point is missing or refuses, a
// one-thread polling kernel (kernels/cuda/host_flag.h) does the same job.
#pragma once

#include <cuda_runtime_api.h>

#include <atomic>
#include <cstdint>

namespace parm::backend::cuda {

class HostSignal {
 public:
  HostSignal();  // pinned mapped memory on the current device; throws std::runtime_error
  ~HostSignal();
  HostSignal(const HostSignal&) = delete;
  HostSignal& operator=(const HostSignal&) = delete;

  // The value the next waiter waits for (one per staged op, in enqueue order on one lane).
  std::uint32_t next_target() { return ++issued_; }
  // Work enqueued on `stream` after this starts once raise(v) with v >= target was called (cyclic).
  void enqueue_wait(cudaStream_t stream, std::uint32_t target);
  // Host side: everything the waiter needs (staged bytes) is written before this store.
  void raise(std::uint32_t value);

  bool uses_driver_wait() const;  // false: the polling kernel

 private:
  volatile std::uint32_t* host_ = nullptr;  // the host's view
  std::uint32_t* device_ = nullptr;         // the device's view of the same word
  std::uint32_t issued_ = 0;                // touched by the enqueuing thread only
};

}  // namespace parm::backend::cuda
