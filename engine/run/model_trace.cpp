// ModelExecutor's tracing: the blocks' compute sections, their tensor-parallel AllReduces (group "TP": the
// MP group's ranks, numbered apart from the MoE layers' own MP collectives) and the data-parallel gradient
// AllReduces (group "DP"), each the interval between two events on its stream, recorded into the op tracer
// once the step has run.
#include <string_view>
#include <utility>

#include "engine/backend/element_type.h"
#include "engine/run/model_executor.h"

namespace parm {

template <typename T>
void ModelExecutor<T>::set_trace(profiler::OpTracer* tracer, std::int32_t iteration,
                                 const std::string& label) {
  tracer_ = tracer;
  trace_iteration_ = iteration;
  if (tracer_) trace_schedule_ = tracer_->intern(label);
  for (Moe& moe : moe_) moe.layer->set_trace(tracer, iteration, block_purpose(moe.block) + " ");
}

template <typename T>
void ModelExecutor<T>::trace_interval(Lane lane, backend::Event* start, backend::Event* end, const char* op,
                                      const char* group, const std::string& purpose, std::int64_t bytes) {
  if (!tracer_) return;
  profiler::TraceEvent e;
  e.lane = static_cast<std::int32_t>(lane);
  e.schedule = trace_schedule_;
  e.op = tracer_->intern(op);
  e.group = tracer_->intern(group);
  e.purpose = tracer_->intern(purpose);
  const bool tp = std::string_view(group) == "TP", dp = std::string_view(group) == "DP";
  e.comm = tp ? layout_.mp_group : (dp ? layout_.mp_index : -1);
  e.seq = tp ? seq_mp_++ : (dp ? seq_dp_++ : -1);
  e.iteration = trace_iteration_;
  e.phase = phase_;
  e.bytes = bytes;
  e.launch_id = tracer_->next_launch_id();
  pending_.push_back({e, start, end});
}

template <typename T>
void ModelExecutor<T>::span(const char* name, const std::string& purpose) {
  end_span();
  if (!tracer_) return;
  open_span_ = {record(Lane::Compute), name, purpose};
}

template <typename T>
void ModelExecutor<T>::end_span() {
  if (!tracer_ || !open_span_.start) return;
  backend::Event* start = std::exchange(open_span_.start, nullptr);
  trace_interval(Lane::Compute, start, record(Lane::Compute), open_span_.name, "None", open_span_.purpose, 0);
}

template <typename T>
void ModelExecutor<T>::mp_all_reduce(backend::View<T> values, const std::string& purpose, comm::ReduceOp op) {
  if (t_ == 1) return;
  end_span();
  order(Lane::Compute, Lane::Intra);
  backend::Event* start = tracer_ ? record(Lane::Intra) : nullptr;
  groups_[comm::GroupKind::MP].all_reduce(stream(Lane::Intra), values.data(), values.size(),
                                          backend::comm_data_type<T>(), op);
  if (tracer_)
    trace_interval(Lane::Intra, start, record(Lane::Intra), "AllReduce", "TP", purpose,
                   static_cast<std::int64_t>(values.size() * sizeof(T)));
  order(Lane::Intra, Lane::Compute);
}

template <typename T>
void ModelExecutor<T>::finish_traces() {
  for (PendingTrace& p : pending_) {
    p.event.start_ns = backend_.event_time_ns(*p.start);
    p.event.end_ns = backend_.event_time_ns(*p.end);
    tracer_->record(p.event);
  }
  pending_.clear();
  seq_mp_ = seq_dp_ = 0;
  for (Moe& moe : moe_) moe.layer->finish_passes();
}

#define PARM_MODEL_TRACE(T)                                                                            \
  template void ModelExecutor<T>::set_trace(profiler::OpTracer*, std::int32_t, const std::string&);    \
  template void ModelExecutor<T>::trace_interval(Lane, backend::Event*, backend::Event*, const char*,  \
                                                 const char*, const std::string&, std::int64_t);       \
  template void ModelExecutor<T>::span(const char*, const std::string&);                               \
  template void ModelExecutor<T>::end_span();                                                          \
  template void ModelExecutor<T>::mp_all_reduce(backend::View<T>, const std::string&, comm::ReduceOp); \
  template void ModelExecutor<T>::finish_traces();
PARM_MODEL_TRACE(float)
PARM_MODEL_TRACE(double)
#undef PARM_MODEL_TRACE

}  // namespace parm
