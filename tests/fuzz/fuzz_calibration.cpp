// libFuzzer target: a calibration file's text through parm::parse_json_text and parm::calibration_from_json,
// then the cost model's parameters from it. The documented refusal is std::runtime_error; any other exception
// (a raw nlohmann-json one included), a crash or a sanitizer report is a bug. A calibration that loads must
// write back to JSON that loads again.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "engine/core/json_input.h"
#include "engine/model/calibration.h"

namespace {

void require_one_line(std::string_view refusal) {
  if (refusal.empty() || refusal.find('\n') != std::string_view::npos) {
    std::fprintf(stderr, "fuzz_calibration: a refusal that is not one line: '%.*s'\n",
                 static_cast<int>(refusal.size()), refusal.data());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const parm::JsonDocument doc = parm::parse_json_text(text, "calibration");
  if (!doc.ok()) {
    require_one_line(doc.error);
    return 0;
  }
  parm::Calibration calibration;
  try {
    calibration = parm::calibration_from_json(*doc.value);
  } catch (const std::runtime_error& refused) {
    require_one_line(refused.what());
    return 0;
  }
  try {
    (void)calibration.comm_params();
  } catch (const std::runtime_error& refused) {
    // A calibration without the fits a layout needs: refused when it is used, as documented.
    require_one_line(refused.what());
  }
  try {
    (void)parm::calibration_from_json(parm::to_json(calibration));
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "fuzz_calibration: a loaded calibration does not load back: %s\n", e.what());
    std::abort();
  }
  return 0;
}
