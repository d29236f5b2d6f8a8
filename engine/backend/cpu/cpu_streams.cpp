#include "engine/backend/cpu/cpu_streams.h"

#include <stdexcept>
#include <utility>

#include "profiler/op_tracer.h"

namespace parm::backend::cpu {

void CpuEvent::synchronize() {
  if (reached_) reached_->wait();
}

bool CpuEvent::done() const {
  return !reached_ || reached_->done();
}

std::int64_t CpuEvent::time_ns() const {
  return time_ns_ ? *time_ns_ : 0;
}

void CpuStream::record(backend::Event& event) {
  auto& e = dynamic_cast<CpuEvent&>(event);
  auto stamp = std::make_shared<std::int64_t>(0);
  e.reached_ = lanes_.submit(
      lane_, [stamp] { *stamp = profiler::now_ns(); }, std::exchange(waits_, {}));
  e.time_ns_ = std::move(stamp);
}

void CpuStream::wait(backend::Event& event) {
  auto& e = dynamic_cast<CpuEvent&>(event);
  if (e.reached_) waits_.push_back(e.reached_);
}

void CpuStream::synchronize() {
  lanes_
      .submit(
          lane_, [] {}, std::exchange(waits_, {}))
      ->wait();
}

void CpuStream::enqueue(std::function<void()> work) {
  lanes_.submit(lane_, std::move(work), std::exchange(waits_, {}));
}

CpuStream& cpu_stream(backend::Stream& stream) {
  auto* s = dynamic_cast<CpuStream*>(&stream);
  if (!s) throw std::logic_error("a cpu op was given another backend's stream");
  return *s;
}

}  // namespace parm::backend::cpu
