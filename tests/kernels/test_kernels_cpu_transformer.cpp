// The Transformer blocks' cpu kernels (kernels/cpu/transformer.h, issue 18): every backward against central
// finite differences of its forward in fp64, the causal mask, and the vocab-parallel cross entropy's pieces
// (kernels/shared/cross_entropy_math.h) equal to the whole-vocabulary loss when the vocabulary is split.
#include <QtTest>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/transformer.h"
#include "kernels/shared/cross_entropy_math.h"
#include "kernels/shared/softmax_math.h"

using namespace parm::kernels;
using cpu::AttentionShape;

namespace {

std::vector<double> random_values(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(-scale, scale);
  std::vector<double> v(n);
  for (double& x : v) x = u(gen);
  return v;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// The central difference of f at x[i]; f reads x.
template <typename F>
double numeric_derivative(std::vector<double>& x, std::size_t i, F f) {
  const double h = 1e-6, keep = x[i];
  x[i] = keep + h;
  const double up = f();
  x[i] = keep - h;
  const double down = f();
  x[i] = keep;
  return (up - down) / (2 * h);
}

// max |analytic - numeric| / max(1, |numeric|) over every element of x.
template <typename F>
double worst_gradient_error(std::vector<double>& x, const std::vector<double>& analytic, F f) {
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double numeric = numeric_derivative(x, i, f);
    worst = std::max(worst, std::abs(analytic[i] - numeric) / std::max(1.0, std::abs(numeric)));
  }
  return worst;
}

}  // namespace

class TestKernelsCpuTransformer : public QObject {
  Q_OBJECT
 private slots:
  void layerNormNormalisesEachRow() {
    const std::int64_t rows = 3, n = 7;
    std::vector<double> x = random_values(rows * n, 1, 3.0), y(rows * n), mean(rows), rstd(rows);
    const std::vector<double> gamma(n, 1.0), beta(n, 0.0);
    cpu::layer_norm_forward(x.data(), rows, n, gamma.data(), beta.data(), 0.0, y.data(), mean.data(),
                            rstd.data());
    for (std::int64_t r = 0; r < rows; ++r) {
      double m = 0, var = 0;
      for (std::int64_t i = 0; i < n; ++i) m += y[r * n + i] / n;
      for (std::int64_t i = 0; i < n; ++i) var += (y[r * n + i] - m) * (y[r * n + i] - m) / n;
      QVERIFY(std::abs(m) < 1e-12);
      QVERIFY(std::abs(var - 1.0) < 1e-12);
    }
  }

  void layerNormBackwardMatchesFiniteDifferences() {
    const std::int64_t rows = 3, n = 7;
    std::vector<double> x = random_values(rows * n, 2, 2.0), gamma = random_values(n, 3),
                        beta = random_values(n, 4);
    const std::vector<double> w = random_values(rows * n, 5);  // loss = sum(w .* y), so dy = w
    std::vector<double> y(rows * n), mean(rows), rstd(rows);
    auto loss = [&] {
      cpu::layer_norm_forward(x.data(), rows, n, gamma.data(), beta.data(), 1e-5, y.data(), mean.data(),
                              rstd.data());
      return dot(w, y);
    };
    loss();
    std::vector<double> dx(rows * n), dgamma(n, 0.0), dbeta(n, 0.0);
    cpu::layer_norm_backward(x.data(), w.data(), rows, n, gamma.data(), mean.data(), rstd.data(), dx.data(),
                             dgamma.data(), dbeta.data());
    QVERIFY(worst_gradient_error(x, dx, loss) < 1e-7);
    QVERIFY(worst_gradient_error(gamma, dgamma, loss) < 1e-7);
    QVERIFY(worst_gradient_error(beta, dbeta, loss) < 1e-7);
  }

  void attentionBackwardMatchesFiniteDifferences_data() {
    QTest::addColumn<bool>("causal");
    QTest::newRow("bert (bidirectional)") << false;
    QTest::newRow("gpt (causal)") << true;
  }
  void attentionBackwardMatchesFiniteDifferences() {
    QFETCH(bool, causal);
    const AttentionShape s{2, 5, 2, 3, causal};
    std::vector<double> qkv = random_values(std::size_t(s.tokens() * 3 * s.width()), 6);
    const std::vector<double> w = random_values(std::size_t(s.tokens() * s.width()), 7);  // dctx = w
    std::vector<double> probs(std::size_t(s.batch * s.heads * s.seq * s.seq)), ctx(w.size());
    auto loss = [&] {
      cpu::attention_forward(s, qkv.data(), probs.data(), ctx.data());
      return dot(w, ctx);
    };
    loss();
    std::vector<double> dqkv(qkv.size()), scratch(std::size_t(2 * s.seq * s.seq));
    cpu::attention_backward(s, qkv.data(), probs.data(), w.data(), dqkv.data(), scratch.data());
    QVERIFY(worst_gradient_error(qkv, dqkv, loss) < 1e-7);
  }

  // GPT: query q sees keys 0..q only, so position 0's context is its own V, and nothing depends on later
  // keys.
  void causalMaskHidesLaterKeys() {
    const AttentionShape s{1, 4, 1, 2, true};
    const std::vector<double> qkv = random_values(std::size_t(s.tokens() * 3 * s.width()), 8);
    std::vector<double> probs(16), ctx(std::size_t(s.tokens() * s.width()));
    cpu::attention_forward(s, qkv.data(), probs.data(), ctx.data());
    for (int q = 0; q < 4; ++q) {
      double sum = 0;
      for (int k = 0; k < 4; ++k) {
        sum += probs[q * 4 + k];
        if (k > q) QCOMPARE(probs[q * 4 + k], 0.0);
      }
      QVERIFY(std::abs(sum - 1.0) < 1e-12);
    }
    QCOMPARE(ctx[0], qkv[2 * s.width()]);  // V of token 0
    QCOMPARE(ctx[1], qkv[2 * s.width() + 1]);
  }

  void crossEntropyBackwardMatchesFiniteDifferences() {
    const std::int64_t rows = 4, vocab = 6;
    std::vector<double> logits = random_values(std::size_t(rows * vocab), 9, 3.0), grad(logits.size());
    const std::vector<std::int64_t> targets{0, 5, 2, 2};
    auto loss = [&] {
      std::vector<double> unused(logits.size());
      return cpu::cross_entropy(logits.data(), targets.data(), rows, vocab, unused.data());
    };
    cpu::cross_entropy(logits.data(), targets.data(), rows, vocab, grad.data());
    QVERIFY(worst_gradient_error(logits, grad, loss) < 1e-8);
    // Equal logits: every token's loss is log(vocab).
    const std::vector<double> flat(std::size_t(rows * vocab), 0.25);
    std::vector<double> g(flat.size());
    QVERIFY(std::abs(cpu::cross_entropy(flat.data(), targets.data(), rows, vocab, g.data()) - std::log(6.0)) <
            1e-12);
    const std::vector<std::int64_t> bad{0, 6, 0, 0};
    QVERIFY_THROWS_EXCEPTION(std::out_of_range,
                             cpu::cross_entropy(flat.data(), bad.data(), rows, vocab, g.data()));
  }

  // Megatron's vocab-parallel loss: two ranks holding vocabulary [0, 4) and [4, 10) agree on the maximum, the
  // exp sum and the target logit; loss and gradients equal the whole-vocabulary ones.
  void vocabParallelPiecesEqualTheWholeLoss() {
    const std::int64_t vocab = 10, split = 4;
    const std::vector<double> row = random_values(std::size_t(vocab), 10, 4.0);
    std::vector<double> whole_grad(row.size());
    for (std::int64_t target : {1, 7}) {
      const std::int64_t targets[] = {target};
      const double whole = cpu::cross_entropy(row.data(), targets, 1, vocab, whole_grad.data());
      const double* parts[] = {row.data(), row.data() + split};
      const std::int64_t first[] = {0, split}, cols[] = {split, vocab - split};
      double max = -1e300, sum = 0, target_logit = 0;
      for (int r = 0; r < 2; ++r) max = std::max(max, shared::row_max(parts[r], cols[r]));  // MAX all-reduce
      for (int r = 0; r < 2; ++r) {                                                         // SUM all-reduces
        sum += shared::partial_exp_sum(parts[r], cols[r], max);
        target_logit += shared::target_logit_part(parts[r], first[r], cols[r], target);
      }
      QVERIFY(std::abs(shared::cross_entropy_loss(max, sum, target_logit) - whole) < 1e-12);
      std::vector<double> grad(row.size());
      for (int r = 0; r < 2; ++r)
        shared::cross_entropy_row_backward(parts[r], first[r], cols[r], target, max, sum, 1.0,
                                           grad.data() + first[r]);
      for (std::size_t i = 0; i < grad.size(); ++i) QVERIFY(std::abs(grad[i] - whole_grad[i]) < 1e-12);
    }
  }
};

QTEST_APPLESS_MAIN(TestKernelsCpuTransformer)
#include "test_kernels_cpu_transformer.moc"
