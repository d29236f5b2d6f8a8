#include "engine/comm/mpi_world.h"

#include <mpi.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>

#include "engine/comm/comm_mpi.h"

namespace parm::comm {

MpiWorld::MpiWorld() {
  // Workers are started with their own arguments, which MPI must not parse: it sees a bare "parm".
  static char program[] = "parm";
  static char* program_argv[] = {program, nullptr};
  int argc = 1;
  char** argv = program_argv;
  ensure_mpi_initialized(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiWorld::~MpiWorld() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void MpiWorld::barrier() const {
  MPI_Barrier(MPI_COMM_WORLD);
}

double MpiWorld::max(double mine) const {
  double out = mine;
  MPI_Allreduce(&mine, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return out;
}

int MpiWorld::min(int mine) const {
  int out = mine;
  MPI_Allreduce(&mine, &out, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return out;
}

std::vector<std::string> MpiWorld::gather_to_root(const std::string& mine) const {
  // Sizes as int64 so a large gather is refused clearly instead of overflowing MPI's int counts.
  const std::int64_t n = static_cast<std::int64_t>(mine.size());
  std::vector<std::int64_t> sizes(rank_ == 0 ? static_cast<std::size_t>(size_) : 0);
  MPI_Gather(&n, 1, MPI_INT64_T, sizes.data(), 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
  std::vector<int> counts, displs;
  std::string all;
  if (rank_ == 0) {
    std::int64_t total = 0;
    for (const std::int64_t s : sizes) total += s;
    if (total > INT32_MAX) throw std::length_error(std::to_string(total) + " bytes exceed one MPI message");
    int offset = 0;
    for (const std::int64_t s : sizes) {
      counts.push_back(static_cast<int>(s));
      displs.push_back(offset);
      offset += static_cast<int>(s);
    }
    all.resize(static_cast<std::size_t>(offset));
  }
  MPI_Gatherv(mine.data(), static_cast<int>(n), MPI_CHAR, all.data(), counts.data(), displs.data(), MPI_CHAR,
              0, MPI_COMM_WORLD);
  std::vector<std::string> parts;
  for (std::size_t r = 0; r < counts.size(); ++r)
    parts.push_back(all.substr(static_cast<std::size_t>(displs[r]), static_cast<std::size_t>(counts[r])));
  return parts;
}

void MpiWorld::abort(int code) const {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();  // MPI_Abort does not return; this tells the compiler so
}

}  // namespace parm::comm
