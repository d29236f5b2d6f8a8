#include "engine/cli/cli_support.h"

#include <mpi.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <filesystem>
#include <iostream>

#include "resources/presets.h"

namespace parm::cli {

ConfigLoad load_unvalidated(const std::string& path, std::string& source) {
  source = path;
  if (path.empty()) {
    source = "embedded preset 'default'";
    return config_from_json_text(*resources::embedded_preset("default"));
  }
  if (auto preset = resources::embedded_preset(path); preset && !std::filesystem::exists(path)) {
    source = "embedded preset '" + path + "'";  // `parm check tc1` names a built-in preset
    return config_from_json_text(*preset);
  }
  return load_config_file(path);
}

std::string host_name() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) return "unknown";
  return buf.data();
}

void finalize_mpi() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void agree_or_exit(const std::vector<std::string>& problems, int rank, int world) {
  const int mine = problems.empty() ? world : rank;
  int first_failing = world;
  MPI_Allreduce(&mine, &first_failing, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (first_failing == world) return;
  if (rank == first_failing)
    for (const auto& line : problems) std::cerr << "parm worker: rank " << rank << ": " << line << '\n';
  finalize_mpi();
  throw CLI::RuntimeError(2);
}

}  // namespace parm::cli
