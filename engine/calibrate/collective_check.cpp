#include "engine/calibrate/collective_check.h"

#include <stdexcept>

namespace parm::calibrate {

float pattern_value(int rank, std::int64_t index) {
  // 61 is prime and the steps 7 and 13 are coprime to it: neighbouring ranks and indices differ.
  const std::int64_t v = (std::int64_t(rank) * 7 + (index % 977) * 13) % 61;
  return static_cast<float>(v - 30);
}

std::vector<float> pattern_buffer(int rank, std::size_t elements) {
  std::vector<float> out(elements);
  for (std::size_t i = 0; i < elements; ++i) out[i] = pattern_value(rank, std::int64_t(i));
  return out;
}

std::size_t input_elements(CheckedCollective op, int n, std::size_t count) {
  const std::size_t all = std::size_t(n) * count;
  switch (op) {
    case CheckedCollective::AlltoAll:
    case CheckedCollective::ReduceScatter:
      return all;
    case CheckedCollective::AllGather:
    case CheckedCollective::AllReduce:
    case CheckedCollective::SendRecv:
      return count;
  }
  throw std::logic_error("collective check: unknown collective");
}

std::size_t output_elements(CheckedCollective op, int n, std::size_t count) {
  const std::size_t all = std::size_t(n) * count;
  switch (op) {
    case CheckedCollective::AlltoAll:
    case CheckedCollective::AllGather:
      return all;
    case CheckedCollective::ReduceScatter:
    case CheckedCollective::AllReduce:
    case CheckedCollective::SendRecv:
      return count;
  }
  throw std::logic_error("collective check: unknown collective");
}

float expected_value(CheckedCollective op, int n, int rank, std::size_t count, std::size_t index) {
  const auto sum_over_ranks = [n](std::int64_t i) {
    float s = 0;
    for (int q = 0; q < n; ++q) s += pattern_value(q, i);
    return s;
  };
  const std::size_t peer = count ? index / count : 0, within = count ? index % count : 0;
  switch (op) {
    case CheckedCollective::AlltoAll:  // block `peer` is what peer sent to this rank: its block `rank`
      return pattern_value(int(peer), std::int64_t(std::size_t(rank) * count + within));
    case CheckedCollective::AllGather:  // block `peer` is peer's whole send buffer
      return pattern_value(int(peer), std::int64_t(within));
    case CheckedCollective::ReduceScatter:  // the sum over ranks of their block `rank`
      return sum_over_ranks(std::int64_t(std::size_t(rank) * count + index));
    case CheckedCollective::AllReduce:
      return sum_over_ranks(std::int64_t(index));
    case CheckedCollective::SendRecv:  // received from rank - 1
      return pattern_value((rank + n - 1) % n, std::int64_t(index));
  }
  throw std::logic_error("collective check: unknown collective");
}

std::int64_t count_wrong(CheckedCollective op, int n, int rank, std::size_t count, const float* out) {
  std::int64_t wrong = 0;
  const std::size_t elements = output_elements(op, n, count);
  for (std::size_t i = 0; i < elements; ++i)
    if (!(out[i] == expected_value(op, n, rank, count, i))) ++wrong;
  return wrong;
}

}  // namespace parm::calibrate
