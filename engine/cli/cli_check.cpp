// `parm check CONFIG [--json]`: validate a configuration and print its derived sizes and collective volumes.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/backend/backend_availability.h"
#include "engine/cli/backend_option.h"
#include "engine/cli/commands.h"
#include "engine/cli/config_loading.h"
#include "engine/cli/model_check.h"
#include "engine/core/config_json.h"
#include "engine/core/device_memory_check.h"
#include "engine/core/model_sizes.h"
#include "engine/core/rank_memory.h"
#include "engine/core/sizes.h"
#include "engine/core/validation.h"
#include "engine/schedules/volumes.h"

namespace parm::cli {
namespace {

nlohmann::json sizes_json(const DerivedSizes& d) {
  return {{"S", d.S},
          {"N_MP", d.N},
          {"N_EP", d.n_ep},
          {"N_ESP", d.n_esp},
          {"E_loc", d.local_experts},
          {"H_shard", d.h_shard},
          {"nodes", d.nodes},
          {"C0", d.C0},
          {"C1", d.C1},
          {"C2", d.C2},
          {"D0", d.D0},
          {"D1", d.D1},
          {"D2", d.D2},
          {"bytes_per_element", d.bytes_per_element},
          {"dynamic_capacity", d.dynamic_capacity}};
}

nlohmann::json volume_json(const CollectiveVolume& v) {
  return {
      {"pass", to_string(v.pass)},   {"purpose", v.purpose},       {"collective", to_string(v.collective)},
      {"group", to_string(v.group)}, {"group_size", v.group_size}, {"fused", v.fused},
      {"elements", v.elements},      {"bytes", v.bytes},           {"wire_bytes", v.wire_bytes}};
}

nlohmann::json memory_json(const RankMemory& m) {
  return {{"total_bytes", m.total},
          {"peak_schedule", to_string(m.peak_schedule)},
          {"activations_bytes", m.activations},
          {"dispatched_bytes", m.dispatched},
          {"expert_hidden_bytes", m.expert_hidden},
          {"weights_bytes", m.weights},
          {"gradients_bytes", m.gradients},
          {"pipeline_bytes", m.pipeline}};
}

// One GPU rank's device memory (cuda backends) and the device it was compared with, when one answered.
struct DeviceEstimate {
  DeviceRankMemory memory;
  std::optional<DeviceLimit> device;
};

nlohmann::json device_json(const Config& c, const DeviceEstimate& e) {
  const DeviceRankMemory& m = e.memory;
  nlohmann::json out{{"total_bytes", m.total},
                     {"buffers_bytes", m.buffers},
                     {"saved_for_backward_bytes", m.saved_for_backward},
                     {"pass_buffers_bytes", m.pass_buffers},
                     {"cublas_workspace_bytes", m.cublas_workspace},
                     {"context_bytes", m.context},
                     {"host_staging_bytes", m.host_staging},
                     {"device", nullptr}};
  if (e.device)
    out["device"] = {{"name", e.device->name},
                     {"memory_bytes", e.device->memory_bytes},
                     {"ranks_per_device", ranks_per_device(c.run.backend, *e.device)},
                     {"share_bytes", device_share(c.run.backend, *e.device)}};
  return out;
}

void print_device_text(const Config& c, const DeviceEstimate& e) {
  const DeviceRankMemory& m = e.memory;
  std::printf(
      "  %-4s %14lld  bytes of one GPU rank's device memory (buffers %lld + saved for backward %lld + "
      "per-pass %lld + cuBLAS workspace %lld + CUDA context %lld)\n",
      "dev", (long long)m.total, (long long)m.buffers, (long long)m.saved_for_backward,
      (long long)m.pass_buffers, (long long)m.cublas_workspace, (long long)m.context);
  if (c.run.backend == Backend::CudaMpi)
    std::printf("  %-4s %14lld  bytes of pinned host staging per rank (cuda+mpi)\n", "pin",
                (long long)m.host_staging);
  if (e.device)
    std::printf("  device %s (%s), %lld rank%s per device: %s each, fits\n", e.device->name.c_str(),
                gib(e.device->memory_bytes).c_str(), (long long)ranks_per_device(c.run.backend, *e.device),
                ranks_per_device(c.run.backend, *e.device) == 1 ? "" : "s",
                gib(device_share(c.run.backend, *e.device)).c_str());
  else
    std::printf("  no CUDA device answers here: an estimate only, not compared with a device\n");
}

void print_text(const Config& c, const DerivedSizes& d, const RankMemory& m,
                const std::optional<DeviceEstimate>& device) {
  std::printf(
      "config %s: %lld ranks = %lld nodes x %lld, N_MP=%lld N_ESP=%lld N_EP=%lld, E_loc=%lld, %s (b=%d)\n",
      c.name.c_str(), (long long)c.parallel.ranks, (long long)d.nodes, (long long)c.parallel.gpus_per_node,
      (long long)d.N, (long long)d.n_esp, (long long)d.n_ep, (long long)d.local_experts,
      std::string(to_string(c.layer.dtype)).c_str(), d.bytes_per_element);
  std::printf("\n# derived sizes%s\n", d.dynamic_capacity
                                           ? " (drop_tokens=false: capacity = largest load at run time; "
                                             "values below follow the capacity rule)"
                                           : "");
  std::printf("  %-4s %14lld  tokens per MP group (B*L)\n", "S", (long long)d.S);
  std::printf("  %-4s %14lld  capacity of S tokens\n", "C0", (long long)d.C0);
  std::printf("  %-4s %14lld  capacity of S/N_MP tokens (S1)\n", "C1", (long long)d.C1);
  std::printf("  %-4s %14lld  C0 rounded up to a multiple of N_MP\n", "C2", (long long)d.C2);
  std::printf("  %-4s %14lld  elements E*C0*M\n", "D0", (long long)d.D0);
  std::printf("  %-4s %14lld  elements E*C1*M\n", "D1", (long long)d.D1);
  std::printf("  %-4s %14lld  elements E*C2*M\n", "D2", (long long)d.D2);
  std::printf("  %-4s %14lld  bytes of one rank's buffers at their peak (schedule %s)\n", "mem",
              (long long)m.total, std::string(to_string(m.peak_schedule)).c_str());
  if (device) print_device_text(c, *device);
  std::printf(
      "\n# per-GPU collective volumes (size: AlltoAll send, AllGather out, ReduceScatter in, AllReduce "
      "buffer)\n");
  std::printf("%-6s %-4s %-14s %-13s %-5s %-5s %14s %14s %14s\n", "sched", "pass", "purpose", "collective",
              "group", "fused", "elements", "bytes", "wire bytes");
  for (ScheduleKind s : c.run.schedules)
    for (const auto& v : schedule_volumes(c, d, s))
      std::printf("%-6s %-4s %-14s %-13s %-5s %-5s %14lld %14lld %14.0f\n", std::string(to_string(s)).c_str(),
                  std::string(to_string(v.pass)).c_str(), v.purpose.c_str(),
                  std::string(to_string(v.collective)).c_str(), std::string(to_string(v.group)).c_str(),
                  v.fused.empty() ? "-" : v.fused.c_str(), (long long)v.elements, (long long)v.bytes,
                  v.wire_bytes);
}

}  // namespace

void add_check_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("check", "Validate a configuration; print derived sizes and collective volumes");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto backend = std::make_shared<std::string>();
  cmd->add_option("config", *path,
                  "configuration JSON file or embedded preset name (default: embedded default)");
  cmd->add_flag("--json", *json, "machine-readable output");
  add_backend_option(cmd, *backend);
  cmd->callback([path, json, backend] {
    std::string source;
    Config c = load_unvalidated_or_exit(*path, source);
    apply_backend_override(*backend, c);
    validate_or_exit(c, source, MachineLimits::this_machine());
    const DerivedSizes d = derive_sizes(c);
    const RankMemory m = estimate_rank_memory(c, d).value_or(RankMemory{});  // validated: it fits
    std::optional<DeviceEstimate> device;
    if (c.run.backend != Backend::Cpu) {
      const CudaAvailability cuda = probe_cuda();
      device = DeviceEstimate{estimate_device_memory(c, d, m).value_or(DeviceRankMemory{}), std::nullopt};
      if (cuda.device_memory_bytes > 0) {  // a device answers: the rank must fit its share of it
        device->device =
            DeviceLimit{cuda.device_name, cuda.device_memory_bytes, cuda.devices, c.parallel.ranks};
        if (const auto issue = device_memory_issue(c, d, *device->device)) {
          std::cerr << source << ": " << issue->line() << '\n';
          throw CLI::RuntimeError(2);
        }
      }
      if (const auto why = backend_unavailable(c.run.backend, cuda))
        std::cerr << "parm check: warning: run." << *why << " (parm run refuses it here)\n";
    }
    const std::optional<ModelSizes> model = c.model ? derive_model_sizes(c, d) : std::nullopt;  // validated
    if (!*json) {
      print_text(c, d, m, device);
      if (model) print_model_text(c, *model);
      return;
    }
    nlohmann::json out{{"config", config_to_json(c)},
                       {"valid", true},
                       {"sizes", sizes_json(d)},
                       {"rank_memory", memory_json(m)}};
    if (device) out["device_memory"] = device_json(c, *device);
    if (model) out["model"] = model_json(c, *model);
    nlohmann::json schedules = nlohmann::json::object();
    for (ScheduleKind s : c.run.schedules) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& v : schedule_volumes(c, d, s)) list.push_back(volume_json(v));
      schedules[std::string(to_string(s))] = list;
    }
    out["collectives"] = schedules;
    std::cout << out.dump(2) << '\n';
  });
}

}  // namespace parm::cli
