// `--backend cpu|cuda|cuda+mpi` as run, validate, calibrate and check take it: it overrides run.backend
// before validation, like --ranks overrides parallel.ranks, so a backend this build or machine lacks is
// refused by the same one line (backend_availability.h) whichever way it was asked for.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "engine/core/config.h"

namespace parm::cli {

// Adds the option to `cmd`; an unknown name is refused while parsing ("--backend must be one of cpu, cuda,
// cuda+mpi, got X", exit 2). The value stays empty when the flag is not given.
CLI::Option* add_backend_option(CLI::App* cmd, std::string& value);

// The backend the flag names; nullopt when it was not given.
std::optional<Backend> backend_override(const std::string& value);

// Sets run.backend when the flag was given.
void apply_backend_override(const std::string& value, Config& config);

}  // namespace parm::cli
