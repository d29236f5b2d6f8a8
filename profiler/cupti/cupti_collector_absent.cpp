// The collector of a build whose CUDA install has no CUPTI (cupti.h or libcupti.so not found): always
// unavailable, so the run goes on untraced on the GPU side.
#include <utility>

#include "profiler/cupti/cupti_collector.h"

namespace parm::profiler::cupti {

std::string cupti_failure_text(const std::string& call, int result, const std::string& hint) {
  std::string text = "CUPTI unavailable: " + call + " returned CUPTI_ERROR (" + std::to_string(result) + ")";
  if (!hint.empty()) text += ": " + hint;
  return text;
}

CuptiCollector::CuptiCollector()
    : unavailable_(
          "CUPTI unavailable: this build found no CUPTI (cupti.h, libcupti.so) in the CUDA install") {}
CuptiCollector::~CuptiCollector() = default;
void CuptiCollector::fail(std::string reason) {
  unavailable_ = std::move(reason);
}
void CuptiCollector::stop() {}
void CuptiCollector::push_launch(std::int64_t) {}
void CuptiCollector::pop_launch() {}
void CuptiCollector::collect(GpuActivity& out) {
  out.unavailable = unavailable_;
}

}  // namespace parm::profiler::cupti
