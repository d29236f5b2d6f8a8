#include "engine/core/device_memory_check.h"

#include "engine/core/validation.h"

namespace parm {

std::optional<ConfigIssue> device_memory_issue(const Config& config, const DerivedSizes& sizes,
                                               const DeviceLimit& device) {
  const Backend backend = config.run.backend;
  if (backend == Backend::Cpu || device.memory_bytes <= 0) return std::nullopt;
  const std::optional<RankMemory> buffers = estimate_rank_memory(config, sizes);
  const std::optional<DeviceRankMemory> estimate =
      buffers ? estimate_device_memory(config, sizes, *buffers) : std::nullopt;
  ConfigIssue issue;
  if (!buffers || !estimate) {  // validate() names the overflowing size; only a config it refused gets here
    issue.field = "layer.batch";
    issue.value = std::to_string(config.layer.batch);
    issue.rule = "one GPU rank's device memory leaves the 64-bit range";
    return issue;
  }
  const DeviceRankMemory need = estimate.value();
  const std::int64_t sharing = ranks_per_device(backend, device);
  const std::int64_t share = device_share(backend, device);
  if (need.total <= share) return std::nullopt;
  const std::string device_text = device.name + " (" + gib(device.memory_bytes) + ")";
  issue.rule = "one GPU rank needs " + gib(need.total) + " of device memory (buffers " + gib(need.buffers) +
               ", saved for backward " + gib(need.saved_for_backward) + ", per-pass buffers " +
               gib(need.pass_buffers) + ", cuBLAS workspace and CUDA context " +
               gib(need.cublas_workspace + need.context) + "), above the " +
               (sharing > 1 ? gib(share) + " each of the " + std::to_string(sharing) + " ranks sharing one " +
                                  device_text + " can have (backend cuda+mpi)"
                            : "memory of one " + device_text);
  // A rank that would fit a device of its own is refused only because too many ranks share one.
  if (sharing > 1 && need.total <= device.memory_bytes) {
    issue.field = "parallel.ranks";
    issue.value = std::to_string(config.parallel.ranks);
    issue.rule += "; use fewer ranks per device";
    return issue;
  }
  const auto [field, value] = memory_driver(config.layer, *buffers);
  issue.field = field;
  issue.value = std::to_string(value);
  return issue;
}

}  // namespace parm
