#include "profiler/gpu_activity.h"

namespace parm::profiler {

std::int32_t GpuActivity::intern(const std::string& name) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<std::int32_t>(i);
  names.push_back(name);
  return static_cast<std::int32_t>(names.size() - 1);
}

}  // namespace parm::profiler
