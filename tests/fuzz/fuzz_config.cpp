// libFuzzer target: a configuration's JSON text through parm::config_from_json_text (engine/json_input.h's
// reader, the typed field readers, validate()). Bad input must come back as issues, never as a crash, an
// exception or a sanitizer report; a configuration that loads must write back to JSON that loads again.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "engine/core/config_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const parm::ConfigLoad load = parm::config_from_json_text(text);
  for (const parm::ConfigIssue& issue : load.issues.items) {
    const std::string line = issue.line();
    if (line.find('\n') != std::string::npos) {
      std::fprintf(stderr, "fuzz_config: an issue spans several lines: %s\n", line.c_str());
      std::abort();
    }
  }
  if (!load.ok()) return 0;
  const parm::ConfigLoad again = parm::config_from_json_text(parm::config_to_json(*load.config).dump());
  if (!again.ok()) {
    std::fprintf(stderr, "fuzz_config: a loaded configuration does not load back from its own JSON\n");
    std::abort();
  }
  return 0;
}
