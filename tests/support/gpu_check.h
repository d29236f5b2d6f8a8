// The check harness of the GPU tests. They run on lent GPU machines that have CUDA but no Qt (no QtTest),
// so they are plain executables: each case is a function registered with PARM_GPU_CASE, a failed check
// prints "FAIL case: file:line: message" and the case continues with the next one; main() runs every case
// and exits 0 (all passed), 1 (a check failed) or 77 (no device: CTest's SKIP_RETURN_CODE) when `has_device`
// says so. Host-only tests stay QtTest suites.
#pragma once

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace parm_gpu_test {

struct Case {
  const char* name;
  std::function<void()> run;
};

inline std::vector<Case>& cases() {
  static std::vector<Case> all;
  return all;
}
inline int& failures() {
  static int n = 0;
  return n;
}
inline const char*& current() {
  static const char* name = "";
  return name;
}

struct Register {
  Register(const char* name, std::function<void()> run) { cases().push_back({name, std::move(run)}); }
};

inline void fail(const char* file, int line, const std::string& message) {
  ++failures();
  std::printf("FAIL %s: %s:%d: %s\n", current(), file, line, message.c_str());
}

// Largest |a - b| / max(|b|, floor) over two equally long ranges: the relative error the verify rule uses.
template <typename A, typename B>
double max_relative_error(const A& actual, const B& expected, double floor = 1e-6) {
  double worst = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const double a = static_cast<double>(actual[i]), b = static_cast<double>(expected[i]);
    worst = std::fmax(worst, std::fabs(a - b) / std::fmax(std::fabs(b), floor));
  }
  return worst;
}

// Runs every case; `skip_reason` non-empty means no device: print it and exit 77.
inline int run_all(const std::string& skip_reason) {
  if (!skip_reason.empty()) {
    std::printf("SKIP: %s\n", skip_reason.c_str());
    return 77;
  }
  for (const Case& c : cases()) {
    current() = c.name;
    const int before = failures();
    try {
      c.run();
    } catch (const std::exception& e) {
      fail(__FILE__, __LINE__, std::string("threw: ") + e.what());
    }
    std::printf("%s %s\n", failures() == before ? "PASS" : "FAIL", c.name);
  }
  std::printf("%zu cases, %d failed checks\n", cases().size(), failures());
  return failures() == 0 ? 0 : 1;
}

}  // namespace parm_gpu_test

#define PARM_GPU_CONCAT2(a, b) a##b
#define PARM_GPU_CONCAT(a, b) PARM_GPU_CONCAT2(a, b)
#define PARM_GPU_CASE(name)                                                            \
  static void name();                                                                  \
  static const parm_gpu_test::Register PARM_GPU_CONCAT(register_, name)(#name, &name); \
  static void name()
#define PARM_CHECK(condition, message)                                                                     \
  do {                                                                                                     \
    if (!(condition)) parm_gpu_test::fail(__FILE__, __LINE__, std::string(#condition) + ": " + (message)); \
  } while (0)
#define PARM_CHECK_REL(actual, expected, tolerance)                                           \
  do {                                                                                        \
    const double parm_err_ = parm_gpu_test::max_relative_error((actual), (expected));         \
    if (!(parm_err_ <= (tolerance)))                                                          \
      parm_gpu_test::fail(__FILE__, __LINE__,                                                 \
                          std::string(#actual " vs " #expected ": relative error ") +         \
                              std::to_string(parm_err_) + " > " + std::to_string(tolerance)); \
  } while (0)
