// A rank's local rank and local size (which GPU it uses): the launcher variables read by Open MPI's and
// Slurm's names, and, under mpiexec, the same answer from the environment as from an MPI shared-memory
// split on every rank (one host: local ranks are the world ranks).
#include <mpi.h>

#include <QtTest>
#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/comm/mpi_world.h"
#include "tests/engine/mpi_test_main.h"

using parm::comm::local_placement_from_env;
using parm::comm::LocalPlacement;

namespace {

std::optional<LocalPlacement> from(const std::map<std::string, std::string>& vars) {
  return local_placement_from_env([&](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

}  // namespace

class TestLocalPlacement : public QObject {
  Q_OBJECT
 private slots:
  void openMpiVariables() {
    QCOMPARE(from({{"OMPI_COMM_WORLD_LOCAL_RANK", "3"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "4"}}),
             (LocalPlacement{3, 4}));
    // Open MPI's answer wins over Slurm's (mpirun inside an allocation).
    QCOMPARE(from({{"OMPI_COMM_WORLD_LOCAL_RANK", "0"},
                   {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                   {"SLURM_LOCALID", "1"},
                   {"SLURM_NTASKS_PER_NODE", "8"}}),
             (LocalPlacement{0, 2}));
  }

  void slurmVariables() {
    QCOMPARE(from({{"SLURM_LOCALID", "2"}, {"SLURM_NTASKS_PER_NODE", "4"}}), (LocalPlacement{2, 4}));
    // Without --ntasks-per-node: the compressed per-node list at this node's index.
    const std::map<std::string, std::string> node2 = {
        {"SLURM_LOCALID", "1"}, {"SLURM_TASKS_PER_NODE", "4(x2),3"}, {"SLURM_NODEID", "2"}};
    QCOMPARE(from(node2), (LocalPlacement{1, 3}));
    QCOMPARE(from({{"SLURM_LOCALID", "3"}, {"SLURM_TASKS_PER_NODE", "4(x2),3"}, {"SLURM_NODEID", "1"}}),
             (LocalPlacement{3, 4}));
  }

  void incompleteOrBrokenAnswersAreNone() {
    QCOMPARE(from({}), std::optional<LocalPlacement>());
    QCOMPARE(from({{"OMPI_COMM_WORLD_LOCAL_RANK", "1"}}), std::optional<LocalPlacement>());
    QCOMPARE(from({{"OMPI_COMM_WORLD_LOCAL_RANK", "4"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "4"}}),
             std::optional<LocalPlacement>());
    QCOMPARE(from({{"OMPI_COMM_WORLD_LOCAL_RANK", "x"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "4"}}),
             std::optional<LocalPlacement>());
    QCOMPARE(from({{"SLURM_LOCALID", "0"}}), std::optional<LocalPlacement>());
    QCOMPARE(from({{"SLURM_LOCALID", "0"}, {"SLURM_TASKS_PER_NODE", "4(x2"}, {"SLURM_NODEID", "0"}}),
             std::optional<LocalPlacement>());
    QCOMPARE(from({{"SLURM_LOCALID", "0"}, {"SLURM_TASKS_PER_NODE", "4(x2)"}, {"SLURM_NODEID", "2"}}),
             std::optional<LocalPlacement>());
  }

  void environmentAgreesWithTheSplit() {
    const LocalPlacement split = parm::comm::local_placement_from_split();
    const LocalPlacement chosen = parm::comm::local_placement();
    const auto env = local_placement_from_env([](const char* name) { return std::getenv(name); });
    // Every rank runs on this one host: the split's local rank is the world rank.
    QCOMPARE(split.local_size, parm::test::world_size());
    QCOMPARE(split.local_rank, parm::test::world_rank());
    QVERIFY2(env.has_value(), "mpiexec set no OMPI_COMM_WORLD_LOCAL_* variables");
    QCOMPARE(*env, split);
    QCOMPARE(chosen, split);
    // Distinct local ranks 0..n-1 over the world: each GPU gets one rank under backend cuda.
    std::vector<int> all(static_cast<std::size_t>(parm::test::world_size()));
    MPI_Allgather(&split.local_rank, 1, MPI_INT, all.data(), 1, MPI_INT, MPI_COMM_WORLD);
    std::sort(all.begin(), all.end());
    for (int r = 0; r < static_cast<int>(all.size()); ++r) QCOMPARE(all[static_cast<std::size_t>(r)], r);
  }
};

PARM_MPI_QTEST_MAIN(TestLocalPlacement)
#include "test_engine_local_placement.moc"
