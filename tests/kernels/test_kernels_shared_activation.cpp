// The activation math of kernels/shared (which the CUDA kernels run per thread) against the formulas the CPU
// reference used before it moved there, copied below verbatim: bitwise equal in fp32 and fp64 on a grid that
// covers the tails, zero, subnormals and both sigmoid branches. Then the derivatives against central finite
// differences, and the fused bias + activation element against its parts.
#include <QtTest/QtTest>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <vector>

#include "kernels/cpu/activation.h"
#include "kernels/shared/activation_math.h"

using namespace parm::kernels;

namespace {

// The CPU code of kernels/cpu/activation.cpp as it was before it called kernels/shared.
template <typename Scalar>
Scalar original_sigmoid(Scalar a) {
  if (a >= Scalar(0)) return Scalar(1) / (Scalar(1) + std::exp(-a));
  const Scalar e = std::exp(a);
  return e / (Scalar(1) + e);
}
template <typename Scalar>
Scalar original_gelu(Scalar h) {
  const Scalar inv_sqrt2 = Scalar(1) / std::numbers::sqrt2_v<Scalar>;
  return Scalar(0.5) * h * (Scalar(1) + std::erf(h * inv_sqrt2));
}
template <typename Scalar>
Scalar original_gelu_backward(Scalar h, Scalar dz) {
  const Scalar inv_sqrt2 = Scalar(1) / std::numbers::sqrt2_v<Scalar>;
  const Scalar inv_sqrt_2pi = inv_sqrt2 * std::numbers::inv_sqrtpi_v<Scalar>;
  const Scalar cdf = Scalar(0.5) * (Scalar(1) + std::erf(h * inv_sqrt2));
  const Scalar pdf = inv_sqrt_2pi * std::exp(Scalar(-0.5) * h * h);
  return dz * (cdf + h * pdf);
}
template <typename Scalar>
Scalar original_swiglu(Scalar a, Scalar b) {
  return a * original_sigmoid(a) * b;
}
template <typename Scalar>
void original_swiglu_backward(Scalar a, Scalar b, Scalar dz, Scalar& da, Scalar& db) {
  const Scalar s = original_sigmoid(a);
  const Scalar silu = a * s;
  const Scalar dsilu = s * (Scalar(1) + a * (Scalar(1) - s));
  da = dz * b * dsilu;
  db = dz * silu;
}

// -40..40 densely, plus values where the functions change regime.
template <typename Scalar>
std::vector<Scalar> input_grid() {
  std::vector<Scalar> v;
  for (int i = -8000; i <= 8000; ++i) v.push_back(Scalar(i) * Scalar(0.005));
  for (int i = -400; i <= 400; ++i) v.push_back(Scalar(i) * Scalar(0.1) + Scalar(0.0123));
  const Scalar tiny = std::numeric_limits<Scalar>::denorm_min();
  for (Scalar x : {Scalar(0), -Scalar(0), tiny, -tiny, std::numeric_limits<Scalar>::min(), Scalar(1e-30),
                   Scalar(-1e-30), Scalar(88), Scalar(-88), Scalar(100), Scalar(-100), Scalar(700),
                   Scalar(-700), std::numeric_limits<Scalar>::max(), std::numeric_limits<Scalar>::lowest()})
    v.push_back(x);
  return v;
}

template <typename Scalar>
bool same_bits(Scalar a, Scalar b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  if constexpr (sizeof(Scalar) == 4)
    return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
  else
    return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

// Counts the grid points where the shared math and the original formula differ in any bit.
template <typename Scalar>
int bit_differences() {
  const std::vector<Scalar> x = input_grid<Scalar>();
  int differ = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const Scalar a = x[i], b = x[(i * 7919 + 13) % x.size()], dz = x[(i * 104729 + 1) % x.size()];
    differ += !same_bits(shared::sigmoid(a), original_sigmoid(a));
    differ += !same_bits(shared::gelu(a), original_gelu(a));
    differ += !same_bits(dz * shared::gelu_derivative(a), original_gelu_backward(a, dz));
    differ += !same_bits(shared::swiglu(a, b), original_swiglu(a, b));
    Scalar da = 0, db = 0;
    original_swiglu_backward(a, b, dz, da, db);
    const shared::SwigluGrad<Scalar> g = shared::swiglu_backward(a, b, dz);
    differ += !same_bits(g.da, da) + !same_bits(g.db, db);
  }
  return differ;
}

// Largest |f'(x) - (f(x+e) - f(x-e)) / 2e| over [-6, 6] in fp64.
template <typename F, typename D>
double worst_derivative_error(F f, D derivative) {
  double worst = 0;
  const double e = 1e-5;
  for (int i = -600; i <= 600; ++i) {
    const double x = i * 0.01 + 0.003;
    worst = std::fmax(worst, std::fabs(derivative(x) - (f(x + e) - f(x - e)) / (2 * e)));
  }
  return worst;
}

}  // namespace

class TestSharedActivation : public QObject {
  Q_OBJECT
 private slots:
  void bitwiseEqualToTheOriginalCpuFormulas();
  void cpuLoopsRunTheSharedMath();
  void derivativesMatchFiniteDifferences();
  void knownValues();
  void fusedBiasActivationIsItsParts();
};

void TestSharedActivation::bitwiseEqualToTheOriginalCpuFormulas() {
  QCOMPARE(bit_differences<float>(), 0);
  QCOMPARE(bit_differences<double>(), 0);
}

void TestSharedActivation::cpuLoopsRunTheSharedMath() {
  const std::vector<float> h = input_grid<float>();
  const auto n = static_cast<std::int64_t>(h.size());
  std::vector<float> v(h.rbegin(), h.rend()), z(h.size()), dh(h.size()), dv(h.size());
  cpu::gelu_forward(h.data(), n, z.data());
  cpu::gelu_backward(h.data(), v.data(), n, dh.data());
  for (std::size_t i = 0; i < h.size(); ++i) {
    QVERIFY(same_bits(z[i], original_gelu(h[i])));
    QVERIFY(same_bits(dh[i], original_gelu_backward(h[i], v[i])));
  }
  cpu::swiglu_forward(h.data(), v.data(), n, z.data());
  cpu::swiglu_backward(h.data(), v.data(), z.data(), n, dh.data(), dv.data());
  for (std::size_t i = 0; i < h.size(); ++i) {
    QVERIFY(same_bits(z[i], original_swiglu(h[i], v[i])));
    float da = 0, db = 0;
    original_swiglu_backward(h[i], v[i], z[i], da, db);
    QVERIFY(same_bits(dh[i], da));
    QVERIFY(same_bits(dv[i], db));
  }
}

void TestSharedActivation::derivativesMatchFiniteDifferences() {
  const auto gelu = [](double x) { return shared::gelu(x); };
  const auto dgelu = [](double x) { return shared::gelu_derivative(x); };
  QVERIFY(worst_derivative_error(gelu, dgelu) < 1e-9);
  // SwiGLU in a (b fixed) and in b (a fixed).
  for (double b : {-1.5, 0.25, 2.0}) {
    const auto za = [b](double a) { return shared::swiglu(a, b); };
    const auto dza = [b](double a) { return shared::swiglu_backward(a, b, 1.0).da; };
    QVERIFY(worst_derivative_error(za, dza) < 1e-9);
  }
  for (double a : {-3.0, -0.5, 0.0, 1.25, 4.0}) {
    const auto zb = [a](double b) { return shared::swiglu(a, b); };
    const auto dzb = [a](double) { return shared::swiglu_backward(a, 0.7, 1.0).db; };
    QVERIFY(worst_derivative_error(zb, dzb) < 1e-9);
  }
}

void TestSharedActivation::knownValues() {
  QCOMPARE(shared::gelu(0.0), 0.0);
  QVERIFY(std::fabs(shared::gelu(1.0) - 0.8413447460685429) < 1e-15);  // Phi(1)
  QVERIFY(std::fabs(shared::gelu_derivative(0.0) - 0.5) < 1e-15);
  QVERIFY(std::fabs(shared::silu(1.0) - 0.7310585786300049) < 1e-15);  // sigmoid(1)
  // No overflow in either sigmoid branch.
  QCOMPARE(shared::sigmoid(-1000.0f), 0.0f);
  QCOMPARE(shared::sigmoid(1000.0f), 1.0f);
  QCOMPARE(shared::gelu(-50.0f), -0.0f);
  QCOMPARE(shared::gelu(50.0f), 50.0f);
}

void TestSharedActivation::fusedBiasActivationIsItsParts() {
  using shared::FfnActivation;
  const std::vector<float> x = input_grid<float>();
  for (std::size_t i = 0; i + 3 < x.size(); i += 3) {
    const float acc_h = x[i], b1 = x[i + 1] * 0.01f, acc_v = x[i + 2], b3 = x[i + 3] * 0.01f, dz = x[i + 1];
    const auto g = shared::bias_activation_forward(FfnActivation::Gelu, acc_h, b1, acc_v, b3);
    QVERIFY(same_bits(g.h, acc_h + b1));
    QVERIFY(same_bits(g.z, original_gelu(acc_h + b1)));
    const auto s = shared::bias_activation_forward(FfnActivation::Swiglu, acc_h, b1, acc_v, b3);
    QVERIFY(same_bits(s.v, acc_v + b3));
    QVERIFY(same_bits(s.z, original_swiglu(acc_h + b1, acc_v + b3)));
    const auto gb = shared::bias_activation_backward(FfnActivation::Gelu, g.h, g.v, dz);
    QVERIFY(same_bits(gb.da, original_gelu_backward(g.h, dz)));
    const auto sb = shared::bias_activation_backward(FfnActivation::Swiglu, s.h, s.v, dz);
    float da = 0, db = 0;
    original_swiglu_backward(s.h, s.v, dz, da, db);
    QVERIFY(same_bits(sb.da, da));
    QVERIFY(same_bits(sb.db, db));
  }
}

QTEST_APPLESS_MAIN(TestSharedActivation)
#include "test_kernels_shared_activation.moc"
