#include "engine/backend/cuda/cupti_capture.h"

#include "profiler/cupti/cupti_collector.h"

namespace parm::backend::cuda {
namespace {

class CuptiCapture final : public ActivityCapture {
 public:
  const std::string& unavailable() const override { return collector_.unavailable(); }
  void push_launch(std::int64_t launch_id) override { collector_.push_launch(launch_id); }
  void pop_launch() override { collector_.pop_launch(); }
  void collect(profiler::GpuActivity& out) override { collector_.collect(out); }

 private:
  profiler::cupti::CuptiCollector collector_;
};

}  // namespace

std::unique_ptr<ActivityCapture> make_cupti_capture() {
  return std::make_unique<CuptiCapture>();
}

}  // namespace parm::backend::cuda
