// The executor's tracing (executor.cpp enqueues): names interned for the op tracer, the NVTX string of every
// op and pipeline step registered once, and the GPU capture's launch brackets, kept balanced across a pass
// that threw.
#include <string>
#include <vector>

#include "engine/run/executor.h"

namespace parm {
namespace {

int pass_index(Direction d) {
  return d == Direction::Forward ? 0 : 1;
}

// The name an op is traced (and NVTX-labelled) under: the collective's kind, or the local op's name.
std::string trace_name(const Op& o) {
  return o.communicates() ? std::string(to_string(o.kind)) : o.name();
}

}  // namespace

template <typename T>
void LayerExecutor<T>::register_nvtx_messages() {
  using profiler::NvtxRanges;
  const std::vector<Op>* lists[2] = {&schedule_.forward, &schedule_.backward};
  for (int d = 0; d < 2; ++d) {
    for (const Op& op : *lists[d]) {
      std::vector<profiler::NvtxMessage> messages;
      if (op.kind == OpKind::Pipeline) {
        for (const Stage& st : op.stages)
          messages.push_back(NvtxRanges::register_message(op.name() + ":" + std::string(to_string(st.kind))));
        messages.push_back(NvtxRanges::register_message(op.name()));
      } else {
        messages.push_back(NvtxRanges::register_message(trace_name(op)));
      }
      nvtx_messages_[d].push_back(std::move(messages));
    }
  }
}

template <typename T>
void LayerExecutor<T>::set_gpu_capture(backend::ActivityCapture* capture, profiler::NvtxRangeLog* nvtx_log) {
  close_open_brackets();
  capture_ = capture && capture->unavailable().empty() ? capture : nullptr;
  nvtx_.record_into(nvtx_log);
}

template <typename T>
void LayerExecutor<T>::set_trace(profiler::OpTracer* tracer, std::int32_t iteration,
                                 const std::string& purpose_prefix) {
  tracer_ = tracer;
  trace_iteration_ = iteration;
  if (!tracer_ || !trace_ids_[0].empty()) return;
  trace_schedule_ = tracer_->intern(to_string(schedule_.kind));
  const std::vector<Op>* lists[2] = {&schedule_.forward, &schedule_.backward};
  for (int d = 0; d < 2; ++d) {
    for (const Op& op : *lists[d]) {
      std::vector<TraceIds> ids;
      if (op.kind == OpKind::Pipeline) {
        for (const Stage& st : op.stages)
          ids.push_back({tracer_->intern(op.name() + ":" + std::string(to_string(st.kind))),
                         tracer_->intern(to_string(st.group)), tracer_->intern(purpose_prefix + op.label)});
      } else {
        ids.push_back({tracer_->intern(trace_name(op)), tracer_->intern(to_string(op.group)),
                       tracer_->intern(purpose_prefix + op.label)});
      }
      trace_ids_[d].push_back(std::move(ids));
    }
  }
}

template <typename T>
const typename LayerExecutor<T>::TraceIds* LayerExecutor<T>::ids_of(std::size_t op_index,
                                                                    std::size_t stage) const {
  if (!tracer_) return nullptr;
  return &trace_ids_[pass_index(direction_)][op_index][stage];
}

template <typename T>
void LayerExecutor<T>::close_open_brackets() {
  if (launch_open_ && capture_) capture_->pop_launch();
  launch_open_ = false;
  for (; open_ranges_ > 0; --open_ranges_) nvtx_.pop();
}

#define PARM_INSTANTIATE_TRACING(T)                                                                    \
  template void LayerExecutor<T>::register_nvtx_messages();                                            \
  template void LayerExecutor<T>::set_gpu_capture(backend::ActivityCapture*, profiler::NvtxRangeLog*); \
  template void LayerExecutor<T>::set_trace(profiler::OpTracer*, std::int32_t, const std::string&);    \
  template const LayerExecutor<T>::TraceIds* LayerExecutor<T>::ids_of(std::size_t, std::size_t) const; \
  template void LayerExecutor<T>::close_open_brackets();
PARM_INSTANTIATE_TRACING(float)
PARM_INSTANTIATE_TRACING(double)
PARM_INSTANTIATE_TRACING(Bf16)
PARM_INSTANTIATE_TRACING(F16)
#undef PARM_INSTANTIATE_TRACING

}  // namespace parm
