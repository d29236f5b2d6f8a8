#include "engine/calibrate/run_environment.h"

#include <mpi.h>

#include <algorithm>

extern char** environ;

namespace parm::calibrate {
namespace {

// A recorded string stays on one line (the calibration reader refuses control characters).
std::string one_line(std::string s) {
  std::replace_if(
      s.begin(), s.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; }, ' ');
  return s;
}

}  // namespace

std::string device_label(const backend::DeviceDescription& device) {
  return one_line(device.bus_location.empty() ? device.name : device.name + " (" + device.bus_location + ")");
}

RecordedEnvironment record_environment(const backend::Backend& backend, const comm::MpiWorld& world) {
  RecordedEnvironment where;
  const backend::DeviceDescription device = backend.device();
  where.backend = std::string(backend.name());
  where.comm_library = one_line(device.comm_library);
  where.transport = one_line(transport_description(where.backend, where.comm_library, mpi_library_version()));
  where.devices = world.gather_to_root(device_label(device));
  where.nccl_env = nccl_environment();
  where.nccl_topology = nccl_topology_note(where.backend, where.nccl_env);
  return where;
}

void write_environment(std::ostream& table, const RecordedEnvironment& where) {
  table << "# backend " << where.backend << ": collectives over " << where.transport << '\n';
  const bool same = std::all_of(where.devices.begin(), where.devices.end(),
                                [&](const std::string& d) { return d == where.devices.front(); });
  if (!where.devices.empty() && same) {
    table << "# devices: " << where.devices.size() << " x " << where.devices.front() << '\n';
  } else if (!where.devices.empty()) {
    table << "# devices:";
    for (std::size_t r = 0; r < where.devices.size(); ++r)
      table << (r ? "," : "") << " rank " << r << ' ' << where.devices[r];
    table << '\n';
  }
  if (where.backend == "cpu") return;
  table << "# NCCL environment:";
  if (where.nccl_env.empty()) table << " no NCCL_* variable set";
  for (const auto& [name, value] : where.nccl_env) table << ' ' << name << '=' << value;
  table << '\n';
  if (!where.nccl_topology.empty()) table << "# NCCL topology: " << where.nccl_topology << '\n';
}

void apply_environment(const RecordedEnvironment& where, Calibration& calibration) {
  calibration.backend = where.backend;
  calibration.transport = where.transport;
  calibration.comm_library = where.comm_library;
  calibration.devices = where.devices;
  calibration.nccl_env = where.nccl_env;
  calibration.nccl_topology = where.nccl_topology;
}

std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) return "MPI";
  std::string s(text, std::size_t(length > 0 ? length : 0));
  s = s.substr(0, s.find_first_of(",\n"));
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s.empty() ? "MPI" : s;
}

std::string transport_description(std::string_view backend, const std::string& comm_library,
                                  const std::string& mpi_library) {
  if (backend == "cuda") return comm_library.empty() ? std::string("NCCL") : comm_library;
  if (backend == "cuda+mpi") return "MPI staged through pinned host memory (" + mpi_library + ")";
  return mpi_library;
}

std::map<std::string, std::string> nccl_environment(const char* const* envp) {
  std::map<std::string, std::string> out;
  for (; envp && *envp; ++envp) {
    const std::string_view entry(*envp);
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos || !entry.starts_with("NCCL_")) continue;
    out.emplace(one_line(std::string(entry.substr(0, eq))), one_line(std::string(entry.substr(eq + 1))));
  }
  return out;
}

std::map<std::string, std::string> nccl_environment() {
  return nccl_environment(environ);
}

std::string nccl_topology_note(std::string_view backend, const std::map<std::string, std::string>& nccl_env) {
  if (backend != "cuda") return {};
  const auto debug = nccl_env.find("NCCL_DEBUG");
  if (debug == nccl_env.end() || debug->second.empty() || debug->second == "WARN" ||
      debug->second == "VERSION")
    return "not recorded: set NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT,GRAPH,TUNING to have NCCL print the "
           "rings and trees, algorithms and protocols it chose";
  const auto file = nccl_env.find("NCCL_DEBUG_FILE");
  return "NCCL_DEBUG=" + debug->second + ": NCCL printed its topology, algorithm and protocol choices to " +
         (file == nccl_env.end() ? std::string("each rank's stderr") : "NCCL_DEBUG_FILE " + file->second);
}

}  // namespace parm::calibrate
