// The per-element functions of kernels/shared, run over a host grid the way the CUDA kernels run them (a loop
// over what would be blocks and threads, std::stable_sort standing in for CUB's stable radix sort), against
// kernels/cpu on the same inputs: choices, positions and loads bit for bit, the softmax, combine weights,
// dispatch and combine (and every backward) bit for bit in fp32 and fp64. This is the issue's "routing of a
// CUDA run equals the CPU routing bit for bit" on the host.
#include <QtTest/QtTest>
#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/capacity.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/gate.h"
#include "kernels/cpu/routing.h"
#include "kernels/layout_index.h"
#include "kernels/shared/block_copy_math.h"
#include "kernels/shared/combine_weight_math.h"
#include "kernels/shared/gather_math.h"
#include "kernels/shared/routing_math.h"
#include "kernels/shared/softmax_math.h"
#include "kernels/shared/topk_math.h"

using namespace parm::kernels;
namespace layout = parm::layout;

namespace {

struct Shape {
  std::int64_t tokens, experts, top_k, hidden;
};

// T not a multiple of anything, k = 1, 2, 4, E up to 16.
const Shape kShapes[] = {{77, 6, 2, 40}, {131, 8, 1, 24}, {97, 16, 4, 33}, {256, 8, 2, 16}, {5, 4, 4, 7}};

template <typename S>
std::vector<S> random_values(std::int64_t n, std::uint64_t seed, double scale) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(-scale, scale);
  std::vector<S> v(static_cast<std::size_t>(n));
  for (S& x : v) x = static_cast<S>(dist(rng));
  return v;
}

// Logits with ties on purpose: every third row rounds its logits to a coarse grid, so equal probabilities
// (and the lower-index rule) occur in the top k.
template <typename S>
std::vector<S> logits_with_ties(const Shape& s, std::uint64_t seed) {
  std::vector<S> v = random_values<S>(s.tokens * s.experts, seed, 3.0);
  for (std::int64_t t = 0; t < s.tokens; t += 3)
    for (std::int64_t e = 0; e < s.experts; ++e) {
      S& x = v[static_cast<std::size_t>(t * s.experts + e)];
      x = static_cast<S>(std::round(static_cast<double>(x)));
    }
  return v;
}

template <typename S>
bool bits_equal(const std::vector<S>& a, const std::vector<S>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(S)) == 0;
}

// Host grid of the softmax + top-k kernel: one "thread" per token.
template <typename S>
void grid_softmax_topk(std::vector<S>& values, const Shape& s, std::vector<std::int32_t>& choices) {
  choices.assign(static_cast<std::size_t>(s.tokens * s.top_k), -1);
  for (std::int64_t t = 0; t < s.tokens; ++t) {
    shared::softmax_row(values.data() + t * s.experts, s.experts);
    shared::top_k_row(values.data() + t * s.experts, s.experts, s.top_k, choices.data() + t * s.top_k);
  }
}

// The cpu's top-k before it called kernels/shared (std::partial_sort on the total order): an independent
// statement of the tie rule.
template <typename S>
std::vector<std::int32_t> partial_sort_top_k(const std::vector<S>& probs, const Shape& s) {
  std::vector<std::int32_t> choices, order(static_cast<std::size_t>(s.experts));
  for (std::int64_t t = 0; t < s.tokens; ++t) {
    const S* p = probs.data() + t * s.experts;
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + s.top_k, order.end(),
                      [p](std::int32_t a, std::int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
    choices.insert(choices.end(), order.begin(), order.begin() + s.top_k);
  }
  return choices;
}

struct GridRouting {
  std::vector<std::int64_t> loads, position;
};

// Host grid of histogram -> exclusive scan -> stable sort by expert -> position kernel.
GridRouting grid_positions(const std::vector<std::int32_t>& choices, const Shape& s, std::int64_t capacity) {
  const std::int64_t n = s.tokens * s.top_k;
  GridRouting r;
  r.loads.assign(static_cast<std::size_t>(s.experts), 0);
  for (std::int64_t c = 0; c < n; ++c)
    ++r.loads[static_cast<std::size_t>(choices[static_cast<std::size_t>(c)])];
  std::vector<std::int64_t> offset(r.loads.size(), 0);
  std::exclusive_scan(r.loads.begin(), r.loads.end(), offset.begin(), std::int64_t{0});
  std::vector<std::pair<std::int32_t, std::int64_t>> keyed(static_cast<std::size_t>(n));
  for (std::int64_t cm = 0; cm < n; ++cm) {
    const std::int64_t c = shared::token_major_index(cm, s.tokens, s.top_k);
    keyed[static_cast<std::size_t>(cm)] = {choices[static_cast<std::size_t>(c)], cm};
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  r.position.assign(static_cast<std::size_t>(n), -2);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto [expert, cm] = keyed[static_cast<std::size_t>(i)];
    const std::int64_t c = shared::token_major_index(cm, s.tokens, s.top_k);
    r.position[static_cast<std::size_t>(c)] =
        shared::slot_of_sorted(i, offset[static_cast<std::size_t>(expert)], capacity);
  }
  return r;
}

// The capacities a case runs with: one that drops (f = 0.6 of the spec rule) and the no-drop largest load.
std::vector<std::int64_t> capacities_for(const std::vector<std::int64_t>& loads, const Shape& s) {
  return {expert_capacity(s.tokens, s.experts, 0.6, s.top_k, 1),
          *std::max_element(loads.begin(), loads.end())};
}

template <typename S>
void check_routing_and_layer(const Shape& s, std::uint64_t seed) {
  const std::vector<S> logits = logits_with_ties<S>(s, seed);
  std::vector<S> cpu_probs = logits, grid_probs = logits;
  cpu::softmax_rows(cpu_probs.data(), s.tokens, s.experts);
  std::vector<std::int32_t> grid_choices;
  grid_softmax_topk(grid_probs, s, grid_choices);
  QVERIFY2(bits_equal(grid_probs, cpu_probs), "softmax differs from kernels/cpu");
  const std::vector<std::int32_t> cpu_choices =
      cpu::top_k_choices(cpu_probs.data(), s.tokens, s.experts, s.top_k);
  QVERIFY2(grid_choices == cpu_choices, "top-k choices differ from kernels/cpu");
  QVERIFY2(grid_choices == partial_sort_top_k(cpu_probs, s), "top-k choices differ from a partial sort");

  bool saw_tie = false;  // the inputs must exercise the tie rule, or the test proves less than it says
  for (std::int64_t t = 0; t < s.tokens && !saw_tie; ++t)
    for (std::int64_t a = 0; a < s.experts; ++a)
      for (std::int64_t b = a + 1; b < s.experts; ++b)
        saw_tie = saw_tie || cpu_probs[static_cast<std::size_t>(t * s.experts + a)] ==
                                 cpu_probs[static_cast<std::size_t>(t * s.experts + b)];
  QVERIFY2(saw_tie, "no tied probabilities in the input");

  const std::int64_t n = s.tokens * s.top_k, m = s.hidden;
  const std::vector<S> x = random_values<S>(s.tokens * m, seed + 1, 1.0);
  const std::vector<S> dout = random_values<S>(s.tokens * m, seed + 2, 1.0);
  const std::vector<S> dweights = random_values<S>(n, seed + 3, 1.0);
  const std::vector<S> dprobs_in = random_values<S>(s.tokens * s.experts, seed + 4, 1.0);
  bool saw_drop = false;
  for (const std::int64_t capacity : capacities_for(cpu::expert_loads(cpu_choices, s.experts), s)) {
    const cpu::Routing ref = cpu::make_routing(cpu_probs.data(), s.tokens, s.experts, s.top_k, capacity);
    const GridRouting grid = grid_positions(grid_choices, s, capacity);
    QCOMPARE(grid.loads, ref.tokens_per_expert);
    QCOMPARE(grid.position, ref.position);
    saw_drop = saw_drop || cpu::dropped_choices(ref) > 0;

    // Combine weights and their backward, one "thread" per token.
    std::vector<S> cpu_w(static_cast<std::size_t>(n)), grid_w(cpu_w.size());
    cpu::combine_weights(ref, cpu_probs.data(), cpu_w.data());
    for (std::int64_t t = 0; t < s.tokens; ++t)
      shared::combine_weights_row(grid_probs.data() + t * s.experts, grid_choices.data() + t * s.top_k,
                                  grid.position.data() + t * s.top_k, s.top_k, grid_w.data() + t * s.top_k);
    QVERIFY2(bits_equal(grid_w, cpu_w), "combine weights differ");
    std::vector<S> cpu_dp(static_cast<std::size_t>(s.tokens * s.experts)), grid_dp(cpu_dp.size());
    cpu::combine_weights_backward(ref, cpu_probs.data(), cpu_w.data(), dweights.data(), cpu_dp.data());
    for (std::int64_t t = 0; t < s.tokens; ++t)
      shared::combine_weights_row_backward(
          grid_probs.data() + t * s.experts, grid_choices.data() + t * s.top_k,
          grid.position.data() + t * s.top_k, grid_w.data() + t * s.top_k, dweights.data() + t * s.top_k,
          s.top_k, s.experts, grid_dp.data() + t * s.experts);
    QVERIFY2(bits_equal(grid_dp, cpu_dp), "combine weights backward differs");

    // Dispatch: zero, then one "thread" per (choice, m).
    const std::int64_t slot_elements = s.experts * capacity * m;
    std::vector<S> cpu_disp(static_cast<std::size_t>(slot_elements)), grid_disp(cpu_disp.size(), S(0));
    cpu::dispatch(ref, x.data(), m, cpu_disp.data());
    for (std::int64_t c = 0; c < n; ++c)
      for (std::int64_t e = 0; e < m; ++e) {
        const std::int64_t target =
            shared::dispatch_target(grid_choices[static_cast<std::size_t>(c)],
                                    grid.position[static_cast<std::size_t>(c)], capacity, m, e);
        if (target >= 0)
          grid_disp[static_cast<std::size_t>(target)] = x[static_cast<std::size_t>((c / s.top_k) * m + e)];
      }
    QVERIFY2(bits_equal(grid_disp, cpu_disp), "dispatch differs");

    // The expert outputs stand-in: any (E, C, M) tensor.
    const std::vector<S> y = random_values<S>(slot_elements, seed + 5, 1.0);
    // Dispatch backward and combine, one "thread" per (token, m).
    std::vector<S> cpu_dx(static_cast<std::size_t>(s.tokens * m), S(0)), grid_dx(cpu_dx.size());
    cpu::dispatch_backward(ref, y.data(), m, cpu_dx.data());
    std::vector<S> cpu_out(cpu_dx.size()), grid_out(cpu_dx.size());
    cpu::combine(ref, cpu_w.data(), y.data(), m, cpu_out.data());
    for (std::int64_t t = 0; t < s.tokens; ++t)
      for (std::int64_t e = 0; e < m; ++e) {
        const auto* expert = grid_choices.data() + t * s.top_k;
        const auto* position = grid.position.data() + t * s.top_k;
        grid_dx[static_cast<std::size_t>(t * m + e)] =
            shared::dispatch_backward_element<S>(y.data(), expert, position, s.top_k, capacity, m, e);
        grid_out[static_cast<std::size_t>(t * m + e)] = shared::combine_element<S>(
            grid_w.data() + t * s.top_k, y.data(), expert, position, s.top_k, capacity, m, e);
      }
    QVERIFY2(bits_equal(grid_dx, cpu_dx), "dispatch backward differs");
    QVERIFY2(bits_equal(grid_out, cpu_out), "combine differs");

    // Combine backward: dy zeroed then one "thread" per (choice, m); dweights one per choice, and the
    // device's 32-lane split of the same dot product within rounding.
    std::vector<S> cpu_dy(static_cast<std::size_t>(slot_elements)), grid_dy(cpu_dy.size(), S(0));
    std::vector<S> cpu_dw(static_cast<std::size_t>(n)), grid_dw(cpu_dw.size(), S(0));
    cpu::combine_backward(ref, cpu_w.data(), y.data(), dout.data(), m, cpu_dy.data(), cpu_dw.data());
    for (std::int64_t c = 0; c < n; ++c) {
      const std::int32_t expert = grid_choices[static_cast<std::size_t>(c)];
      const std::int64_t position = grid.position[static_cast<std::size_t>(c)];
      const std::int64_t row = shared::slot_row(expert, position, capacity);
      const S* g = dout.data() + (c / s.top_k) * m;
      for (std::int64_t e = 0; e < m; ++e) {
        const std::int64_t target = shared::dispatch_target(expert, position, capacity, m, e);
        if (target >= 0)
          grid_dy[static_cast<std::size_t>(target)] =
              shared::combine_backward_dy<S>(grid_w[static_cast<std::size_t>(c)], g[e]);
      }
      if (row < 0) continue;
      grid_dw[static_cast<std::size_t>(c)] = shared::strided_dot<S>(g, y.data() + row * m, 0, m, 1);
      S lanes = 0;
      for (std::int64_t lane = 0; lane < 32; ++lane)
        lanes += shared::strided_dot<S>(g, y.data() + row * m, lane, m, 32);
      const double scale = std::max(1.0, std::fabs(static_cast<double>(cpu_dw[static_cast<std::size_t>(c)])));
      QVERIFY(std::fabs(static_cast<double>(lanes - cpu_dw[static_cast<std::size_t>(c)])) <=
              1e-5 * scale * m);
    }
    QVERIFY2(bits_equal(grid_dy, cpu_dy), "combine backward dy differs");
    QVERIFY2(bits_equal(grid_dw, cpu_dw), "combine backward dweights differ");
  }
  QVERIFY2(saw_drop, "the dropping capacity dropped nothing");

  // Softmax backward, one "thread" per token.
  std::vector<S> cpu_dl(dprobs_in.size()), grid_dl(dprobs_in.size());
  cpu::softmax_rows_backward(cpu_probs.data(), dprobs_in.data(), s.tokens, s.experts, cpu_dl.data());
  for (std::int64_t t = 0; t < s.tokens; ++t)
    shared::softmax_row_backward(grid_probs.data() + t * s.experts, dprobs_in.data() + t * s.experts,
                                 s.experts, grid_dl.data() + t * s.experts);
  QVERIFY2(bits_equal(grid_dl, cpu_dl), "softmax backward differs");
}

}  // namespace

class TestKernelsSharedRouting : public QObject {
  Q_OBJECT

 private slots:
  void choiceIndexMapsAreInverse() {
    for (const Shape& s : kShapes) {
      std::vector<bool> seen(static_cast<std::size_t>(s.tokens * s.top_k), false);
      for (std::int64_t c = 0; c < s.tokens * s.top_k; ++c) {
        const std::int64_t cm = shared::choice_major_index(c, s.tokens, s.top_k);
        QCOMPARE(shared::token_major_index(cm, s.tokens, s.top_k), c);
        QCOMPARE(cm, (c % s.top_k) * s.tokens + c / s.top_k);  // j*T + t
        seen[static_cast<std::size_t>(cm)] = true;
      }
      QVERIFY(std::all_of(seen.begin(), seen.end(), [](bool b) { return b; }));
    }
  }

  void topKBreaksTiesToTheLowerIndex() {
    const float p[] = {0.25f, 0.125f, 0.25f, 0.25f, 0.125f};
    std::int32_t choices[5];
    shared::top_k_row(p, 5, 5, choices);
    const std::int32_t expected[] = {0, 2, 3, 1, 4};
    QVERIFY(std::equal(choices, choices + 5, expected));
  }

  void routingAndLayerMatchCpuFp32() {
    std::uint64_t seed = 11;
    for (const Shape& s : kShapes) check_routing_and_layer<float>(s, seed++);
  }

  void routingAndLayerMatchCpuFp64() {
    std::uint64_t seed = 101;
    for (const Shape& s : kShapes) check_routing_and_layer<double>(s, seed++);
  }

  void blockCopyElementsMatchTheBlockLoop() {
    const std::int64_t outer = 3, experts = 4, c = 6, m = 5, n = 2, w = 3, chunk = 7;
    const layout::BlockCopy maps[] = {layout::split_outer(2, experts * c * m, 1),
                                      layout::split_capacity(outer * experts, c, n, 1, m),
                                      layout::interleave_capacity(n, outer * experts, c / n, m),
                                      layout::group_capacity(n, outer * experts, c, m),
                                      layout::pack_expert(outer, experts, 2, c, m),
                                      layout::unpack_expert(outer, experts, 1, c, m),
                                      layout::pack_peer_pieces(n, w, 1, chunk),
                                      layout::place_peer_pieces(n, w, 2, chunk)};
    for (const layout::BlockCopy& map : maps) {
      std::vector<std::int64_t> src(4096);
      std::iota(src.begin(), src.end(), 0);
      std::vector<std::int64_t> by_block(src.size(), -1), by_element(src.size(), -1);
      for (std::int64_t i = 0; i < map.blocks; ++i)
        std::copy_n(src.data() + map.src_offset(i), map.length, by_block.data() + map.dst_offset(i));
      for (std::int64_t k = 0; k < map.elements(); ++k) {
        const shared::ElementCopy e = shared::block_copy_element(map, k);
        by_element[static_cast<std::size_t>(e.dst)] = src[static_cast<std::size_t>(e.src)];
      }
      QCOMPARE(by_element, by_block);
      QVERIFY(std::count(by_block.begin(), by_block.end(), -1) <
              static_cast<std::ptrdiff_t>(by_block.size()));
    }
  }
};

QTEST_GUILESS_MAIN(TestKernelsSharedRouting)
#include "test_kernels_shared_routing.moc"
