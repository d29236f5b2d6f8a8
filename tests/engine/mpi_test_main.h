// main() for QtTest suites run under mpiexec: every rank runs the whole suite (rank 0 prints the usual log,
// the others only failures), and all ranks exit with the worst failure count so mpiexec's status is the
// suite's. Tests must enter the same collectives on every rank before asserting, so a failed QCOMPARE on one
// rank cannot leave its peers waiting; every communicator wait is bounded anyway.
#pragma once

#include <mpi.h>

#include <QStringList>
#include <QtTest>
#include <cstdio>

#include "engine/comm/comm_mpi.h"

namespace parm::test {

inline int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

inline int world_size() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

template <class TestClass>
int run_mpi_qtest(int argc, char** argv) {
  try {
    comm::ensure_mpi_initialized(&argc, &argv);
  } catch (const comm::CommError& e) {
    std::fprintf(stderr, "SKIP: %s\n", e.what());
    return 77;
  }
  int failures = 0;
  {
    // Scoped so the suite's communicators are freed before MPI_Finalize.
    TestClass suite;
    QStringList args;
    for (int i = 0; i < argc; ++i) args << QString::fromLocal8Bit(argv[i]);
    if (world_rank() != 0) args << QStringLiteral("-silent");
    failures = QTest::qExec(&suite, args);
  }
  int worst = 0;
  MPI_Allreduce(&failures, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}

}  // namespace parm::test

#define PARM_MPI_QTEST_MAIN(TestClass)                       \
  int main(int argc, char** argv) {                          \
    return parm::test::run_mpi_qtest<TestClass>(argc, argv); \
  }
