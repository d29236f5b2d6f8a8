// The expert shapes one rank runs, for the GPU experts benchmark and test: the four presets and three points
// of the paper grid, as the Parm schedules (S1/S2) feed the experts after the AlltoAll and the MP AllGather:
// (outer, E_loc, c, M) with outer = N_EP * N_MP, c = C2 / N_MP (C2 = C0 rounded up to a multiple of N_MP,
// spec section 3), E_loc = E / N_EP, and the H-shard Hs = H / N_ESP.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/capacity.h"
#include "resources/presets.h"

namespace parm::bench {

struct ExpertShape {
  std::string name;
  std::int64_t outer = 1, experts = 1, slots = 1, hidden = 0, shard = 0;
  bool swiglu = false;

  std::int64_t rows() const { return outer * slots; }
  // Floating-point operations of one forward + backward over every local expert: GEMMs of rows x M x Hs,
  // 2 forward + 4 backward for GELU, 3 + 6 for SwiGLU.
  double fwd_bwd_flops() const {
    const double one =
        2.0 * static_cast<double>(rows()) * static_cast<double>(hidden) * static_cast<double>(shard);
    return one * static_cast<double>(experts) * (swiglu ? 9.0 : 6.0);
  }
};

struct LayerNumbers {
  std::int64_t batch, seq_len, hidden, ffn_hidden, experts, top_k, min_capacity;
  double capacity_factor;
  std::int64_t ranks, mp, esp;
  bool swiglu;
};

inline ExpertShape expert_shape_of(const std::string& name, const LayerNumbers& l) {
  const std::int64_t ep = l.ranks / l.mp;
  if (ep <= 0 || l.experts % ep != 0 || l.ffn_hidden % l.esp != 0)
    throw std::invalid_argument("expert_shape_of: " + name + " does not divide evenly");
  const std::int64_t c0 =
      kernels::expert_capacity(l.batch * l.seq_len, l.experts, l.capacity_factor, l.top_k, l.min_capacity);
  const std::int64_t c2 = kernels::round_up(c0, l.mp);
  return {name, ep * l.mp, l.experts / ep, c2 / l.mp, l.hidden, l.ffn_hidden / l.esp, l.swiglu};
}

// A preset compiled into parm_resources.
inline ExpertShape preset_expert_shape(const std::string& preset) {
  const auto text = resources::embedded_preset(preset);
  if (!text) throw std::invalid_argument("no preset " + preset);
  const nlohmann::json j = nlohmann::json::parse(*text);
  const nlohmann::json& l = j.at("layer");
  const nlohmann::json& p = j.at("parallel");
  const auto i64 = [](const nlohmann::json& o, const char* key) { return o.at(key).get<std::int64_t>(); };
  LayerNumbers n{};
  n.batch = i64(l, "batch");
  n.seq_len = i64(l, "seq_len");
  n.hidden = i64(l, "hidden");
  n.ffn_hidden = i64(l, "ffn_hidden");
  n.experts = i64(l, "num_experts");
  n.top_k = i64(l, "top_k");
  n.min_capacity = l.value("min_capacity", std::int64_t{8});
  n.capacity_factor = l.at("capacity_factor").get<double>();
  n.ranks = i64(p, "ranks");
  n.mp = i64(p, "mp");
  n.esp = p.value("esp", n.mp);
  n.swiglu = l.value("activation", std::string("gelu")) == "swiglu";
  return expert_shape_of(preset, n);
}

inline std::vector<ExpertShape> preset_expert_shapes() {
  std::vector<ExpertShape> shapes;
  for (const char* p : {"default", "bert-base-moe", "gpt2-moe", "tc1"})
    shapes.push_back(preset_expert_shape(p));
  return shapes;
}

// Three points of resources/grids/paper-grid.json (32 GPUs, N_MP = N_ESP = 4, N_EP = 8): many small experts,
// the grid's centre with f = 2, and the largest layer.
inline std::vector<ExpertShape> paper_grid_expert_shapes() {
  return {
      expert_shape_of("grid B1 L512 M768 H2x E32 k1 f1.0",
                      {1, 512, 768, 1536, 32, 1, 8, 1.0, 32, 4, 4, false}),
      expert_shape_of("grid B4 L1024 M1024 H4x E16 k2 f2.0",
                      {4, 1024, 1024, 4096, 16, 2, 8, 2.0, 32, 4, 4, false}),
      expert_shape_of("grid B8 L2048 M2048 H4x E32 k2 f1.2",
                      {8, 2048, 2048, 8192, 32, 2, 8, 1.2, 32, 4, 4, false}),
  };
}

}  // namespace parm::bench
