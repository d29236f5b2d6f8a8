#include "engine/backend/cuda/cuda_backend.h"

#include <array>
#include <exception>
#include <stdexcept>
#include <string>

#include "engine/backend/cuda/caching_allocator.h"
#include "engine/backend/cuda/cuda_device.h"
#include "engine/backend/cuda/cuda_parts.h"
#include "engine/backend/cuda/cuda_streams.h"
#include "engine/backend/cuda/cupti_capture.h"
#include "engine/backend/cuda/device_allocator.h"
#include "engine/backend/cuda/device_selection.h"

namespace parm::backend::cuda {
namespace {

int chosen_device(const BackendOptions& options) {
  const int ordinal = select_device_ordinal(options, cuda_device_count(options.kind));
  check_cuda(cudaSetDevice(ordinal), "cudaSetDevice");
  return ordinal;
}

struct CublasHandle {
  cublasHandle_t handle = nullptr;
  CublasHandle() { check_cublas(cublasCreate(&handle), "cublasCreate"); }
  ~CublasHandle() { cublasDestroy(handle); }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
};

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const BackendOptions& options)
      : options_(options),
        ordinal_(chosen_device(options)),
        description_(describe_cuda_device(ordinal_)),
        raw_(ordinal_),
        allocator_(raw_),
        clock_(ordinal_),
        streams_{std::make_unique<CudaStream>(Lane::Compute, ordinal_, clock_, &context_),
                 std::make_unique<CudaStream>(Lane::Intra, ordinal_, clock_, &context_),
                 std::make_unique<CudaStream>(Lane::Inter, ordinal_, clock_, &context_)} {
    context_.device = ordinal_;
    context_.cublas = cublas_.handle;
    context_.allocator = &allocator_;
    context_.kind = options.kind;
    context_.local_rank = options.local_rank;
    context_.local_size = options.local_size;
    context_.timeout = options.timeout;
    description_.comm_library = comm_library_text(options.kind);
  }
  ~CudaBackend() override {
    try {
      synchronize_streams();  // queued kernels use buffers whose owners free them after this
    } catch (...) {
      // The failure was reported by whoever synchronized first.
    }
  }

  std::string_view name() const override { return to_string(options_.kind); }
  Allocator& allocator() override { return allocator_; }
  Stream& stream(Lane lane) override { return *streams_[static_cast<std::size_t>(lane)]; }
  std::unique_ptr<Event> make_event() override { return std::make_unique<CudaEvent>(ordinal_, &context_); }
  std::int64_t event_time_ns(const Event& event) const override {
    const auto* e = dynamic_cast<const CudaEvent*>(&event);
    if (!e) throw std::logic_error("event_time_ns: not a cuda backend event");
    return clock_.host_ns(*e);
  }
  Compute<float>& compute_f32() override { return lazy(f32_); }
  Compute<double>& compute_f64() override { return lazy(f64_); }
  Compute<Bf16>& compute_bf16() override { return lazy(bf16_); }
  Compute<F16>& compute_f16() override { return lazy(f16_); }
  BlockCompute<float>& blocks_f32() override {
    if (!blocks_f32_) blocks_f32_ = make_cuda_blocks<float>(context_);
    return *blocks_f32_;
  }
  BlockCompute<double>& blocks_f64() override {
    if (!blocks_f64_) blocks_f64_ = make_cuda_blocks<double>(context_);
    return *blocks_f64_;
  }

  StreamGroups make_groups(const comm::CommGroups& transport) override {
    if (options_.kind == parm::Backend::CudaMpi) return make_staged_groups(transport, context_);
    return make_nccl_groups(transport, context_);
  }

  void synchronize() override {
    synchronize_streams();
    clock_.reanchor_if_stale();  // every stream is idle: keep the float milliseconds of event times short
  }
  DeviceDescription device() const override { return description_; }
  MemoryStats memory_stats() const override { return allocator_.stats(); }
  // CUPTI (profiler/cupti), process-wide: a second live capture reports itself unavailable.
  std::unique_ptr<ActivityCapture> start_activity_capture() override { return make_cupti_capture(); }

 private:
  // Made on first use: a run in one dtype never builds the others' kernels state.
  template <typename T>
  Compute<T>& lazy(std::unique_ptr<Compute<T>>& compute) {
    if (!compute) compute = make_cuda_compute<T>(context_);
    return *compute;
  }
  void synchronize_streams() {
    std::exception_ptr first;
    for (const auto& s : streams_) {
      try {
        s->synchronize();
      } catch (...) {
        if (!first) first = std::current_exception();
      }
    }
    if (first) std::rethrow_exception(first);
  }

  BackendOptions options_;
  int ordinal_;
  DeviceDescription description_;
  DeviceRawAllocator raw_;
  CachingAllocator allocator_;
  EventClock clock_;
  std::array<std::unique_ptr<CudaStream>, kLaneCount> streams_;
  CublasHandle cublas_;
  CudaContext context_;
  // Destroyed first: their state holds buffers of allocator_ and uses cublas_.
  std::unique_ptr<Compute<float>> f32_;
  std::unique_ptr<Compute<double>> f64_;
  std::unique_ptr<Compute<Bf16>> bf16_;
  std::unique_ptr<Compute<F16>> f16_;
  std::unique_ptr<BlockCompute<float>> blocks_f32_;
  std::unique_ptr<BlockCompute<double>> blocks_f64_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& options) {
  return std::make_unique<CudaBackend>(options);
}

}  // namespace parm::backend::cuda
