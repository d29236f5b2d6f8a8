// Sizes derived from a valid configuration (spec parm.md sections 4, 5 and 7): capacities, dispatched tensor
// sizes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/core/config.h"

namespace parm {

struct DerivedSizes {
  std::int64_t S = 0;              // tokens per MP group (B*L)
  std::int64_t N = 0;              // N_MP
  std::int64_t n_ep = 0;           // N_EP = P / N_MP
  std::int64_t n_esp = 0;          // N_ESP
  std::int64_t local_experts = 0;  // E_loc = E / N_EP
  std::int64_t h_shard = 0;        // H / N_ESP columns of each expert on one rank
  std::int64_t nodes = 0;
  std::int64_t C0 = 0;        // capacity of S tokens
  std::int64_t C1 = 0;        // capacity of S/N tokens (S1's token split)
  std::int64_t C2 = 0;        // C0 rounded up to a multiple of N
  std::int64_t D0 = 0;        // E*C0*M elements
  std::int64_t D1 = 0;        // E*C1*M
  std::int64_t D2 = 0;        // E*C2*M
  int bytes_per_element = 0;  // b

  // With drop_tokens = false the capacity is the largest expert load, known only after routing; the
  // capacities above are then those the capacity rule would give, a planning estimate.
  bool dynamic_capacity = false;
};

// A derived size that leaves the 64-bit range, blamed on the field that drives it.
struct SizeOverflow {
  std::string field;  // "layer.batch"
  std::string value;  // that field's value
  std::string rule;   // which size overflowed and the limit
};

struct CheckedSizes {
  std::optional<DerivedSizes> sizes;  // set when every size fits
  std::optional<SizeOverflow> overflow;
};

// Every product and sum checked, including the sizes the reference layer (--verify) and a no-drop capacity
// (up to S tokens per expert) reach at run time. Requires the per-field rules of validate() to hold
// (positive sizes, divisible layout); validate() reports the overflow.
CheckedSizes derive_sizes_checked(const Config& config);

// Requires validate(config) to have no errors; throws std::logic_error otherwise.
DerivedSizes derive_sizes(const Config& config);

}  // namespace parm
