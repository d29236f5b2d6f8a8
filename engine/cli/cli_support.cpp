#include "engine/cli/cli_support.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <iostream>

namespace parm::cli {

std::string host_name() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) return "unknown";
  return buf.data();
}

void agree_or_exit(const std::vector<std::string>& problems, const comm::MpiWorld& world) {
  const int mine = problems.empty() ? world.size() : world.rank();
  const int first_failing = world.min(mine);
  if (first_failing == world.size()) return;
  if (world.rank() == first_failing)
    for (const auto& line : problems)
      std::cerr << "parm worker: rank " << world.rank() << ": " << line << '\n';
  throw CLI::RuntimeError(2);
}

}  // namespace parm::cli
