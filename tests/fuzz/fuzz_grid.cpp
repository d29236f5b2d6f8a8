// libFuzzer target: a sweep grid's text through parm::grid_from_json_text (engine/grid_file.h), then the
// configurations at both ends of the grid, the ones a sweep makes first and last. Refusals come back in the
// GridLoad, one line each; an exception, a crash or a sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "engine/core/grid_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const parm::GridLoad load = parm::grid_from_json_text(text, "grid");
  for (const std::string& error : load.errors)
    if (error.empty() || error.find('\n') != std::string::npos) {
      std::fprintf(stderr, "fuzz_grid: a refusal that is not one line: '%s'\n", error.c_str());
      std::abort();
    }
  if (!load.ok()) return 0;
  const std::optional<std::uint64_t> count = parm::grid_configuration_count(*load.grid);
  if (!count || *count == 0) return 0;
  (void)parm::grid_configuration(*load.grid, 0);
  (void)parm::grid_configuration(*load.grid, *count - 1);
  return 0;
}
