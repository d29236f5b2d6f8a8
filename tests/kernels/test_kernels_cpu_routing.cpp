// Routing, dispatch and combine properties on random gate probabilities, in drop and no-drop regimes.
#include <QtTest/QtTest>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "engine/run/tensor_init.h"
#include "kernels/capacity.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/expert_ffn.h"
#include "kernels/cpu/gate.h"
#include "kernels/cpu/routing.h"

using namespace parm;
using namespace parm::kernels::cpu;

namespace {

constexpr std::uint64_t kSeed = 77;

std::vector<double> random_values(std::int64_t n, std::uint64_t seed, TensorId id, double scale) {
  std::vector<double> v(static_cast<std::size_t>(n));
  fill(v.data(), n, seed, id, 0, scale);
  return v;
}

// Softmax of random logits: a realistic, tie-free probability table (T,E).
std::vector<double> random_probs(std::int64_t tokens, std::int64_t experts, std::uint64_t seed) {
  std::vector<double> p = random_values(tokens * experts, seed, TensorId::GateWeight, 3.0);
  softmax_rows(p.data(), tokens, experts);
  return p;
}

struct Case {
  std::int64_t tokens, experts, top_k;
  Routing routing;
  std::vector<double> probs;
};

// The row's routing: capacity from the spec rule (drop) or the largest load (no drop).
Case make_case(std::int64_t tokens, std::int64_t experts, std::int64_t k, double f, bool drop) {
  Case c{
      tokens, experts, k, {}, random_probs(tokens, experts, kSeed + static_cast<std::uint64_t>(tokens * k))};
  const auto choices = top_k_choices(c.probs.data(), tokens, experts, k);
  const auto loads = expert_loads(choices, experts);
  const std::int64_t capacity = drop ? kernels::expert_capacity(tokens, experts, f, k, 1)
                                     : *std::max_element(loads.begin(), loads.end());
  c.routing = make_routing(c.probs.data(), tokens, experts, k, capacity);
  return c;
}

std::int64_t kept_count(const Routing& r, std::int64_t t) {
  std::int64_t n = 0;
  for (std::int64_t j = 0; j < r.top_k; ++j) n += r.kept(t * r.top_k + j) ? 1 : 0;
  return n;
}

}  // namespace

class TestRouting : public QObject {
  Q_OBJECT

 private slots:
  void capacity_rule_data();
  void capacity_rule();

  void routing_properties_data();
  void routing_properties();
  void dropped_choices_contribute_nothing_data();
  void dropped_choices_contribute_nothing();
  void combine_weights_data();
  void combine_weights();
  void combine_weights_backward_matches_finite_differences_data();
  void combine_weights_backward_matches_finite_differences();
  void dispatch_combine_round_trip_data();
  void dispatch_combine_round_trip();

  void ties_go_to_the_lower_expert();
  void first_choices_win_over_second_choices();

 private:
  static void add_regimes();
};

void TestRouting::capacity_rule_data() {
  QTest::addColumn<qint64>("tokens");
  QTest::addColumn<qint64>("experts");
  QTest::addColumn<double>("f");
  QTest::addColumn<qint64>("k");
  QTest::addColumn<qint64>("min_capacity");
  QTest::addColumn<qint64>("expected");
  QTest::newRow("TC-1 C0") << qint64(4096) << qint64(8) << 1.2 << qint64(2) << qint64(8) << qint64(1229);
  QTest::newRow("TC-1 C1") << qint64(1024) << qint64(8) << 1.2 << qint64(2) << qint64(8) << qint64(308);
  QTest::newRow("TC-5 C0") << qint64(128) << qint64(8) << 1.0 << qint64(1) << qint64(1) << qint64(16);
  QTest::newRow("TC-5 C1") << qint64(32) << qint64(8) << 1.0 << qint64(1) << qint64(1) << qint64(4);
}

void TestRouting::capacity_rule() {
  QFETCH(qint64, tokens);
  QFETCH(qint64, experts);
  QFETCH(double, f);
  QFETCH(qint64, k);
  QFETCH(qint64, min_capacity);
  QFETCH(qint64, expected);
  QCOMPARE(qint64(kernels::expert_capacity(tokens, experts, f, k, min_capacity)), expected);
}

void TestRouting::add_regimes() {
  QTest::addColumn<qint64>("tokens");
  QTest::addColumn<qint64>("experts");
  QTest::addColumn<qint64>("top_k");
  QTest::addColumn<double>("f");
  QTest::addColumn<bool>("drop");
  QTest::newRow("k1 drop f0.5") << qint64(64) << qint64(8) << qint64(1) << 0.5 << true;
  QTest::newRow("k1 drop f1.0") << qint64(128) << qint64(8) << qint64(1) << 1.0 << true;
  QTest::newRow("k2 drop f0.6") << qint64(64) << qint64(8) << qint64(2) << 0.6 << true;
  QTest::newRow("k2 drop f1.2") << qint64(256) << qint64(8) << qint64(2) << 1.2 << true;
  QTest::newRow("k3 drop f0.8") << qint64(96) << qint64(6) << qint64(3) << 0.8 << true;
  QTest::newRow("k2 roomy f8") << qint64(64) << qint64(8) << qint64(2) << 8.0 << true;
  QTest::newRow("k1 no-drop") << qint64(64) << qint64(8) << qint64(1) << 1.0 << false;
  QTest::newRow("k2 no-drop") << qint64(100) << qint64(4) << qint64(2) << 1.0 << false;
}

void TestRouting::routing_properties_data() {
  add_regimes();
}

void TestRouting::routing_properties() {
  QFETCH(qint64, tokens);
  QFETCH(qint64, experts);
  QFETCH(qint64, top_k);
  QFETCH(double, f);
  QFETCH(bool, drop);
  const Case c = make_case(tokens, experts, top_k, f, drop);
  const Routing& r = c.routing;
  QCOMPARE(r.expert.size(), std::size_t(tokens * top_k));
  QCOMPARE(r.position.size(), std::size_t(tokens * top_k));

  // Top-k: distinct experts, best first, and no unchosen expert beats a chosen one.
  for (std::int64_t t = 0; t < tokens; ++t) {
    const double* p = c.probs.data() + t * experts;
    std::set<int> chosen;
    for (std::int64_t j = 0; j < top_k; ++j) {
      const int e = r.expert[std::size_t(t * top_k + j)];
      QVERIFY(e >= 0 && e < experts);
      QVERIFY(chosen.insert(e).second);
      if (j > 0) QVERIFY(p[r.expert[std::size_t(t * top_k + j - 1)]] >= p[e]);
    }
    const double weakest = p[r.expert[std::size_t(t * top_k + top_k - 1)]];
    for (int e = 0; e < experts; ++e)
      if (!chosen.count(e)) QVERIFY(p[e] <= weakest);
  }

  // Loads count every choice, before dropping.
  std::vector<std::int64_t> loads(std::size_t(experts), 0);
  for (int e : r.expert) ++loads[std::size_t(e)];
  QCOMPARE(r.tokens_per_expert, loads);

  // Slots: expected from a direct walk in choice-major order; unique, in range, never over capacity.
  std::vector<std::int64_t> next(std::size_t(experts), 0);
  std::vector<std::set<std::int64_t>> used(static_cast<std::size_t>(experts));
  for (std::int64_t j = 0; j < top_k; ++j)
    for (std::int64_t t = 0; t < tokens; ++t) {
      const std::size_t ch = std::size_t(t * top_k + j);
      const std::size_t e = std::size_t(r.expert[ch]);
      const std::int64_t rank = next[e]++;
      QCOMPARE(r.position[ch], rank < r.capacity ? rank : std::int64_t{-1});
      if (r.position[ch] >= 0) {
        QVERIFY(r.position[ch] < r.capacity);
        QVERIFY(used[e].insert(r.position[ch]).second);
      }
    }
  for (std::size_t e = 0; e < used.size(); ++e) {
    QVERIFY(std::int64_t(used[e].size()) <= r.capacity);
    QCOMPARE(std::int64_t(used[e].size()), std::min(loads[e], r.capacity));
  }

  // The regime is what the row says.
  const std::int64_t dropped = dropped_choices(r);
  const std::int64_t max_load = *std::max_element(loads.begin(), loads.end());
  QCOMPARE(dropped > 0, max_load > r.capacity);
  if (!drop) QCOMPARE(dropped, std::int64_t{0});
  if (drop && f < 1.0) QVERIFY(dropped > 0);
}

void TestRouting::dropped_choices_contribute_nothing_data() {
  add_regimes();
}

void TestRouting::dropped_choices_contribute_nothing() {
  QFETCH(qint64, tokens);
  QFETCH(qint64, experts);
  QFETCH(qint64, top_k);
  QFETCH(double, f);
  QFETCH(bool, drop);
  const Case c = make_case(tokens, experts, top_k, f, drop);
  const Routing& r = c.routing;
  const std::int64_t m = 5, h = 7, cap = r.capacity;

  // A real expert behind the dispatch, so the check covers the whole order -> experts -> combine path.
  const auto w1 = random_values(experts * m * h, kSeed, TensorId::W1, 0.5);
  const auto b1 = random_values(experts * h, kSeed, TensorId::B1, 0.1);
  const auto w2 = random_values(experts * h * m, kSeed, TensorId::W2, 0.5);
  const auto b2 = random_values(experts * m, kSeed, TensorId::B2, 0.1);
  auto run = [&](const std::vector<double>& x, const std::vector<double>& weights) {
    std::vector<double> dispatched(std::size_t(experts * cap * m)), y(dispatched.size()),
        out(std::size_t(tokens * m));
    dispatch(r, x.data(), m, dispatched.data());
    for (std::int64_t e = 0; e < experts; ++e) {
      ExpertFfnParams<double> p;
      p.hidden = m;
      p.ffn_hidden = h;
      p.w1 = w1.data() + e * m * h;
      p.b1 = b1.data() + e * h;
      p.w2 = w2.data() + e * h * m;
      p.b2 = b2.data() + e * m;
      expert_ffn_forward<double>(p, dispatched.data() + e * cap * m, cap, y.data() + e * cap * m, nullptr);
    }
    combine(r, weights.data(), y.data(), m, out.data());
    return std::pair{dispatched, out};
  };

  const auto x = random_values(tokens * m, kSeed, TensorId::Input, 1.0);
  std::vector<double> weights(std::size_t(tokens * top_k));
  parm::kernels::cpu::combine_weights(r, c.probs.data(), weights.data());
  const auto [dispatched, out] = run(x, weights);

  // Perturb the rows of tokens that lost every choice, and the weights of every dropped choice.
  auto x2 = x;
  auto weights2 = weights;
  std::int64_t lost_tokens = 0;
  for (std::int64_t t = 0; t < tokens; ++t) {
    if (kept_count(r, t) == 0) {
      ++lost_tokens;
      for (std::int64_t i = 0; i < m; ++i) x2[std::size_t(t * m + i)] += 10.0 + double(i);
    }
    for (std::int64_t j = 0; j < top_k; ++j)
      if (!r.kept(t * top_k + j)) weights2[std::size_t(t * top_k + j)] = 123.0;
  }
  QCOMPARE(lost_tokens, dropped_tokens(r));
  const auto [dispatched2, out2] = run(x2, weights2);
  QCOMPARE(dispatched2, dispatched);
  QCOMPARE(out2, out);
  // Tokens with no kept choice leave the layer as zeros (the residual path carries them in a model).
  for (std::int64_t t = 0; t < tokens; ++t)
    if (kept_count(r, t) == 0)
      for (std::int64_t i = 0; i < m; ++i) QCOMPARE(out[std::size_t(t * m + i)], 0.0);
}

void TestRouting::combine_weights_data() {
  add_regimes();
}

void TestRouting::combine_weights() {
  QFETCH(qint64, tokens);
  QFETCH(qint64, experts);
  QFETCH(qint64, top_k);
  QFETCH(double, f);
  QFETCH(bool, drop);
  const Case c = make_case(tokens, experts, top_k, f, drop);
  const Routing& r = c.routing;
  std::vector<double> w(std::size_t(tokens * top_k));
  parm::kernels::cpu::combine_weights(r, c.probs.data(), w.data());
  for (std::int64_t t = 0; t < tokens; ++t) {
    double sum = 0;
    for (std::int64_t j = 0; j < top_k; ++j) {
      const std::size_t ch = std::size_t(t * top_k + j);
      if (!r.kept(std::int64_t(ch))) {
        QCOMPARE(w[ch], 0.0);
        continue;
      }
      QVERIFY(w[ch] > 0);
      sum += w[ch];
      // k = 1 keeps the raw probability (the router's gradient flows through it).
      if (top_k == 1) QCOMPARE(w[ch], c.probs[std::size_t(t * experts + r.expert[ch])]);
    }
    if (top_k >= 2 && kept_count(r, t) > 0) QVERIFY(std::abs(sum - 1.0) < 1e-12);
    // Renormalising keeps the kept choices' ratios.
    if (top_k >= 2 && r.kept(t * top_k) && r.kept(t * top_k + 1)) {
      const double p0 = c.probs[std::size_t(t * experts + r.expert[std::size_t(t * top_k)])];
      const double p1 = c.probs[std::size_t(t * experts + r.expert[std::size_t(t * top_k + 1)])];
      QVERIFY(std::abs(w[std::size_t(t * top_k)] / w[std::size_t(t * top_k + 1)] - p0 / p1) < 1e-12);
    }
  }
}

void TestRouting::combine_weights_backward_matches_finite_differences_data() {
  add_regimes();
}

void TestRouting::combine_weights_backward_matches_finite_differences() {
  QFETCH(qint64, tokens);
  QFETCH(qint64, experts);
  QFETCH(qint64, top_k);
  QFETCH(double, f);
  QFETCH(bool, drop);
  Case c = make_case(tokens, experts, top_k, f, drop);
  const Routing& r = c.routing;
  const auto dw = random_values(tokens * top_k, kSeed, TensorId::OutputGrad, 1.0);
  std::vector<double> w(dw.size()), dp(c.probs.size());
  parm::kernels::cpu::combine_weights(r, c.probs.data(), w.data());
  combine_weights_backward(r, c.probs.data(), w.data(), dw.data(), dp.data());
  // L = sum(dw * weights(probs)); the routing stays fixed (probs enter only through the weights here).
  auto loss = [&](const std::vector<double>& probs) {
    std::vector<double> ww(dw.size());
    parm::kernels::cpu::combine_weights(r, probs.data(), ww.data());
    return std::inner_product(ww.begin(), ww.end(), dw.begin(), 0.0);
  };
  const double eps = 1e-6;
  for (std::size_t i = 0; i < c.probs.size(); ++i) {
    const double saved = c.probs[i];
    c.probs[i] = saved + eps;
    const double lp = loss(c.probs);
    c.probs[i] = saved - eps;
    const double lm = loss(c.probs);
    c.probs[i] = saved;
    const double fd = (lp - lm) / (2 * eps);
    QVERIFY2(std::abs(fd - dp[i]) <= 1e-7 * std::max(1.0, std::abs(dp[i])),
             qPrintable(QStringLiteral("dprobs[%1]: fd %2 analytic %3").arg(i).arg(fd).arg(dp[i])));
  }
}

void TestRouting::dispatch_combine_round_trip_data() {
  add_regimes();
}

void TestRouting::dispatch_combine_round_trip() {
  QFETCH(qint64, tokens);
  QFETCH(qint64, experts);
  QFETCH(qint64, top_k);
  QFETCH(double, f);
  QFETCH(bool, drop);
  const Case c = make_case(tokens, experts, top_k, f, drop);
  const Routing& r = c.routing;
  const std::int64_t m = 9;
  const auto x = random_values(tokens * m, kSeed, TensorId::Input, 1.0);

  std::vector<double> dispatched(std::size_t(experts * r.capacity * m));
  dispatch(r, x.data(), m, dispatched.data());
  // Weight 1 on every kept choice: each token comes back once per kept copy.
  std::vector<double> ones(std::size_t(tokens * top_k));
  for (std::size_t ch = 0; ch < ones.size(); ++ch) ones[ch] = r.kept(std::int64_t(ch)) ? 1.0 : 0.0;
  std::vector<double> out(x.size());
  combine(r, ones.data(), dispatched.data(), m, out.data());
  std::vector<double> back(x.size(), 0.0);
  dispatch_backward(r, dispatched.data(), m, back.data());
  for (std::int64_t t = 0; t < tokens; ++t) {
    const double copies = double(kept_count(r, t));
    for (std::int64_t i = 0; i < m; ++i) {
      const std::size_t at = std::size_t(t * m + i);
      QCOMPARE(out[at], copies * x[at]);
      QCOMPARE(back[at], copies * x[at]);
    }
  }
  // Occupied slots hold their token, every other slot is zero.
  std::vector<bool> occupied(std::size_t(experts * r.capacity), false);
  for (std::int64_t ch = 0; ch < tokens * top_k; ++ch) {
    if (!r.kept(ch)) continue;
    const std::size_t row = std::size_t(r.expert[std::size_t(ch)] * r.capacity + r.position[std::size_t(ch)]);
    occupied[row] = true;
    for (std::int64_t i = 0; i < m; ++i)
      QCOMPARE(dispatched[row * std::size_t(m) + std::size_t(i)], x[std::size_t((ch / top_k) * m + i)]);
  }
  for (std::size_t row = 0; row < occupied.size(); ++row)
    if (!occupied[row])
      for (std::int64_t i = 0; i < m; ++i) QCOMPARE(dispatched[row * std::size_t(m) + std::size_t(i)], 0.0);

  // combine_backward: dy is the weighted output gradient in the token's slot, dweights its dot with y.
  const auto dout = random_values(tokens * m, kSeed, TensorId::OutputGrad, 1.0);
  std::vector<double> w(ones.size());
  parm::kernels::cpu::combine_weights(r, c.probs.data(), w.data());
  std::vector<double> dy(dispatched.size()), dweights(w.size());
  combine_backward(r, w.data(), dispatched.data(), dout.data(), m, dy.data(), dweights.data());
  for (std::int64_t ch = 0; ch < tokens * top_k; ++ch) {
    const std::int64_t t = ch / top_k;
    if (!r.kept(ch)) {
      QCOMPARE(dweights[std::size_t(ch)], 0.0);
      continue;
    }
    const std::size_t row = std::size_t(r.expert[std::size_t(ch)] * r.capacity + r.position[std::size_t(ch)]);
    double dot = 0;
    for (std::int64_t i = 0; i < m; ++i) {
      dot += dout[std::size_t(t * m + i)] * x[std::size_t(t * m + i)];
      QCOMPARE(dy[row * std::size_t(m) + std::size_t(i)], w[std::size_t(ch)] * dout[std::size_t(t * m + i)]);
    }
    QVERIFY(std::abs(dweights[std::size_t(ch)] - dot) <= 1e-12 * std::max(1.0, std::abs(dot)));
  }
  for (std::size_t row = 0; row < occupied.size(); ++row)
    if (!occupied[row])
      for (std::int64_t i = 0; i < m; ++i) QCOMPARE(dy[row * std::size_t(m) + std::size_t(i)], 0.0);
}

void TestRouting::ties_go_to_the_lower_expert() {
  // Token 0: all equal; token 1: experts 1 and 3 tie for first, 0 and 2 tie for third.
  const std::vector<float> probs = {0.25f, 0.25f, 0.25f, 0.25f, 0.1f, 0.4f, 0.1f, 0.4f};
  const auto choices = top_k_choices(probs.data(), 2, 4, 3);
  QCOMPARE(choices, (std::vector<std::int32_t>{0, 1, 2, 1, 3, 0}));
}

void TestRouting::first_choices_win_over_second_choices() {
  // Every token picks expert 0 then 1, except the last, whose first choice is expert 1. With capacity 2,
  // expert 1's slots go to first choices (the last token) before any second choice, whatever the token order.
  const std::int64_t tokens = 4, experts = 3;
  std::vector<double> probs;
  for (std::int64_t t = 0; t < tokens - 1; ++t) probs.insert(probs.end(), {0.6, 0.3, 0.1});
  probs.insert(probs.end(), {0.3, 0.6, 0.1});
  const Routing r = make_routing(probs.data(), tokens, experts, 2, 2);
  QCOMPARE(r.position[std::size_t((tokens - 1) * 2)], std::int64_t{0});  // last token, first choice: slot 0
  QCOMPARE(r.position[1], std::int64_t{1});                              // token 0's second choice: slot 1
  QCOMPARE(r.position[3], std::int64_t{-1});                             // token 1's second choice: dropped
  QCOMPARE(r.position[4], std::int64_t{-1});  // token 2's first choice: expert 0 is full
  QCOMPARE(r.tokens_per_expert, (std::vector<std::int64_t>{4, 4, 0}));
}

QTEST_APPLESS_MAIN(TestRouting)
#include "test_kernels_cpu_routing.moc"
