#include "engine/run/routing_validity.h"

#include <map>
#include <utility>
#include <vector>

#include "engine/backend/element_type.h"

namespace parm {
namespace {

std::string choice_name(std::int64_t c, std::int64_t top_k) {
  return "choice " + std::to_string(c % top_k) + " of token " + std::to_string(c / top_k);
}

}  // namespace

RoutingValidity check_routing(const backend::HostRouting& r) {
  RoutingValidity out;
  const std::int64_t choices = r.tokens * r.top_k;
  out.counts.capacity_slots = r.experts * r.capacity;
  if (r.tokens < 0 || r.top_k < 1 || r.capacity < 0 ||
      static_cast<std::int64_t>(r.expert.size()) != choices || r.position.size() != r.expert.size()) {
    out.rule_broken = "routing shape: " + std::to_string(r.expert.size()) + " experts and " +
                      std::to_string(r.position.size()) + " slots for " + std::to_string(r.tokens) +
                      " tokens x k " + std::to_string(r.top_k);
    return out;
  }
  const auto at = [](const auto& v, std::int64_t i) { return v[static_cast<std::size_t>(i)]; };
  for (std::int64_t c = 0; c < choices; ++c) {
    const std::int32_t e = at(r.expert, c);
    if (e < 0 || e >= r.experts) {
      out.rule_broken = "expert out of range: " + choice_name(c, r.top_k) + " picks expert " +
                        std::to_string(e) + " of " + std::to_string(r.experts);
      return out;
    }
    const std::int64_t slot = at(r.position, c);
    if (slot < -1 || slot >= r.capacity) {
      out.rule_broken = "kept choice outside capacity: " + choice_name(c, r.top_k) + " holds slot " +
                        std::to_string(slot) + " of expert " + std::to_string(e) + " (capacity " +
                        std::to_string(r.capacity) + ")";
      return out;
    }
    (slot >= 0 ? out.counts.kept : out.counts.dropped) += 1;
  }
  std::map<std::pair<std::int32_t, std::int64_t>, std::int64_t> holder;  // (expert, slot) -> choice
  for (std::int64_t c = 0; c < choices; ++c) {
    if (at(r.position, c) < 0) continue;
    const auto [it, fresh] = holder.emplace(std::pair{at(r.expert, c), at(r.position, c)}, c);
    if (!fresh) {
      out.rule_broken = "slot used twice: slot " + std::to_string(at(r.position, c)) + " of expert " +
                        std::to_string(at(r.expert, c)) + " by " + choice_name(it->second, r.top_k) +
                        " and " + choice_name(c, r.top_k);
      return out;
    }
  }
  // Choice-major: walking choice j of every token, then choice j+1, each expert's slots fill 0, 1, 2, ...
  std::vector<std::int64_t> next(static_cast<std::size_t>(r.experts), 0);
  for (std::int64_t j = 0; j < r.top_k; ++j)
    for (std::int64_t t = 0; t < r.tokens; ++t) {
      const std::int64_t c = t * r.top_k + j;
      std::int64_t& n = next[static_cast<std::size_t>(at(r.expert, c))];
      const std::int64_t want = n < r.capacity ? n : -1;
      ++n;
      if (at(r.position, c) != want) {
        out.rule_broken = "slots not choice-major: " + choice_name(c, r.top_k) + " holds slot " +
                          std::to_string(at(r.position, c)) + " of expert " +
                          std::to_string(at(r.expert, c)) + ", choice-major order gives " +
                          std::to_string(want);
        return out;
      }
    }
  return out;
}

template <typename T>
RoutingValidity check_routing(const backend::HostRouting& r, const T* output_rows, std::int64_t hidden) {
  RoutingValidity out = check_routing(r);
  if (!out.valid()) return out;
  for (std::int64_t t = 0; t < r.tokens; ++t) {
    bool kept = false;
    for (std::int64_t j = 0; j < r.top_k; ++j)
      kept = kept || r.position[static_cast<std::size_t>(t * r.top_k + j)] >= 0;
    if (kept) continue;
    ++out.counts.dropped_tokens;
    for (std::int64_t i = 0; i < hidden; ++i) {
      const double v = to_double(output_rows[t * hidden + i]);
      if (v != 0.0) {
        out.rule_broken = "dropped token's output not zero: token " + std::to_string(t) +
                          " kept no choice but its output[" + std::to_string(i) + "] is " + std::to_string(v);
        return out;
      }
    }
  }
  return out;
}

template RoutingValidity check_routing<float>(const backend::HostRouting&, const float*, std::int64_t);
template RoutingValidity check_routing<double>(const backend::HostRouting&, const double*, std::int64_t);
template RoutingValidity check_routing<Bf16>(const backend::HostRouting&, const Bf16*, std::int64_t);
template RoutingValidity check_routing<F16>(const backend::HostRouting&, const F16*, std::int64_t);

}  // namespace parm
