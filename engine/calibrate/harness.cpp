#include "engine/calibrate/harness.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>

namespace parm::calibrate {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Lead-in calls at most before the timed ones (an op much faster than its enqueueing is timed as it can be).
constexpr std::size_t kMaxLeadIn = 64;

double ms_between(const backend::Backend& backend, const backend::Event& start, const backend::Event& end) {
  return double(backend.event_time_ns(end) - backend.event_time_ns(start)) * 1e-6;
}

}  // namespace

std::vector<std::int64_t> sweep_sizes(std::int64_t b, std::int64_t e, double f, bool quick) {
  std::vector<std::int64_t> out;
  if (quick) {
    out = {b, static_cast<std::int64_t>(std::sqrt(double(b) * double(e))), e};
  } else {
    for (double s = double(b); s <= double(e) * 1.0000001; s *= f)
      out.push_back(static_cast<std::int64_t>(s));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::int64_t> sweep_sizes(const SweepOptions& sweep) {
  return sweep_sizes(sweep.begin, sweep.end, sweep.factor, sweep.quick);
}

double Harness::time_op(const std::function<void()>& op, int iters, int warmup) const {
  for (int i = 0; i < warmup; ++i) op();
  world_.barrier();
  std::vector<double> calls(static_cast<std::size_t>(std::max(1, iters)));
  for (double& t : calls) {
    const auto t0 = Clock::now();
    op();
    t = ms_since(t0);
  }
  std::nth_element(calls.begin(), calls.begin() + static_cast<std::ptrdiff_t>(calls.size() / 2), calls.end());
  return world_.max(calls[calls.size() / 2]);
}

double Harness::time_enqueued(backend::Backend& backend, backend::Stream& first, backend::Stream& last,
                              const std::function<void()>& enqueue, int iters, int warmup) const {
  for (int i = 0; i < warmup; ++i) {
    enqueue();
    backend.synchronize();
  }
  world_.barrier();
  // Lead-in calls, then the timed calls back to back, each between two events on `last`, each starting after
  // the previous one ended (on `first` too). The host must have enqueued every timed call before the stream
  // reaches the first (else an interval holds the host's enqueueing, a wake-up, or on a shared cpu the host
  // thread's turn): when any rank's stream got there first, the batch is rerun with 4x the lead-in.
  const std::size_t n = static_cast<std::size_t>(std::max(1, iters));
  std::vector<std::unique_ptr<backend::Event>> marks(n + 1);
  for (auto& e : marks) e = backend.make_event();
  for (std::size_t lead = 1;; lead *= 4) {
    for (std::size_t i = 0; i < lead; ++i) enqueue();
    for (std::size_t i = 0; i < n; ++i) {
      last.record(*marks[i]);
      if (&first != &last) first.wait(*marks[i]);
      enqueue();
    }
    last.record(*marks[n]);
    const bool overtaken = marks[0]->done();
    backend.synchronize();
    if (world_.max(overtaken ? 1.0 : 0.0) == 0.0 || lead >= kMaxLeadIn) break;
  }
  std::vector<double> calls(n);
  for (std::size_t i = 0; i < n; ++i) calls[i] = ms_between(backend, *marks[i], *marks[i + 1]);
  std::nth_element(calls.begin(), calls.begin() + static_cast<std::ptrdiff_t>(n / 2), calls.end());
  return world_.max(calls[n / 2]);
}

double Harness::time_enqueued_during(backend::Backend& backend, backend::Stream& stream,
                                     const std::function<void()>& op,
                                     const std::function<void()>& background) const {
  for (int i = 0; i < sweep_.warmup; ++i) {
    op();
    backend.synchronize();
  }
  world_.barrier();
  const auto start = backend.make_event(), end = backend.make_event();
  for (int i = 0; i < sweep_.iters; ++i) background();
  stream.record(*start);
  for (int i = 0; i < sweep_.iters; ++i) op();
  stream.record(*end);
  backend.synchronize();
  return world_.max(ms_between(backend, *start, *end) / sweep_.iters);
}

void Harness::progress(const std::string& line) const {
  if (world_.rank() == 0) std::cerr << "parm calibrate: " << line << std::endl;
}

}  // namespace parm::calibrate
