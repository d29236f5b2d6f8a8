// A minimal NVTX tool for tests: NVTX (nvtxInit.h) dlopens the library named by NVTX_INJECTION64_PATH, calls
// its InitializeInjectionNvtx2 with the export table, and the tool fills the function slots it wants (here
// the domain module, NVTX_CB_MODULE_CORE2) with its own functions, exactly as nsys does. Each call is
// recorded.
#include "tests/profiler/nvtx_recording_injection.h"

#include <nvtx3/nvToolsExt.h>

#include <deque>
#include <mutex>

namespace {

parm::test::NvtxRecording recording;
std::mutex mutex;
std::deque<std::string> storage;  // handles point into it: stable addresses

nvtxDomainHandle_t create_domain(const char* name) {
  std::lock_guard lock(mutex);
  storage.emplace_back(name ? name : "");
  auto* handle = reinterpret_cast<nvtxDomainHandle_t>(&storage.back());
  recording.domains.push_back({storage.back(), handle});
  return handle;
}

void name_category(nvtxDomainHandle_t, uint32_t category, const char* name) {
  std::lock_guard lock(mutex);
  recording.categories.push_back({category, name ? name : ""});
}

nvtxStringHandle_t register_string(nvtxDomainHandle_t, const char* text) {
  std::lock_guard lock(mutex);
  storage.emplace_back(text ? text : "");
  auto* handle = reinterpret_cast<nvtxStringHandle_t>(&storage.back());
  recording.strings.push_back({storage.back(), handle});
  return handle;
}

int range_push(nvtxDomainHandle_t domain, const nvtxEventAttributes_t* a) {
  std::lock_guard lock(mutex);
  parm::test::RecordedPush p;
  p.domain = domain;
  if (a) {
    p.version = a->version;
    p.size = a->size;
    p.category = a->category;
    p.color_type = static_cast<std::uint32_t>(a->colorType);
    p.color = a->color;
    p.payload_type = a->payloadType;
    p.payload = a->payload.ullValue;
    p.message_type = a->messageType;
    p.message = a->message.registered;
  }
  recording.pushes.push_back(p);
  recording.deepest = std::max(recording.deepest, ++recording.depth);
  return recording.depth - 1;
}

int range_pop(nvtxDomainHandle_t) {
  std::lock_guard lock(mutex);
  ++recording.pops;
  return recording.depth > 0 ? --recording.depth : -1;
}

template <typename F>
void fill(NvtxFunctionTable table, unsigned int size, int slot, F* fn) {
  if (static_cast<unsigned int>(slot) < size && table[slot])
    *table[slot] = reinterpret_cast<NvtxFunctionPointer>(fn);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const parm::test::NvtxRecording* parm_nvtx_recording() {
  return &recording;
}

extern "C" __attribute__((visibility("default"))) int InitializeInjectionNvtx2(NvtxGetExportTableFunc_t get) {
  const auto* callbacks = static_cast<const NvtxExportTableCallbacks*>(get(NVTX_ETID_CALLBACKS));
  if (!callbacks || callbacks->struct_size < sizeof(NvtxExportTableCallbacks)) return 0;
  NvtxFunctionTable table = nullptr;
  unsigned int size = 0;
  if (!callbacks->GetModuleFunctionTable(NVTX_CB_MODULE_CORE2, &table, &size) || !table) return 0;
  fill(table, size, NVTX_CBID_CORE2_DomainCreateA, &create_domain);
  fill(table, size, NVTX_CBID_CORE2_DomainNameCategoryA, &name_category);
  fill(table, size, NVTX_CBID_CORE2_DomainRegisterStringA, &register_string);
  fill(table, size, NVTX_CBID_CORE2_DomainRangePushEx, &range_push);
  fill(table, size, NVTX_CBID_CORE2_DomainRangePop, &range_pop);
  return 1;
}
