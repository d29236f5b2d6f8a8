// libFuzzer target: a sweep grid's text through parm::grid_from_json_text (engine/grid_file.h). Refusals come
// back in the GridLoad; an exception, a crash or a sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/grid_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  [[maybe_unused]] const parm::GridLoad load = parm::grid_from_json_text(text, "grid");
  return 0;
}
