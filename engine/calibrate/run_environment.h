// What a calibration records about where it ran, beside its fits: which transport carried the collectives
// (the backend's communicator: NCCL, MPI staged through pinned host memory, or MPI itself), the NCCL_*
// variables of the process, and a note on the topology NCCL chose (NCCL prints it with NCCL_DEBUG=INFO; the
// calibration does not parse another process's output, it says where to look).
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/comm/mpi_world.h"
#include "engine/model/calibration.h"

namespace parm::calibrate {

struct RecordedEnvironment {
  std::string backend;               // Backend::name(): "cpu", "cuda", "cuda+mpi"
  std::string transport;             // transport_description
  std::string comm_library;          // DeviceDescription::comm_library ("NCCL 2.28.9"; empty on cpu)
  std::vector<std::string> devices;  // every rank's device (index = world rank) on rank 0; empty elsewhere
  std::map<std::string, std::string> nccl_env;
  std::string nccl_topology;
};

// This rank's backend and process, with every rank's device gathered to rank 0: collective over `world`.
RecordedEnvironment record_environment(const backend::Backend& backend, const comm::MpiWorld& world);
// The table's lines: backend and transport, devices, and on a GPU backend the NCCL_* variables and topology.
void write_environment(std::ostream& table, const RecordedEnvironment& where);
// Into the calibration's fields (backend, transport, comm_library, devices, nccl_env, nccl_topology).
void apply_environment(const RecordedEnvironment& where, Calibration& calibration);

// One rank's device as recorded: "NVIDIA H200 (0000:1b:00.0)", or the name alone ("cpu").
std::string device_label(const backend::DeviceDescription& device);

// "Open MPI v4.1.4": MPI_Get_library_version up to its first comma; MPI must be initialised.
std::string mpi_library_version();

// The table's and the calibration's transport line: "NCCL 2.28.9" (cuda), "MPI staged through pinned host
// memory (Open MPI v4.1.4)" (cuda+mpi), "Open MPI v4.1.4" (cpu).
std::string transport_description(std::string_view backend, const std::string& comm_library,
                                  const std::string& mpi_library);

// Every NAME=VALUE of `envp` (a null-terminated environ array) whose NAME starts with "NCCL_".
std::map<std::string, std::string> nccl_environment(const char* const* envp);
std::map<std::string, std::string> nccl_environment();  // this process's environ

// Empty unless the backend is NCCL's ("cuda"); then where NCCL's topology, algorithm and protocol choices
// are (NCCL_DEBUG set: each rank's stderr or NCCL_DEBUG_FILE) or how to get them.
std::string nccl_topology_note(std::string_view backend, const std::map<std::string, std::string>& nccl_env);

}  // namespace parm::calibrate
