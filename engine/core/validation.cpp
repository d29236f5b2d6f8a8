#include "engine/core/validation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/core/checked_math.h"
#include "engine/core/model_validation.h"
#include "engine/core/sizes.h"
#include "engine/schedules/schedule_registry.h"

namespace parm {
namespace {

std::string str(std::int64_t v) {
  return std::to_string(v);
}

// Whether a schedule that gates S/N tokens per MP rank (S1, S1F) runs, and those schedules' names ("S1/S1F").
bool runs_token_split(const RunOptions& run) {
  return std::any_of(run.schedules.begin(), run.schedules.end(),
                     [](ScheduleKind s) { return spec_of(s).split_tokens; });
}
std::string token_split_names() {
  std::string out;
  for (const ScheduleSpec* s : schedule_registry())
    if (s->split_tokens) out += (out.empty() ? "" : "/") + std::string(s->name);
  return out;
}

void require_positive(ConfigIssues& issues, const char* field, std::int64_t value, const char* symbol) {
  if (value < 1)
    issues.error(field, str(value), std::string("must be a positive integer (") + symbol + " >= 1)");
}

// bf16/fp16 run only on the cuda backends, whose expert GEMMs (cublasGemmGroupedBatchedEx) need 16-byte
// aligned 16-bit rows: M and the H-shard H/N_ESP multiples of 8 elements (spec gpu.md, "Expert GEMMs").
void validate_sixteen_bit(const LayerConfig& l, const RunOptions& run, ConfigIssues& issues) {
  if (l.dtype != DType::Bf16 && l.dtype != DType::Fp16) return;
  const std::string dtype(to_string(l.dtype));
  if (run.backend == Backend::Cpu) {
    issues.error("layer.dtype", dtype,
                 "the cpu backend computes in fp32 or fp64; " + dtype + " runs on backend cuda or cuda+mpi");
    return;
  }
  if (l.hidden >= 1 && l.hidden % 8 != 0)
    issues.error("layer.hidden", str(l.hidden),
                 "must be a multiple of 8 for " + dtype +
                     " on the cuda backends (16-byte aligned rows for the cuBLAS expert GEMMs, M % 8 == 0)");
}

void validate_layer(const LayerConfig& l, const RunOptions& run, ConfigIssues& issues) {
  require_positive(issues, "layer.batch", l.batch, "B");
  require_positive(issues, "layer.seq_len", l.seq_len, "L");
  require_positive(issues, "layer.hidden", l.hidden, "M");
  require_positive(issues, "layer.ffn_hidden", l.ffn_hidden, "H");
  require_positive(issues, "layer.num_experts", l.num_experts, "E");
  require_positive(issues, "layer.top_k", l.top_k, "k");
  if (l.num_experts > INT32_MAX)  // expert choices are stored as 32-bit indices
    issues.error("layer.num_experts", str(l.num_experts), "must be at most 2147483647 (2^31 - 1)");
  if (l.batch >= 1 && l.seq_len >= 1 && !checked_mul(l.batch, l.seq_len))
    issues.error(l.batch >= l.seq_len ? "layer.batch" : "layer.seq_len",
                 str(l.batch >= l.seq_len ? l.batch : l.seq_len),
                 "tokens S = batch*seq_len = " + str(l.batch) + "*" + str(l.seq_len) +
                     " leaves the 64-bit range (at most 9223372036854775807)");
  if (l.top_k >= 1 && l.num_experts >= 1 && l.top_k > l.num_experts)
    issues.error("layer.top_k", str(l.top_k),
                 "must not exceed num_experts (" + str(l.num_experts) + ") (k <= E)");
  if (!(l.capacity_factor > 0.0) || !std::isfinite(l.capacity_factor))
    issues.error("layer.capacity_factor", shortest(l.capacity_factor), "must be a finite number > 0 (f > 0)");
  if (l.min_capacity < 0) issues.error("layer.min_capacity", str(l.min_capacity), "must be >= 0");
  validate_sixteen_bit(l, run, issues);
}

void validate_parallel(const Config& c, ConfigIssues& issues) {
  const ParallelConfig& p = c.parallel;
  require_positive(issues, "parallel.ranks", p.ranks, "P");
  require_positive(issues, "parallel.gpus_per_node", p.gpus_per_node, "G");
  require_positive(issues, "parallel.mp", p.mp, "N_MP");
  require_positive(issues, "parallel.esp", p.esp, "N_ESP");
  if (p.ranks < 1 || p.gpus_per_node < 1 || p.mp < 1 || p.esp < 1) return;  // the ratios below need positives

  if (p.ranks % p.gpus_per_node != 0)
    issues.error("parallel.gpus_per_node", str(p.gpus_per_node),
                 "ranks (" + str(p.ranks) + ") must fill whole nodes (P % G == 0)");
  if (p.ranks % p.mp != 0) {
    issues.error("parallel.mp", str(p.mp),
                 "ranks (" + str(p.ranks) + ") must be divisible by mp (P % N_MP == 0)");
    return;  // N_EP is undefined
  }
  if (p.esp != 1 && p.esp != p.mp)
    issues.error("parallel.esp", str(p.esp),
                 "must be 1 or equal to mp (" + str(p.mp) + ") (N_ESP in {1, N_MP})");

  const LayerConfig& l = c.layer;
  const std::int64_t ep = p.ep();
  if (l.num_experts >= 1 && l.num_experts % ep != 0)
    issues.error(
        "layer.num_experts", str(l.num_experts),
        "must be divisible by the expert-parallel degree N_EP = ranks/mp = " + str(ep) + " (E % N_EP == 0)");
  if (l.ffn_hidden >= 1 && (p.esp == 1 || p.esp == p.mp) && l.ffn_hidden % p.esp != 0)
    issues.error(
        "layer.ffn_hidden", str(l.ffn_hidden),
        "must be divisible by esp (" + str(p.esp) + ") to shard each expert along H (H % N_ESP == 0)");
  const bool sixteen_bit = l.dtype == DType::Bf16 || l.dtype == DType::Fp16;
  if (sixteen_bit && c.run.backend != Backend::Cpu && l.ffn_hidden >= 1 && (p.esp == 1 || p.esp == p.mp) &&
      l.ffn_hidden % p.esp == 0 && (l.ffn_hidden / p.esp) % 8 != 0)
    issues.error(
        "layer.ffn_hidden", str(l.ffn_hidden),
        "the H-shard H/esp = " + str(l.ffn_hidden / p.esp) + " must be a multiple of 8 for " +
            std::string(to_string(l.dtype)) +
            " on the cuda backends (16-byte aligned rows for the cuBLAS expert GEMMs, (H / N_ESP) % 8 == 0)");
  const bool s1 = runs_token_split(c.run);
  if (s1 && l.batch >= 1 && l.seq_len >= 1 && checked_mul(l.batch, l.seq_len) && l.tokens() % p.mp != 0)
    issues.error("layer.seq_len", str(l.seq_len),
                 "tokens S = batch*seq_len = " + str(l.tokens()) + " must be divisible by mp (" + str(p.mp) +
                     ") when " + token_split_names() + " run (S % N_MP == 0)");

  if (p.ranks % p.gpus_per_node == 0 && (p.gpus_per_node % p.mp != 0))
    issues.warning("parallel.mp", str(p.mp),
                   "MP groups cross node boundaries (gpus_per_node " + str(p.gpus_per_node) +
                       " is not a multiple of mp): intra-node collectives of the MP group become inter-node");
}

void validate_run(const RunOptions& run, ConfigIssues& issues) {
  if (run.schedules.empty()) issues.error("run.schedules", "[]", "must name at least one schedule");
  for (std::size_t i = 0; i < run.schedules.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (run.schedules[i] == run.schedules[j])
        issues.error("run.schedules", std::string(to_string(run.schedules[i])),
                     "each schedule may appear once");
  if (run.warmup < 0) issues.error("run.warmup", str(run.warmup), "must be >= 0");
  if (run.iterations < 1) issues.error("run.iterations", str(run.iterations), "must be >= 1");
  if (run.warmup >= 0 && run.iterations >= 1 && !checked_add(run.warmup, run.iterations))
    issues.error("run.iterations", str(run.iterations),
                 "warmup + iterations leaves the 64-bit range (at most 9223372036854775807)");
}

}  // namespace

std::string gib(std::int64_t bytes) {
  char buf[32];
  const double g = static_cast<double>(bytes) / double(1 << 30);
  if (g >= 1024.0 * 1024.0)
    std::snprintf(buf, sizeof buf, "%.1f PiB", g / (1024.0 * 1024.0));
  else if (g >= 1024.0)
    std::snprintf(buf, sizeof buf, "%.1f TiB", g / 1024.0);
  else if (g >= 0.1)
    std::snprintf(buf, sizeof buf, "%.1f GiB", g);
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / double(1 << 20));
  return buf;
}

RankMemoryLimit rank_memory_limit(const Config& c, const MachineLimits& machine) {
  RankMemoryLimit out;
  if (c.run.backend != Backend::Cpu) {
    out.bytes = machine.device_memory_bytes;
    out.where = "the " + gib(out.bytes) + " of device memory assumed per rank for backend " +
                std::string(to_string(c.run.backend)) + " (an 80 GB data-centre GPU)";
    return out;
  }
  if (machine.host_memory_bytes <= 0) return out;
  out.sharing = machine.ranks_per_host > 0 ? machine.ranks_per_host : c.parallel.ranks;
  out.bytes = machine.host_memory_bytes / std::max<std::int64_t>(1, out.sharing);
  out.where = "the " + gib(out.bytes) + " each of the " + str(out.sharing) +
              " ranks on this host can have (" + gib(machine.host_memory_bytes) + " physical memory)";
  return out;
}

std::pair<const char*, std::int64_t> memory_driver(const LayerConfig& l, const RankMemory& m) {
  using Driver = std::pair<const char*, std::int64_t>;
  const Driver B{"layer.batch", l.batch}, L{"layer.seq_len", l.seq_len}, M{"layer.hidden", l.hidden},
      H{"layer.ffn_hidden", l.ffn_hidden}, E{"layer.num_experts", l.num_experts},
      C{"layer.min_capacity", l.min_capacity};
  const std::pair<std::int64_t, std::vector<Driver>> parts[] = {
      {m.activations, {B, L, M, E}},
      {std::max(m.dispatched, m.pipeline), {B, L, M, C, E}},
      {m.expert_hidden, {H, B, L, C}},
      {m.weights, {H, M, E}}};
  const auto* biggest = &parts[0];
  for (const auto& p : parts)
    if (p.first > biggest->first) biggest = &p;
  Driver top = biggest->second.front();
  for (const Driver& d : biggest->second)
    if (d.second > top.second) top = d;
  return top;
}

namespace {

void validate_memory(const Config& c, const DerivedSizes& d, const MachineLimits& machine,
                     ConfigIssues& issues) {
  const LayerConfig& l = c.layer;
  const std::optional<RankMemory> m = estimate_rank_memory(c, d);
  if (!m) {
    // Some byte count overflowed: the largest size is the one to reduce.
    std::pair<const char*, std::int64_t> top{"layer.batch", l.batch};
    for (const auto& size :
         {std::pair{"layer.seq_len", l.seq_len}, std::pair{"layer.hidden", l.hidden},
          std::pair{"layer.ffn_hidden", l.ffn_hidden}, std::pair{"layer.num_experts", l.num_experts},
          std::pair{"layer.min_capacity", l.min_capacity}})
      if (size.second > top.second) top = size;
    issues.error(top.first, str(top.second),
                 "one rank's buffers would need more than 8 EiB (their byte count leaves the 64-bit range)");
    return;
  }
  const bool device = c.run.backend != Backend::Cpu;
  const RankMemoryLimit allowed = rank_memory_limit(c, machine);
  if (allowed.bytes <= 0) return;  // unknown: nothing to compare with
  const std::int64_t sharing = allowed.sharing;
  const std::string& where = allowed.where;
  if (m->total <= allowed.bytes) return;
  const std::string need = "one rank's buffers need " + gib(m->total) + " (schedule " +
                           std::string(to_string(m->peak_schedule)) + ": activations " + gib(m->activations) +
                           ", dispatched " + gib(m->dispatched + m->expert_hidden + m->pipeline) +
                           ", weights and gradients " + gib(m->weights + m->gradients) + "), above " + where;
  // A layer that fits an eighth of the host is refused only because too many ranks share it.
  if (!device && sharing > 8 && m->total <= machine.host_memory_bytes / 8)
    return issues.error("parallel.ranks", str(c.parallel.ranks), need + "; use fewer ranks or a hostfile");
  const auto [field, value] = memory_driver(l, *m);
  issues.error(field, str(value), need);
}

void validate_sizes(const Config& c, const MachineLimits& machine, ConfigIssues& issues) {
  const CheckedSizes checked = derive_sizes_checked(c);
  if (checked.overflow) {
    const SizeOverflow& o = *checked.overflow;
    issues.error(o.field, o.value, o.rule);
    return;
  }
  validate_memory(c, *checked.sizes, machine, issues);
}

}  // namespace

ConfigIssues validate(const Config& config, const MachineLimits& machine) {
  ConfigIssues issues;
  if (config.name.size() > 256)  // it titles tables, runs and the GUI's pages
    issues.error(
        "name", config.name.substr(0, 37) + "...",
        "must be at most 256 bytes (it is " + str(static_cast<std::int64_t>(config.name.size())) + ")");
  validate_layer(config.layer, config.run, issues);
  validate_parallel(config, issues);
  validate_run(config.run, issues);
  if (!issues.has_errors()) validate_sizes(config, machine, issues);  // the sizes need a well-formed layout
  if (!issues.has_errors()) validate_model(config, machine, issues);  // the model wraps a valid layer
  return issues;
}

ConfigIssues validate(const Config& config) {
  return validate(config, MachineLimits::this_machine());
}

}  // namespace parm
