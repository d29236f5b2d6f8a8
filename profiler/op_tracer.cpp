#include "profiler/op_tracer.h"

namespace parm::profiler {

std::int32_t OpTracer::intern(std::string_view name) {
  std::lock_guard lock(names_mutex_);
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return static_cast<std::int32_t>(i);
  names_.emplace_back(name);
  return static_cast<std::int32_t>(names_.size() - 1);
}

}  // namespace parm::profiler
