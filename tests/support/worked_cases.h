// The worked cases of spec parm.md section 7 (TC-1's layout, TC-3's constants, TC-4, TC-5) as the model
// suites use them, so every suite checks the same configurations and constants, and the embedded presets by
// name. Header-only: it needs the engine's config and model headers and the embedded presets only.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "engine/core/config_json.h"
#include "engine/model/calibration.h"
#include "engine/model/cost_model.h"
#include "resources/presets.h"

namespace parm::worked_cases {

constexpr double ms_per_byte(double bytes_per_s) {
  return 1e3 / bytes_per_s;
}

// The (n-1)/n bus share of a ring collective over n ranks.
inline double share(int n) {
  return double(n - 1) / double(n);
}

// One exactly fitted alpha-beta line (r2 1) of a calibration: op, communicator, group size, alpha ms, beta ms
// per unit.
inline CalibrationFit exact_fit(const char* op, const char* comm, int n, double alpha, double beta) {
  CalibrationFit f;
  f.op = op;
  f.communicator = comm;
  f.group_size = n;
  f.fit.alpha = alpha;
  f.fit.beta = beta;
  f.fit.r2 = 1;
  return f;
}

// An embedded preset by name, loaded and validated; throws when it does not load (a broken preset is a bug).
inline Config preset(const char* name) {
  const std::optional<std::string_view> text = resources::embedded_preset(name);
  if (!text) throw std::runtime_error(std::string("no embedded preset ") + name);
  const ConfigLoad load = config_from_json_text(*text);
  if (!load.ok()) throw std::runtime_error(std::string("preset ") + name + " does not load");
  return *load.config;
}

// TC-1: the embedded preset (32 GPUs, 8 nodes x 4, N_MP = N_ESP = 4, N_EP = 8, bf16).
inline Config tc1() {
  return preset("tc1");
}

// TC-4: one node of 8 GPUs, B=4, L=512, M=1024, E=4, k=2, f=1.2, N=4, N_EP=2 (shared links).
inline Config tc4() {
  Config c = tc1();
  c.layer.seq_len = 512;
  c.layer.num_experts = 4;
  c.parallel = {8, 8, 4, 4};
  return c;
}

// TC-5: B=1, L=128, M=512, E=8, k=1, f=1.0, min_capacity=1 on TC-1's layout.
inline Config tc5() {
  Config c = tc1();
  c.layer.batch = 1;
  c.layer.seq_len = 128;
  c.layer.hidden = 512;
  c.layer.top_k = 1;
  c.layer.capacity_factor = 1.0;
  c.layer.min_capacity = 1;
  return c;
}

// TC-3's constants (also TC-5's) as cost-model parameters.
inline CommCostParams tc3_params() {
  CommCostParams p;
  p.alltoall = {0.2, ms_per_byte(3e9)};
  p.p2p_alpha_ms = 0.02;
  p.allgather = {0.03, ms_per_byte(10e9)};
  p.reduce_scatter = {0.03, ms_per_byte(10e9)};
  p.allreduce = {0.05, ms_per_byte(10e9)};
  return p;
}

// TC-3's constants as a calibration of `layout`: fits stored against the spec's size convention (AllGather
// output bytes, ...), so their slope carries the bus share. With `with_compute`, small gemm / gate / order /
// combine fits (otherwise compute costs 0); no interference.
inline Calibration tc3_calibration(const ParallelConfig& layout, bool with_compute) {
  Calibration c;
  c.id = with_compute ? "calib-tc3" : "calib-tc3-comm";
  c.layout = layout;
  c.dtype = DType::Bf16;
  c.interference = 1.0;
  const int ep = static_cast<int>(layout.ranks / layout.mp), mp = static_cast<int>(layout.mp);
  auto fit = [&](const char* op, const char* comm, int n, double alpha, double beta) {
    c.fits.push_back(exact_fit(op, comm, n, alpha, beta));
  };
  fit("alltoall", "EP", ep, 0.2, ms_per_byte(3e9));
  fit("p2p", "EP", ep, 0.02, ms_per_byte(3e9));
  fit("allgather", "MP", mp, 0.03, ms_per_byte(10e9) * share(mp));
  fit("reducescatter", "MP", mp, 0.03, ms_per_byte(10e9) * share(mp));
  fit("allreduce", "MP", mp, 0.05, ms_per_byte(10e9) * 2 * share(mp));
  if (with_compute) {
    fit("gemm", "local", 1, 0.01, 1e-9);  // 1 TFLOP-ish
    fit("gate", "local", 1, 0.005, 1e-8);
    fit("order", "local", 1, 0.005, 1e-8);
    fit("combine", "local", 1, 0.005, 1e-8);
  }
  return c;
}

}  // namespace parm::worked_cases
