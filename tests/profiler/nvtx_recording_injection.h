// What the test's NVTX injection library (nvtx_recording_injection.cpp) saw: every call of the "core2"
// (domain) module NVTX forwarded to it. The test loads the library through NVTX_INJECTION64_PATH and reads
// this through the exported parm_nvtx_recording().
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace parm::test {

struct RecordedPush {
  const void* domain = nullptr;
  std::uint16_t version = 0, size = 0;
  std::uint32_t category = 0, color_type = 0, color = 0;
  std::int32_t payload_type = 0;
  std::uint64_t payload = 0;
  std::int32_t message_type = 0;
  const void* message = nullptr;  // the registered string's handle
};

struct NvtxRecording {
  std::vector<std::pair<std::string, const void*>> domains;  // name, handle, per nvtxDomainCreateA
  std::vector<std::pair<std::uint32_t, std::string>> categories;
  std::vector<std::pair<std::string, const void*>> strings;  // per nvtxDomainRegisterStringA
  std::vector<RecordedPush> pushes;
  int pops = 0;
  int depth = 0, deepest = 0;
};

}  // namespace parm::test

extern "C" const parm::test::NvtxRecording* parm_nvtx_recording();
