// The counter-based generator: determinism, range, independence of tensors, and shards that rebuild the
// global tensors (spec section 8).
#include <QtTest/QtTest>
#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "engine/core/rank_layout.h"
#include "engine/reference/reference_layer.h"
#include "engine/run/local_weights.h"
#include "engine/run/tensor_init.h"
#include "kernels/half_types.h"

using namespace parm;

class TestTensorInit : public QObject {
  Q_OBJECT

 private slots:
  void deterministic();
  void range_and_spread();
  void tensors_and_seeds_differ();
  void element_does_not_depend_on_the_range_generated();
  void float_is_the_rounded_double();
  void sixteen_bit_is_the_rounded_float();
  void sixteen_bit_local_weights_are_the_rounded_float_ones();
  void shards_rebuild_the_global_tensors_data();
  void shards_rebuild_the_global_tensors();
  void layer_tensors_follow_the_documented_layouts();
};

void TestTensorInit::deterministic() {
  std::vector<double> a(1000), b(1000);
  fill(a.data(), 1000, 42, TensorId::W1, 0, 1.0);
  fill(b.data(), 1000, 42, TensorId::W1, 0, 1.0);
  QCOMPARE(a, b);
  for (std::uint64_t i : {0ull, 1ull, 999ull, 1ull << 40})
    QCOMPARE(counter_uniform(42, TensorId::Input, i), counter_uniform(42, TensorId::Input, i));
}

void TestTensorInit::range_and_spread() {
  const std::int64_t n = 200000;
  std::vector<double> v(static_cast<std::size_t>(n));
  fill(v.data(), n, 7, TensorId::Input, 0, 1.0);
  double sum = 0, sum2 = 0;
  for (double x : v) {
    QVERIFY(x >= -1.0 && x < 1.0);
    sum += x;
    sum2 += x * x;
  }
  const double mean = sum / double(n);
  const double var = sum2 / double(n) - mean * mean;
  // Uniform on [-1, 1): mean 0, variance 1/3; the bounds are ~10 standard errors wide.
  QVERIFY2(std::abs(mean) < 0.01, qPrintable(QString::number(mean)));
  QVERIFY2(std::abs(var - 1.0 / 3.0) < 0.01, qPrintable(QString::number(var)));
  QVERIFY(*std::min_element(v.begin(), v.end()) < -0.999);
  QVERIFY(*std::max_element(v.begin(), v.end()) > 0.999);
  // Ten equal bins each get close to a tenth.
  std::vector<int> bins(10, 0);
  for (double x : v) ++bins[static_cast<std::size_t>((x + 1.0) * 5.0)];
  for (int b : bins) QVERIFY2(std::abs(b - n / 10) < n / 100, qPrintable(QString::number(b)));
  // Scale multiplies.
  std::vector<double> scaled(100);
  fill(scaled.data(), 100, 7, TensorId::Input, 0, 0.25);
  for (std::size_t i = 0; i < scaled.size(); ++i) QCOMPARE(scaled[i], 0.25 * v[i]);
}

void TestTensorInit::tensors_and_seeds_differ() {
  const std::int64_t n = 256;
  const TensorId ids[] = {TensorId::Input, TensorId::OutputGrad, TensorId::GateWeight,
                          TensorId::W1,    TensorId::B1,         TensorId::W3,
                          TensorId::B3,    TensorId::W2,         TensorId::B2};
  std::vector<std::vector<double>> all;
  for (std::uint64_t seed : {1ull, 2ull})
    for (TensorId id : ids) {
      std::vector<double> v(static_cast<std::size_t>(n));
      fill(v.data(), n, seed, id, 0, 1.0);
      all.push_back(v);
    }
  // No two (seed, tensor) streams share even one element at the same index.
  for (std::size_t a = 0; a < all.size(); ++a)
    for (std::size_t b = a + 1; b < all.size(); ++b)
      for (std::size_t i = 0; i < all[a].size(); ++i) QVERIFY(all[a][i] != all[b][i]);
  // Neighbouring indices are unrelated values (no duplicates in a long run).
  std::set<double> distinct(all[0].begin(), all[0].end());
  QCOMPARE(distinct.size(), all[0].size());
}

void TestTensorInit::element_does_not_depend_on_the_range_generated() {
  std::vector<double> whole(5000);
  fill(whole.data(), 5000, 9, TensorId::W2, 0, 1.0);
  // Any window, generated alone and in any order, equals the slice of the whole.
  for (std::int64_t first : {0, 1, 17, 2500, 4999}) {
    const std::int64_t count = std::min<std::int64_t>(123, 5000 - first);
    std::vector<double> part(static_cast<std::size_t>(count));
    fill(part.data(), count, 9, TensorId::W2, static_cast<std::uint64_t>(first), 1.0);
    for (std::int64_t i = 0; i < count; ++i) QCOMPARE(part[std::size_t(i)], whole[std::size_t(first + i)]);
  }
  for (std::int64_t i = 4999; i >= 0; i -= 7)
    QCOMPARE(counter_uniform(9, TensorId::W2, std::uint64_t(i)), whole[std::size_t(i)]);
}

void TestTensorInit::float_is_the_rounded_double() {
  std::vector<double> d(300);
  std::vector<float> f(300);
  fill(d.data(), 300, 5, TensorId::B1, 10, 0.1);
  fill(f.data(), 300, 5, TensorId::B1, 10, 0.1);
  for (std::size_t i = 0; i < d.size(); ++i) QCOMPARE(f[i], static_cast<float>(d[i]));
}

namespace {

// Every element of a 16-bit tensor is the fp32 tensor's element rounded to nearest even.
template <typename H>
void expect_rounded(const std::vector<H>& got, const std::vector<float>& fp32, const char* what) {
  QCOMPARE(got.size(), fp32.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i].bits != H(fp32[i]).bits)
      QFAIL(
          qPrintable(QString("%1[%2]: %3, want %4").arg(what).arg(i).arg(got[i].bits).arg(H(fp32[i]).bits)));
}

}  // namespace

// A bf16/fp16 fill is generated in fp32 exactly as the fp32 fill, then rounded (not rounded from double).
void TestTensorInit::sixteen_bit_is_the_rounded_float() {
  const std::int64_t n = 4096;
  std::vector<float> f(static_cast<std::size_t>(n));
  std::vector<Bf16> b(f.size());
  std::vector<F16> h(f.size());
  fill(f.data(), n, 3, TensorId::W1, 77, 0.25);
  fill(b.data(), n, 3, TensorId::W1, 77, 0.25);
  fill(h.data(), n, 3, TensorId::W1, 77, 0.25);
  expect_rounded(b, f, "bf16");
  expect_rounded(h, f, "fp16");
  // Rounding is real: most elements lose bits, and none moves by more than half a 16-bit ulp.
  std::int64_t changed = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    changed += static_cast<float>(b[i]) != f[i];
    QVERIFY(std::abs(static_cast<float>(b[i]) - f[i]) <= std::abs(f[i]) * 0x1p-8f);
    QVERIFY(std::abs(static_cast<float>(h[i]) - f[i]) <= std::max(std::abs(f[i]) * 0x1p-11f, 0x1p-25f));
  }
  QVERIFY(changed > n / 2);

  std::vector<float> shard_f(6 * 4);
  std::vector<Bf16> shard_b(shard_f.size());
  fill_in_projection_shard(shard_f.data(), 3, TensorId::W3, 1, 6, 8, 2, 6);
  fill_in_projection_shard(shard_b.data(), 3, TensorId::W3, 1, 6, 8, 2, 6);
  expect_rounded(shard_b, shard_f, "W3 shard");
  std::vector<float> w2_f(4 * 6);
  std::vector<F16> w2_h(w2_f.size());
  fill_w2_shard(w2_f.data(), 3, 1, 6, 8, 4, 8);
  fill_w2_shard(w2_h.data(), 3, 1, 6, 8, 4, 8);
  expect_rounded(w2_h, w2_f, "W2 shard");
}

// What a bf16/fp16 rank holds is the fp32 rank's parameters, rounded: the same shard of the same layer.
void TestTensorInit::sixteen_bit_local_weights_are_the_rounded_float_ones() {
  Config c;
  c.layer.hidden = 8;
  c.layer.ffn_hidden = 16;
  c.layer.num_experts = 4;
  c.layer.activation = Activation::Swiglu;
  c.parallel = {4, 4, 2, 2};
  c.run.seed = 5;
  for (int rank : {0, 3}) {
    const RankLayout layout = make_rank_layout(c, rank);
    const auto f = make_local_weights<float>(c, layout);
    const auto b = make_local_weights<Bf16>(c, layout);
    const auto h = make_local_weights<F16>(c, layout);
    QCOMPARE(b.shard, f.shard);
    QCOMPARE(b.h0, f.h0);
    QCOMPARE(b.first_expert, f.first_expert);
    QCOMPARE(b.adds_b2, f.adds_b2);
    QVERIFY(!f.w3.empty() && !f.b1.empty());
    expect_rounded(b.wg, f.wg, "wg");
    expect_rounded(b.w1, f.w1, "w1");
    expect_rounded(b.w3, f.w3, "w3");
    expect_rounded(b.b1, f.b1, "b1");
    expect_rounded(b.b3, f.b3, "b3");
    expect_rounded(b.w2, f.w2, "w2");
    expect_rounded(b.b2, f.b2, "b2");
    expect_rounded(h.w1, f.w1, "fp16 w1");
    expect_rounded(h.w2, f.w2, "fp16 w2");
    const auto g = zero_gradients_like(b);
    QCOMPARE(g.dw1.size(), b.w1.size());
    QVERIFY(std::all_of(g.dw1.begin(), g.dw1.end(), [](Bf16 v) { return v.bits == 0; }));
  }
}

void TestTensorInit::shards_rebuild_the_global_tensors_data() {
  QTest::addColumn<int>("shards");
  QTest::addColumn<bool>("swiglu");
  QTest::newRow("1 shard gelu") << 1 << false;
  QTest::newRow("2 shards gelu") << 2 << false;
  QTest::newRow("4 shards swiglu") << 4 << true;
}

void TestTensorInit::shards_rebuild_the_global_tensors() {
  QFETCH(int, shards);
  QFETCH(bool, swiglu);
  LayerConfig layer;
  layer.hidden = 6;
  layer.ffn_hidden = 12;
  layer.num_experts = 3;
  layer.activation = swiglu ? Activation::Swiglu : Activation::Gelu;
  const std::uint64_t seed = 31;
  const LayerWeights<float> full = make_weights<float>(layer, seed);
  const std::int64_t m = layer.hidden, h = layer.ffn_hidden, width = h / shards;

  std::vector<TensorId> in_ids = {TensorId::W1};
  if (swiglu) in_ids.push_back(TensorId::W3);
  for (TensorId id : in_ids) {
    const std::vector<float>& global = id == TensorId::W1 ? full.w1 : full.w3;
    std::vector<float> rebuilt(global.size(), 0.0f);
    for (std::int64_t e = 0; e < layer.num_experts; ++e)
      for (int s = 0; s < shards; ++s) {
        const std::int64_t h0 = s * width, h1 = h0 + width;
        std::vector<float> shard(static_cast<std::size_t>(m * width));
        fill_in_projection_shard(shard.data(), seed, id, e, m, h, h0, h1);
        // Shard element (row, col) is global W[e, row, h0 + col].
        for (std::int64_t row = 0; row < m; ++row)
          for (std::int64_t col = 0; col < width; ++col)
            rebuilt[std::size_t((e * m + row) * h + h0 + col)] = shard[std::size_t(row * width + col)];
      }
    QCOMPARE(rebuilt, global);
  }

  std::vector<float> w2(full.w2.size(), 0.0f);
  for (std::int64_t e = 0; e < layer.num_experts; ++e)
    for (int s = 0; s < shards; ++s) {
      const std::int64_t h0 = s * width;
      fill_w2_shard(w2.data() + (e * h + h0) * m, seed, e, m, h, h0, h0 + width);
    }
  QCOMPARE(w2, full.w2);
}

void TestTensorInit::layer_tensors_follow_the_documented_layouts() {
  LayerConfig layer;
  layer.batch = 2;
  layer.seq_len = 3;
  layer.hidden = 16;
  layer.ffn_hidden = 64;
  layer.num_experts = 4;
  layer.activation = Activation::Swiglu;
  const std::uint64_t seed = 11;
  const auto w = make_weights<double>(layer, seed);
  const std::int64_t m = 16, h = 64, e = 4;
  QCOMPARE(w.wg.size(), std::size_t(m * e));
  QCOMPARE(w.w1.size(), std::size_t(e * m * h));
  QCOMPARE(w.w3.size(), std::size_t(e * m * h));
  QCOMPARE(w.b1.size(), std::size_t(e * h));
  QCOMPARE(w.b3.size(), std::size_t(e * h));
  QCOMPARE(w.w2.size(), std::size_t(e * h * m));
  QCOMPARE(w.b2.size(), std::size_t(e * m));
  // Each tensor is its id's stream times the documented scale.
  auto check = [&](const std::vector<double>& v, TensorId id, double scale) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      QCOMPARE(v[i], scale * counter_uniform(seed, id, i));
      QVERIFY(std::abs(v[i]) <= scale);
    }
  };
  check(w.wg, TensorId::GateWeight, 1.0 / std::sqrt(double(m)));
  check(w.w1, TensorId::W1, 1.0 / std::sqrt(double(m)));
  check(w.w3, TensorId::W3, 1.0 / std::sqrt(double(m)));
  check(w.w2, TensorId::W2, 1.0 / std::sqrt(double(h)));
  check(w.b1, TensorId::B1, 0.1);
  check(w.b3, TensorId::B3, 0.1);
  check(w.b2, TensorId::B2, 0.1);

  // Input (groups, S, M): group g's tokens are the g-th block, so a 3-group run extends a 2-group one.
  const auto x2 = make_input<double>(layer, 2, seed);
  const auto x3 = make_input<double>(layer, 3, seed);
  QCOMPARE(x2.size(), std::size_t(2 * layer.tokens() * m));
  QVERIFY(std::equal(x2.begin(), x2.end(), x3.begin()));
  check(x3, TensorId::Input, 1.0);
  check(make_output_grad<double>(layer, 2, seed), TensorId::OutputGrad, 1.0);

  // No bias and GELU: the optional tensors are empty.
  layer.bias = false;
  layer.activation = Activation::Gelu;
  const auto plain = make_weights<double>(layer, seed);
  QVERIFY(plain.b1.empty() && plain.b2.empty() && plain.w3.empty() && plain.b3.empty());
  QCOMPARE(plain.w1, w.w1);
}

QTEST_APPLESS_MAIN(TestTensorInit)
#include "test_engine_tensor_init.moc"
