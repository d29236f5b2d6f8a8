#include "engine/cli/backend_option.h"

namespace parm::cli {

CLI::Option* add_backend_option(CLI::App* cmd, std::string& value) {
  const CLI::Validator known(
      [](std::string& text) -> std::string {
        if (parse_backend(text)) return {};
        return "must be one of cpu, cuda, cuda+mpi, got " +
               (text.size() > 40 ? text.substr(0, 37) + "..." : text);
      },
      "cpu|cuda|cuda+mpi");
  return cmd
      ->add_option("--backend", value, "the engine's backend: cpu, cuda or cuda+mpi (overrides run.backend)")
      ->check(known);
}

std::optional<Backend> backend_override(const std::string& value) {
  if (value.empty()) return std::nullopt;
  return parse_backend(value);
}

void apply_backend_override(const std::string& value, Config& config) {
  if (const auto backend = backend_override(value)) config.run.backend = *backend;
}

}  // namespace parm::cli
