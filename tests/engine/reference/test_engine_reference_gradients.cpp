// The reference layer's analytic backward against central finite differences of L = sum(out * dout), element
// by element, in fp64; and the fp32 forward against the fp64 one.
#include <QtTest/QtTest>
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/reference/reference_layer.h"
#include "kernels/cpu/routing.h"

using namespace parm;

namespace {

constexpr std::uint64_t kSeed = 20240707;
constexpr std::int64_t kGroups = 2;

LayerConfig small_layer(Activation act, bool bias, std::int64_t k, bool drop) {
  LayerConfig l;
  l.batch = 1;
  l.seq_len = 12;
  l.hidden = 6;
  l.ffn_hidden = 8;
  l.num_experts = 4;
  l.top_k = k;
  l.activation = act;
  l.bias = bias;
  l.dtype = DType::Fp64;
  l.min_capacity = 1;
  // Drop rows: f = 0.5 gives C = ceil(S/E * 0.5 * k), half the average load, so drops are certain.
  // No-drop rows: drop_tokens = false, C = the largest load over both groups.
  l.drop_tokens = drop;
  l.capacity_factor = drop ? 0.5 : 1.0;
  return l;
}

double loss(const std::vector<double>& out, const std::vector<double>& dout) {
  double sum = 0;
  for (std::size_t i = 0; i < out.size(); ++i) sum += out[i] * dout[i];
  return sum;
}

bool same_routing(const std::vector<kernels::cpu::Routing>& a, const std::vector<kernels::cpu::Routing>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t g = 0; g < a.size(); ++g)
    if (a[g].expert != b[g].expert || a[g].position != b[g].position || a[g].capacity != b[g].capacity)
      return false;
  return true;
}

}  // namespace

class TestReferenceGradients : public QObject {
  Q_OBJECT

 private slots:
  void gradients_match_finite_differences_data();
  void gradients_match_finite_differences();
  void fp32_forward_matches_fp64();
  void timer_sees_every_phase();
  void flops_follow_the_layer_shape();
};

void TestReferenceGradients::gradients_match_finite_differences_data() {
  QTest::addColumn<bool>("swiglu");
  QTest::addColumn<bool>("bias");
  QTest::addColumn<int>("top_k");
  QTest::addColumn<bool>("drop");
  for (bool swiglu : {false, true})
    for (bool bias : {true, false})
      for (int k : {1, 2})
        for (bool drop : {false, true}) {
          const std::string name = std::string(swiglu ? "swiglu" : "gelu") + (bias ? "_bias" : "_nobias") +
                                   "_k" + std::to_string(k) + (drop ? "_drop" : "_nodrop");
          QTest::newRow(name.c_str()) << swiglu << bias << k << drop;
        }
}

void TestReferenceGradients::gradients_match_finite_differences() {
  QFETCH(bool, swiglu);
  QFETCH(bool, bias);
  QFETCH(int, top_k);
  QFETCH(bool, drop);
  const LayerConfig layer = small_layer(swiglu ? Activation::Swiglu : Activation::Gelu, bias, top_k, drop);

  LayerWeights<double> w = make_weights<double>(layer, kSeed);
  std::vector<double> x = make_input<double>(layer, kGroups, kSeed);
  const std::vector<double> dout = make_output_grad<double>(layer, kGroups, kSeed);
  const ReferenceResult<double> result = run_reference_layer<double>(layer, kGroups, w, x, dout);

  // The regime this row claims must really hold.
  std::int64_t dropped = 0;
  for (const auto& r : result.routing) dropped += kernels::cpu::dropped_choices(r);
  if (drop)
    QVERIFY2(dropped > 0, "the drop rows must drop tokens");
  else
    QCOMPARE(dropped, std::int64_t{0});
  if (drop && top_k == 2) {
    // Some token keeps one choice of two: its weight is renormalised to 1 and its router gradient must
    // vanish.
    std::int64_t half_kept = 0;
    for (const auto& r : result.routing)
      for (std::int64_t t = 0; t < r.tokens; ++t) half_kept += r.kept(2 * t) != r.kept(2 * t + 1) ? 1 : 0;
    QVERIFY(half_kept > 0);
  }

  // The forward-only entry point is the same computation.
  const ReferenceForward<double> fwd = run_reference_forward<double>(layer, kGroups, w, x);
  QCOMPARE(fwd.out, result.out);

  struct Param {
    const char* name;
    std::vector<double>* value;
    const std::vector<double>* grad;
  };
  std::vector<Param> params = {{"x", &x, &result.grads.dx},
                               {"wg", &w.wg, &result.grads.dwg},
                               {"w1", &w.w1, &result.grads.dw1},
                               {"w2", &w.w2, &result.grads.dw2}};
  if (bias) {
    params.push_back({"b1", &w.b1, &result.grads.db1});
    params.push_back({"b2", &w.b2, &result.grads.db2});
  }
  if (swiglu) {
    params.push_back({"w3", &w.w3, &result.grads.dw3});
    if (bias) params.push_back({"b3", &w.b3, &result.grads.db3});
  }
  QCOMPARE(result.grads.db1.size(), bias ? w.b1.size() : std::size_t{0});
  QCOMPARE(result.grads.dw3.size(), swiglu ? w.w3.size() : std::size_t{0});

  const double eps = 1e-6;
  for (const Param& p : params) {
    QCOMPARE(p.grad->size(), p.value->size());
    QVERIFY(!p.value->empty());
    bool any_nonzero = false;
    for (std::size_t i = 0; i < p.value->size(); ++i) {
      const double saved = (*p.value)[i];
      (*p.value)[i] = saved + eps;
      const ReferenceForward<double> plus = run_reference_forward<double>(layer, kGroups, w, x);
      (*p.value)[i] = saved - eps;
      const ReferenceForward<double> minus = run_reference_forward<double>(layer, kGroups, w, x);
      (*p.value)[i] = saved;
      // Routing is piecewise constant: the difference quotient is only meaningful if it did not switch.
      QVERIFY2(same_routing(plus.routing, result.routing) && same_routing(minus.routing, result.routing),
               qPrintable(QStringLiteral("routing switched while perturbing %1[%2]").arg(p.name).arg(i)));
      const double fd = (loss(plus.out, dout) - loss(minus.out, dout)) / (2 * eps);
      const double an = (*p.grad)[i];
      any_nonzero = any_nonzero || an != 0.0;
      QVERIFY2(std::abs(fd - an) <= 1e-6 * std::max(1.0, std::abs(an)),
               qPrintable(QStringLiteral("%1[%2]: finite difference %3, analytic %4")
                              .arg(p.name)
                              .arg(i)
                              .arg(fd, 0, 'g', 12)
                              .arg(an, 0, 'g', 12)));
    }
    QVERIFY2(any_nonzero, p.name);
  }
}

void TestReferenceGradients::fp32_forward_matches_fp64() {
  for (bool swiglu : {false, true}) {
    LayerConfig layer;
    layer.batch = 2;
    layer.seq_len = 32;
    layer.hidden = 32;
    layer.ffn_hidden = 64;
    layer.num_experts = 8;
    layer.top_k = 2;
    layer.capacity_factor = 1.0;  // some drops, so the dropped path is compared too
    layer.activation = swiglu ? Activation::Swiglu : Activation::Gelu;

    const auto out64 = run_reference_forward<double>(layer, kGroups, make_weights<double>(layer, kSeed),
                                                     make_input<double>(layer, kGroups, kSeed));
    const auto out32 = run_reference_forward<float>(layer, kGroups, make_weights<float>(layer, kSeed),
                                                    make_input<float>(layer, kGroups, kSeed));
    QVERIFY(same_routing(out32.routing, out64.routing));
    QCOMPARE(out32.out.size(), out64.out.size());
    double err2 = 0, ref2 = 0;
    for (std::size_t i = 0; i < out64.out.size(); ++i) {
      const double d = static_cast<double>(out32.out[i]) - out64.out[i];
      QVERIFY2(std::abs(d) <= 1e-5 * std::max(1.0, std::abs(out64.out[i])), qPrintable(QString::number(i)));
      err2 += d * d;
      ref2 += out64.out[i] * out64.out[i];
    }
    QVERIFY(ref2 > 0);
    QVERIFY(std::sqrt(err2 / ref2) < 1e-5);
  }
}

void TestReferenceGradients::timer_sees_every_phase() {
  const LayerConfig layer = small_layer(Activation::Gelu, true, 2, true);
  profiler::PhaseTimer timer;
  timer.begin_iteration();
  run_reference_layer<double>(layer, kGroups, make_weights<double>(layer, kSeed),
                              make_input<double>(layer, kGroups, kSeed),
                              make_output_grad<double>(layer, kGroups, kSeed), &timer);
  QStringList names;
  for (const auto& p : timer.phases()) {
    names << QString::fromStdString(p.name);
    QCOMPARE(p.seconds.size(), std::size_t{1});  // both groups add up into one sample per iteration
  }
  QCOMPARE(names, (QStringList{"gate", "order", "experts", "combine", "combine_bwd", "experts_bwd",
                               "order_bwd", "gate_bwd"}));
}

void TestReferenceGradients::flops_follow_the_layer_shape() {
  LayerConfig gelu;
  LayerConfig swiglu = gelu;
  swiglu.activation = Activation::Swiglu;
  const std::int64_t c = 40;
  const LayerFlops g1 = layer_flops(gelu, 1, c);
  const LayerFlops g2 = layer_flops(gelu, 2, c);
  const LayerFlops s1 = layer_flops(swiglu, 1, c);
  const LayerFlops g0 = layer_flops(gelu, 1, 0);  // no expert rows: only the gate is left
  QCOMPARE(g1.backward, 2 * g1.forward);
  QCOMPARE(g2.forward, 2 * g1.forward);
  QCOMPARE(g1.total(), g1.forward + g1.backward);
  // The expert part grows by half with SwiGLU's third projection; the gate part is unchanged.
  QCOMPARE(s1.forward - g0.forward, 1.5 * (g1.forward - g0.forward));
  // And it is linear in the capacity.
  QCOMPARE(layer_flops(gelu, 1, 2 * c).forward - g0.forward, 2 * (g1.forward - g0.forward));
  QVERIFY(g0.forward > 0);
}

QTEST_APPLESS_MAIN(TestReferenceGradients)
#include "test_engine_reference_gradients.moc"
