// The calibration harness, in the manner of nccl-tests (spec style.md section 2): the size sweep (-b/-e/-f),
// warm-up and timed iterations, and the reduction over ranks. Every op family (compute.h, collectives.h,
// overheads.h, pipeline.h) measures through the harness, so how an op is timed lives in one place: an op the
// executor enqueues is enqueued the same way on the rank's backend and timed by two events recorded around it
// on its stream (`time_enqueued`: on a GPU the kernels, not the launches); a whole executor pass, which
// waits for its streams itself, by host clocks around the call (`time_op`).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/comm/mpi_world.h"

namespace parm::calibrate {

struct SweepOptions {
  std::int64_t begin = 64 * 1024;       // -b, bytes
  std::int64_t end = 16 * 1024 * 1024;  // -e, bytes
  double factor = 4;                    // -f
  int iters = 20;                       // -n
  int warmup = 5;                       // -w
  bool quick = false;                   // 3 sizes: b, the geometric middle and e
};

// The swept message sizes: b, b*f, ... up to e; quick mode: b, the geometric middle and e.
std::vector<std::int64_t> sweep_sizes(std::int64_t b, std::int64_t e, double f, bool quick);
std::vector<std::int64_t> sweep_sizes(const SweepOptions& sweep);

class Harness {
 public:
  Harness(const comm::MpiWorld& world, const SweepOptions& sweep) : world_(world), sweep_(sweep) {}

  // `warmup` calls, a world barrier, `iters` timed calls; the median call of the slowest rank, in ms. The
  // median rather than nccl-tests' mean: on a shared machine one descheduled call would otherwise move a
  // 3-size quick fit by 2x or more.
  double time_op(const std::function<void()>& op, int iters, int warmup) const;
  double time_op(const std::function<void()>& op) const { return time_op(op, sweep_.iters, sweep_.warmup); }

  // What `enqueue` puts on the backend's streams, starting on `first` and ending on `last` (`enqueue` orders
  // `last` after its work on other streams), timed by events on `last` between calls: `warmup` calls, a
  // world barrier, `iters` timed calls enqueued back to back (each waits for the previous one); the median
  // call of the slowest rank, in ms. What a call allocates must outlive the call's synchronization.
  double time_enqueued(backend::Backend& backend, backend::Stream& first, backend::Stream& last,
                       const std::function<void()>& enqueue, int iters, int warmup) const;
  double time_enqueued(backend::Backend& backend, backend::Stream& first, backend::Stream& last,
                       const std::function<void()>& enqueue) const {
    return time_enqueued(backend, first, last, enqueue, sweep_.iters, sweep_.warmup);
  }
  double time_enqueued(backend::Backend& backend, backend::Stream& stream,
                       const std::function<void()>& enqueue, int iters, int warmup) const {
    return time_enqueued(backend, stream, stream, enqueue, iters, warmup);
  }
  double time_enqueued(backend::Backend& backend, backend::Stream& stream,
                       const std::function<void()>& enqueue) const {
    return time_enqueued(backend, stream, stream, enqueue, sweep_.iters, sweep_.warmup);
  }

  // `op` enqueued `iters` times on `stream` while `background`, enqueued as often before it on another
  // stream, runs concurrently: `warmup` calls of `op`, a world barrier, then the mean call of the slowest
  // rank between two events on `stream`, in ms.
  double time_enqueued_during(backend::Backend& backend, backend::Stream& stream,
                              const std::function<void()>& op, const std::function<void()>& background) const;

  const SweepOptions& sweep() const { return sweep_; }
  int rank() const { return world_.rank(); }
  double max(double mine) const { return world_.max(mine); }  // over every rank
  void barrier() const { world_.barrier(); }
  void progress(const std::string& line) const;  // rank 0, on stderr

 private:
  const comm::MpiWorld& world_;
  SweepOptions sweep_;
};

}  // namespace parm::calibrate
