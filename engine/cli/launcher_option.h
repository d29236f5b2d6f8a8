// `--launcher auto|mpirun|srun` as run, validate and calibrate take it (engine/launch/launcher_choice.h):
// auto takes srun inside a Slurm allocation, mpirun elsewhere.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "engine/launch/launcher.h"

namespace parm::cli {

// Adds the option to `cmd` ("auto" when not given); an unknown name is refused while parsing (exit 2).
CLI::Option* add_launcher_option(CLI::App* cmd, std::string& value);

// Sets options.launcher and options.mpiexec for the request; a request that cannot be met (srun with a
// hostfile or an emulated cluster, no such binary unless `dry_run`) is refused with one line "WHO: why"
// (exit 2).
void apply_launcher(const std::string& value, const EnvLookup& env, LaunchOptions& options,
                    const std::string& who, bool cluster, bool dry_run = false);

}  // namespace parm::cli
