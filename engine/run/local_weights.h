// The parameters one rank holds: the replicated router and, for its E_loc experts, the H-shard of its ESP
// index (whole experts when N_ESP = 1). Built from the counter-based generator at GLOBAL indices, so every
// layout holds slices of the same global layer the reference runs.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/backend/buffer.h"
#include "engine/core/config.h"
#include "engine/core/rank_layout.h"

namespace parm {

template <typename T>
struct LocalWeights {
  std::int64_t hidden = 0;  // M
  std::int64_t shard = 0;   // Hs = H / N_ESP
  std::int64_t h0 = 0;      // first global FFN column of the shard
  std::int64_t first_expert = 0;
  std::int64_t local_experts = 0;  // E_loc
  bool adds_b2 = false;            // exactly one shard adds the output bias, so sums over shards add it once
  std::vector<T> wg;               // (M,E)
  std::vector<T> w1, w3;           // (E_loc,M,Hs)
  std::vector<T> b1, b3;           // (E_loc,Hs)
  std::vector<T> w2;               // (E_loc,Hs,M)
  std::vector<T> b2;               // (E_loc,M), empty unless adds_b2 and bias
};

// Gradients shaped like LocalWeights (b2 empty where the weights have none).
template <typename T>
struct LocalGradients {
  std::vector<T> dwg, dw1, dw3, db1, db3, dw2, db2;
};

// Parameters (or their gradients) in a backend's memory, shaped like LocalWeights.
template <typename T>
struct DeviceTensors {
  backend::Buffer<T> wg, w1, w3, b1, b3, w2, b2;
};

template <typename T>
DeviceTensors<T> upload_weights(backend::Allocator& allocator, const LocalWeights<T>& w);
template <typename T>
DeviceTensors<T> upload_gradients(backend::Allocator& allocator, const LocalGradients<T>& g);
template <typename T>
void download_gradients(backend::Allocator& allocator, const DeviceTensors<T>& device, LocalGradients<T>& g);

template <typename T>
LocalWeights<T> make_local_weights(const Config& config, const RankLayout& layout);

template <typename T>
LocalGradients<T> zero_gradients_like(const LocalWeights<T>& w);

}  // namespace parm
