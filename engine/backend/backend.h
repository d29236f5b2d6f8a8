// One backend instance per rank: its memory, its three streams (one per lane), events, the local ops
// (Compute<T>) and the rank's groups on its streams. `run.backend` picks it (make_backend); a backend this
// build lacks is refused before any rank starts (backend_availability.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "engine/backend/activity_capture.h"
#include "engine/backend/block_compute.h"
#include "engine/backend/buffer.h"
#include "engine/backend/compute.h"
#include "engine/backend/stream.h"
#include "engine/backend/stream_communicator.h"
#include "engine/comm/communicator.h"
#include "engine/core/config.h"
#include "kernels/half_types.h"

namespace parm::backend {

// The device a backend computes on, as `parm run` prints it and the ranks table stores it.
struct DeviceDescription {
  std::string name;               // "NVIDIA H200", or "cpu"
  int ordinal = -1;               // CUDA ordinal; -1 for the host
  std::int64_t memory_bytes = 0;  // device memory (0 for the host)
  std::string driver;             // "CUDA driver 13.0, runtime 13.0"; empty for the host
  // GPU properties for TARGET_INFO_GPU (0 / empty for the host).
  std::string bus_location{};  // "0000:1b:00.0"
  std::string uuid{};          // "GPU-xxxxxxxx-..."
  int sm_count = 0, compute_major = 0, compute_minor = 0;
  std::int64_t clock_rate_khz = 0, memory_bandwidth_bytes_s = 0, l2_cache_bytes = 0;
  std::string comm_library{};  // "NCCL 2.28.9" on cuda; empty where MPI carries the collectives
};

// What the backend's allocator has done since it was made: for "no cudaMalloc in the iteration loop" and
// peak device memory.
struct MemoryStats {
  std::int64_t live_bytes = 0;          // held by buffers now
  std::int64_t peak_bytes = 0;          // most held at once
  std::int64_t device_allocations = 0;  // calls into the device allocator (cudaMalloc; host: operator new)
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  virtual Allocator& allocator() = 0;
  virtual Stream& stream(Lane lane) = 0;
  virtual std::unique_ptr<Event> make_event() = 0;
  // Host-clock time (profiler::now_ns base) the event's latest record was reached; the event is done.
  virtual std::int64_t event_time_ns(const Event& event) const = 0;
  virtual Compute<float>& compute_f32() = 0;
  virtual Compute<double>& compute_f64() = 0;
  // 16-bit storage with fp32 accumulation; a backend without them throws std::runtime_error naming the
  // dtype and what it computes instead (the cpu backend: fp32 and fp64 only).
  virtual Compute<Bf16>& compute_bf16() = 0;
  virtual Compute<F16>& compute_f16() = 0;
  // The Transformer blocks of a whole model (issue 18). A backend without them throws std::runtime_error
  // naming itself (today: the cuda backends; `parm run` refuses such a model run before any rank starts).
  virtual BlockCompute<float>& blocks_f32();
  virtual BlockCompute<double>& blocks_f64();
  // The rank's groups on this backend's streams, over the transport groups the worker bootstrap built
  // (which stay usable from the host for barriers, verification and the capacity agreement).
  virtual StreamGroups make_groups(const comm::CommGroups& transport) = 0;
  // Every stream; rethrows the first failure.
  virtual void synchronize() = 0;
  virtual DeviceDescription device() const = 0;
  virtual MemoryStats memory_stats() const = 0;
  // Starts capturing what the device runs (CUPTI on cuda; one capture per process); nullptr where the backend
  // has no device activity of its own (cpu). A capture that cannot start says why in unavailable().
  virtual std::unique_ptr<ActivityCapture> start_activity_capture() { return nullptr; }

  template <typename T>
  Compute<T>& compute();
  template <typename T>
  BlockCompute<T>& blocks();
};

template <>
inline Compute<float>& Backend::compute<float>() {
  return compute_f32();
}
template <>
inline Compute<double>& Backend::compute<double>() {
  return compute_f64();
}
template <>
inline Compute<Bf16>& Backend::compute<Bf16>() {
  return compute_bf16();
}
template <>
inline Compute<F16>& Backend::compute<F16>() {
  return compute_f16();
}

template <typename T>
inline BlockCompute<T>& Backend::blocks() {
  if constexpr (std::is_same_v<T, float>) {
    return blocks_f32();
  } else if constexpr (std::is_same_v<T, double>) {
    return blocks_f64();
  } else {
    throw std::runtime_error("a whole model runs in fp32 or fp64 (layer.dtype)");
  }
}

// What a rank's backend needs to know about where it runs.
struct BackendOptions {
  parm::Backend kind = parm::Backend::Cpu;
  int rank = 0;        // world rank, for the messages that refuse a placement
  int local_rank = 0;  // the rank's index among the ranks of its host: picks its device
  int local_size = 1;  // ranks on this host
  std::chrono::milliseconds timeout{60'000};  // bound on every collective wait (NCCL's watchdog)
};

// The backend `kind` names; throws std::runtime_error for one this build has no layer engine for.
std::unique_ptr<Backend> make_backend(parm::Backend kind);
std::unique_ptr<Backend> make_backend(const BackendOptions& options);

}  // namespace parm::backend
