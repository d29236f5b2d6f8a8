#include "engine/comm/mpi_world.h"

#include <mpi.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "engine/comm/comm_mpi.h"

namespace parm::comm {
namespace {

// A whole non-negative decimal number, or nullopt.
std::optional<int> whole_number(std::string_view text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

std::optional<int> env_number(const std::function<const char*(const char*)>& env, const char* name) {
  const char* value = env(name);
  return value ? whole_number(value) : std::nullopt;
}

// Slurm's compressed tasks per node, "4(x2),3": node 0 and 1 run 4 tasks, node 2 runs 3.
std::optional<int> tasks_on_node(std::string_view list, int node) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    int repeat = 1;
    if (const std::size_t paren = item.find("(x"); paren != std::string_view::npos) {
      if (item.back() != ')') return std::nullopt;
      const auto r = whole_number(item.substr(paren + 2, item.size() - paren - 3));
      if (!r) return std::nullopt;
      repeat = *r;
      item = item.substr(0, paren);
    }
    const auto tasks = whole_number(item);
    if (!tasks) return std::nullopt;
    if (node < repeat) return tasks;
    node -= repeat;
  }
  return std::nullopt;
}

}  // namespace

std::optional<LocalPlacement> local_placement_from_env(const std::function<const char*(const char*)>& env) {
  const auto valid = [](std::optional<int> rank, std::optional<int> size) -> std::optional<LocalPlacement> {
    if (!rank || !size || *size <= 0 || *rank >= *size) return std::nullopt;
    return LocalPlacement{*rank, *size};
  };
  if (env("OMPI_COMM_WORLD_LOCAL_RANK"))
    return valid(env_number(env, "OMPI_COMM_WORLD_LOCAL_RANK"),
                 env_number(env, "OMPI_COMM_WORLD_LOCAL_SIZE"));
  const auto slurm_rank = env_number(env, "SLURM_LOCALID");
  if (!slurm_rank) return std::nullopt;
  if (const auto size = env_number(env, "SLURM_NTASKS_PER_NODE")) return valid(slurm_rank, size);
  const char* list = env("SLURM_TASKS_PER_NODE");
  const auto node = env_number(env, "SLURM_NODEID");
  if (!list || !node) return std::nullopt;
  return valid(slurm_rank, tasks_on_node(list, *node));
}

LocalPlacement local_placement_from_split() {
  int world_rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm node = MPI_COMM_NULL;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank, MPI_INFO_NULL, &node);
  LocalPlacement out;
  MPI_Comm_rank(node, &out.local_rank);
  MPI_Comm_size(node, &out.local_size);
  MPI_Comm_free(&node);
  return out;
}

LocalPlacement local_placement() {
  if (const auto from_env = local_placement_from_env([](const char* name) { return std::getenv(name); }))
    return *from_env;
  return local_placement_from_split();
}

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
