#include "engine/calibrate/harness.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <thread>

namespace parm::calibrate {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
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

double Harness::time_op_during(const std::function<void()>& op,
                               const std::function<void()>& background) const {
  for (int i = 0; i < sweep_.warmup; ++i) op();
  world_.barrier();
  std::thread other([&] {
    for (int i = 0; i < sweep_.iters; ++i) background();
  });
  const auto t0 = Clock::now();
  for (int i = 0; i < sweep_.iters; ++i) op();
  const double mine = ms_since(t0) / sweep_.iters;
  other.join();
  return world_.max(mine);
}

void Harness::progress(const std::string& line) const {
  if (world_.rank() == 0) std::cerr << "parm calibrate: " << line << std::endl;
}

}  // namespace parm::calibrate
