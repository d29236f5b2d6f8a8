// Host-clock timing of named phases (gate, order, experts, ...) over repeated iterations. The per-lane op
// tracer of the distributed engine builds on the same clock; this is the single-rank view.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace parm::profiler {

using Clock = std::chrono::steady_clock;

class PhaseTimer {
 public:
  struct Phase {
    std::string name;
    std::vector<double>
        seconds;  // one entry per recorded iteration (several records in one iteration add up)
  };

  // RAII range: records the elapsed time under `name` when it goes out of scope.
  class Scope {
   public:
    Scope(PhaseTimer* timer, std::string_view name) : timer_(timer), name_(name), start_(Clock::now()) {}
    ~Scope() {
      if (timer_) timer_->record(name_, std::chrono::duration<double>(Clock::now() - start_).count());
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    PhaseTimer* timer_;
    std::string_view name_;
    Clock::time_point start_;
  };

  // Starts a new iteration: later records of a phase go to a new sample.
  void begin_iteration() { ++iteration_; }
  void record(std::string_view name, double seconds);
  void clear();

  const std::vector<Phase>& phases() const { return phases_; }
  // Median over iterations of one phase, in seconds; 0 when the phase was never recorded.
  double median_seconds(std::string_view name) const;

 private:
  std::vector<Phase> phases_;
  std::size_t iteration_ = 0;
  std::vector<std::size_t> last_iteration_;  // per phase: the iteration its last sample belongs to
};

// Convenience: a scope on a possibly null timer (timing is optional in library calls).
inline PhaseTimer::Scope time_phase(PhaseTimer* timer, std::string_view name) {
  return {timer, name};
}

double median(std::vector<double> values);

}  // namespace parm::profiler
