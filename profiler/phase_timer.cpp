#include "profiler/phase_timer.h"

#include <algorithm>

namespace parm::profiler {

void PhaseTimer::record(std::string_view name, double seconds) {
  for (std::size_t i = 0; i < phases_.size(); ++i) {
    if (phases_[i].name != name) continue;
    if (last_iteration_[i] == iteration_ && !phases_[i].seconds.empty()) {
      phases_[i].seconds.back() += seconds;
    } else {
      phases_[i].seconds.push_back(seconds);
      last_iteration_[i] = iteration_;
    }
    return;
  }
  phases_.push_back({std::string(name), {seconds}});
  last_iteration_.push_back(iteration_);
}

void PhaseTimer::clear() {
  phases_.clear();
  last_iteration_.clear();
  iteration_ = 0;
}

double PhaseTimer::median_seconds(std::string_view name) const {
  for (const auto& p : phases_)
    if (p.name == name) return median(p.seconds);
  return 0.0;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  const std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  if (values.size() % 2 == 1) return values[mid];
  const double upper = values[mid];
  const double lower = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return 0.5 * (lower + upper);
}

}  // namespace parm::profiler
