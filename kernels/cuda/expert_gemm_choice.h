// Which expert GEMM path (expert_gemm.h) runs a shape, and the PARM_EXPERT_GEMM override the benchmark uses
// to measure both. Host-only, no CUDA headers, so the rule is tested in every CI run.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace parm::kernels::cuda {

enum class ExpertGemmPath { Grouped, Loop };

// Per-expert products whose output has at least this many elements fill an H100/H200 on their own: 2^23
// elements are 512 output tiles of 128 x 128, about four waves over 132 SMs.
inline constexpr std::int64_t kLoopMinProductElements = std::int64_t{1} << 23;

// The rule: the per-expert loop when there is nothing to group (one local expert) or when each expert's
// first projection (rows x shard) fills the device by itself, since then one launch per expert costs
// nothing and each product gets the kernel cuBLAS tunes for its own shape; the grouped call otherwise
// (several small experts: one launch fills the SMs with all of them). bench/gpu_experts_bench.cpp measures
// both on every shape it prints.
inline ExpertGemmPath choose_expert_gemm_path(std::int64_t experts, std::int64_t rows, std::int64_t shard) {
  if (experts <= 1) return ExpertGemmPath::Loop;
  return rows * shard >= kLoopMinProductElements ? ExpertGemmPath::Loop : ExpertGemmPath::Grouped;
}

// PARM_EXPERT_GEMM: "grouped" or "loop" force a path; unset, empty or "auto" keep the rule.
inline std::optional<ExpertGemmPath> parse_expert_gemm_override(const char* value) {
  if (!value) return std::nullopt;
  const std::string_view v(value);
  if (v.empty() || v == "auto") return std::nullopt;
  if (v == "grouped") return ExpertGemmPath::Grouped;
  if (v == "loop") return ExpertGemmPath::Loop;
  throw std::invalid_argument("PARM_EXPERT_GEMM must be grouped, loop or auto, not '" + std::string(v) + "'");
}

inline const char* expert_gemm_path_name(ExpertGemmPath p) {
  return p == ExpertGemmPath::Grouped ? "grouped" : "loop";
}

}  // namespace parm::kernels::cuda
