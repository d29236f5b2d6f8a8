// This rank's MP group's slice of a global (S, M) tensor at scale 1 (tensor_init.h layouts): the input and
// output gradient the executor suites feed every schedule. The golden hashes were recorded on these values.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/config.h"
#include "engine/core/rank_layout.h"
#include "engine/run/tensor_init.h"

namespace parm::test {

template <typename T>
std::vector<T> mp_group_tensor(const Config& c, const RankLayout& l, TensorId id) {
  const std::int64_t sm = c.layer.tokens() * c.layer.hidden;
  std::vector<T> v(static_cast<std::size_t>(sm));
  fill(v.data(), sm, c.run.seed, id, static_cast<std::uint64_t>(l.mp_group * sm), 1.0);
  return v;
}

}  // namespace parm::test
