// The tiny layer the MPI executor suites run every schedule on (S = 16 tokens, divisible by every N_MP used),
// and the (N_MP, N_ESP) layouts each world size runs it on: N_EP = P / N_MP. The set is (1,1,4),
// (2,2,2), (2,1,2) on 4 ranks and (4,4,2), (2,2,4), (4,1,2) on 8.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "engine/core/config.h"
#include "tests/engine/mpi_test_main.h"

namespace parm::test {

inline Config tiny_layer(int mp, int esp, std::uint64_t seed) {
  Config c;
  c.name = "tiny";
  c.layer.batch = 2;
  c.layer.seq_len = 8;
  c.layer.hidden = 8;
  c.layer.ffn_hidden = 16;
  c.layer.num_experts = 8;
  c.layer.top_k = 2;
  c.layer.min_capacity = 1;
  c.parallel = {world_size(), world_size() >= 8 ? 4 : 2, mp, esp};
  c.run.seed = seed;
  return c;
}

inline std::vector<std::pair<int, int>> tiny_layouts() {
  switch (world_size()) {
    case 2:
      return {{1, 1}, {2, 2}, {2, 1}};
    case 4:
      return {{1, 1}, {2, 2}, {2, 1}, {4, 4}};
    case 8:
      return {{4, 4}, {2, 2}, {4, 1}, {1, 1}};
    default:
      return {{1, 1}};
  }
}

// The three regimes the MPI exactness suites run a layer in: 0 fp64 with no drop (dynamic capacity), 1 fp32
// with capacity factor 8 and SwiGLU (nothing dropped), 2 fp64 with drops; with their row name and tolerance.
struct Regime {
  Config config;
  const char* name;
  double tolerance;
};
inline Regime tiny_regime(Config c, int regime) {
  c.layer.dtype = regime == 1 ? DType::Fp32 : DType::Fp64;
  c.layer.drop_tokens = regime != 0;
  c.layer.capacity_factor = regime == 1 ? 8.0 : 1.0;
  c.layer.activation = regime == 1 ? Activation::Swiglu : Activation::Gelu;
  const char* names[] = {"fp64 no-drop", "fp32 f=8 swiglu", "fp64 drop"};
  return {c, names[regime], regime == 1 ? 1e-5 : 1e-12};
}
inline constexpr int kRegimes = 3;

}  // namespace parm::test
