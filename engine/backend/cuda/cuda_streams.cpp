#include "engine/backend/cuda/cuda_streams.h"

#include <stdexcept>
#include <string>

#include "engine/backend/cuda/comm_watch.h"
#include "engine/backend/cuda/cuda_parts.h"
#include "engine/backend/cuda/event_clock.h"
#include "profiler/op_tracer.h"

namespace parm::backend::cuda {
namespace {

CudaEvent& cuda_event(backend::Event& event) {
  auto* e = dynamic_cast<CudaEvent*>(&event);
  if (!e) throw std::logic_error("a cuda stream was given another backend's event");
  return *e;
}

}  // namespace

EventAnchor::~EventAnchor() {
  if (event) cudaEventDestroy(event);
}

CudaEvent::CudaEvent(int device, const CudaContext* watch) : watch_(watch) {
  check_cuda(cudaSetDevice(device), "cudaSetDevice");
  check_cuda(cudaEventCreate(&event_), "cudaEventCreate");  // timing on: op times are elapsed times
}

CudaEvent::~CudaEvent() {
  cudaEventDestroy(event_);
}

void CudaEvent::synchronize() {
  if (watch_) wait_watching_comm(*watch_, [this] { return cudaEventQuery(event_) != cudaErrorNotReady; });
  check_cuda(cudaEventSynchronize(event_), "cudaEventSynchronize");
}

bool CudaEvent::done() const {
  const cudaError_t status = cudaEventQuery(event_);
  if (status == cudaErrorNotReady) return false;
  check_cuda(status, "cudaEventQuery");
  return true;
}

EventClock::EventClock(int device) : device_(device) {
  check_cuda(cudaSetDevice(device_), "cudaSetDevice");
  check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  reanchor();
}

EventClock::~EventClock() {
  {
    std::lock_guard lock(mutex_);
    current_.reset();
  }
  cudaStreamDestroy(stream_);
}

void EventClock::reanchor() {
  auto anchor = std::make_shared<EventAnchor>();
  check_cuda(cudaSetDevice(device_), "cudaSetDevice");
  check_cuda(cudaEventCreate(&anchor->event), "cudaEventCreate (anchor)");
  const std::int64_t before = profiler::now_ns();
  check_cuda(cudaEventRecord(anchor->event, stream_), "cudaEventRecord (anchor)");
  check_cuda(cudaEventSynchronize(anchor->event), "cudaEventSynchronize (anchor)");
  anchor->host_ns = anchor_host_ns(before, profiler::now_ns());
  std::lock_guard lock(mutex_);
  current_ = std::move(anchor);
}

void EventClock::reanchor_if_stale() {
  if (anchor_is_stale(current()->host_ns, profiler::now_ns())) reanchor();
}

std::shared_ptr<const EventAnchor> EventClock::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::int64_t EventClock::host_ns(const CudaEvent& event) const {
  if (!event.anchor_) throw std::logic_error("event_time_ns of an event that was never recorded");
  check_cuda(cudaEventSynchronize(event.event_), "cudaEventSynchronize");
  float elapsed_ms = 0;
  check_cuda(cudaEventElapsedTime(&elapsed_ms, event.anchor_->event, event.event_), "cudaEventElapsedTime");
  return event_host_ns(event.anchor_->host_ns, elapsed_ms);
}

CudaStream::CudaStream(Lane lane, int device, EventClock& clock, const CudaContext* watch)
    : lane_(lane), device_(device), clock_(clock), watch_(watch) {
  check_cuda(cudaSetDevice(device_), "cudaSetDevice");
  check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
}

CudaStream::~CudaStream() {
  cudaSetDevice(device_);
  cudaStreamDestroy(stream_);
}

void CudaStream::record(backend::Event& event) {
  CudaEvent& e = cuda_event(event);
  e.anchor_ = clock_.current();
  check_cuda(cudaEventRecord(e.event_, stream_), "cudaEventRecord");
}

void CudaStream::wait(backend::Event& event) {
  check_cuda(cudaStreamWaitEvent(stream_, cuda_event(event).event_, 0), "cudaStreamWaitEvent");
}

void CudaStream::synchronize() {
  if (watch_) wait_watching_comm(*watch_, [this] { return cudaStreamQuery(stream_) != cudaErrorNotReady; });
  check_cuda(cudaStreamSynchronize(stream_),
             (std::string("cudaStreamSynchronize (") + std::string(to_string(lane_)) + " stream)").c_str());
}

cudaStream_t cuda_stream_of(Stream& stream) {
  auto* s = dynamic_cast<CudaStream*>(&stream);
  if (!s) throw std::logic_error("cuda_stream_of: not a cuda backend stream");
  return s->handle();
}

}  // namespace parm::backend::cuda
