// kernels/half_types.h against known bit patterns (the values __float2bfloat16_rn / __float2half_rn give):
// round to nearest even, NaN stays NaN, infinities, overflow, fp16 subnormals and the largest finite fp16,
// plus exhaustive checks: every non-NaN 16-bit pattern survives a round trip through float, and every float
// converts to a nearest 16-bit neighbour (ties to even).
#include <QtTest>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/half_types.h"

using parm::Bf16;
using parm::F16;

namespace {

float from_bits(std::uint32_t u) {
  return std::bit_cast<float>(u);
}

bool bf16_is_nan(std::uint16_t b) {
  return (b & 0x7f80u) == 0x7f80u && (b & 0x7fu) != 0;
}
bool f16_is_nan(std::uint16_t h) {
  return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0;
}

// Whether `bits` is a nearest representable neighbour of f among the 16-bit patterns of the same sign, with
// ties broken to the even pattern: checked against the two neighbours in double (exact for these values).
// Infinity (pattern max_finite + 1) counts as the value one ulp above the largest finite, as IEEE rounding
// treats it.
template <typename H>
bool nearest_even(float f, std::uint16_t bits, std::uint16_t max_finite) {
  const double x = std::fabs(static_cast<double>(f));
  const auto value = [&](std::uint16_t m) {
    H h;
    h.bits = m <= max_finite ? m : max_finite;
    const double v = static_cast<double>(static_cast<float>(h));
    if (m <= max_finite) return v;
    h.bits = static_cast<std::uint16_t>(max_finite - 1);
    return v + (v - static_cast<double>(static_cast<float>(h)));
  };
  const std::uint16_t mag = bits & 0x7fffu;
  if (mag > max_finite + 1) return false;  // NaN for a finite input
  const double d = std::fabs(value(mag) - x);
  if (mag > 0) {
    const double below = std::fabs(value(static_cast<std::uint16_t>(mag - 1)) - x);
    if (below < d || (below == d && (mag & 1u))) return false;
  }
  if (mag <= max_finite) {
    const double above = std::fabs(value(static_cast<std::uint16_t>(mag + 1)) - x);
    if (above < d || (above == d && (mag & 1u))) return false;
  }
  return true;
}

}  // namespace

class TestHalfTypes : public QObject {
  Q_OBJECT

 private slots:
  void bf16KnownPatterns_data() {
    QTest::addColumn<quint32>("in");
    QTest::addColumn<quint16>("out");
    QTest::newRow("1") << 0x3f800000u << quint16(0x3f80);
    QTest::newRow("-2") << 0xc0000000u << quint16(0xc000);
    QTest::newRow("+0") << 0x00000000u << quint16(0x0000);
    QTest::newRow("-0") << 0x80000000u << quint16(0x8000);
    QTest::newRow("tie to even, down") << 0x3f808000u << quint16(0x3f80);
    QTest::newRow("tie to even, up") << 0x3f818000u << quint16(0x3f82);
    QTest::newRow("just above the tie") << 0x3f808001u << quint16(0x3f81);
    QTest::newRow("just below the tie") << 0x3f807fffu << quint16(0x3f80);
    QTest::newRow("carry into the exponent") << 0x3fffffffu << quint16(0x4000);
    QTest::newRow("1/3") << 0x3eaaaaabu << quint16(0x3eab);
    QTest::newRow("+inf") << 0x7f800000u << quint16(0x7f80);
    QTest::newRow("-inf") << 0xff800000u << quint16(0xff80);
    QTest::newRow("float max overflows") << 0x7f7fffffu << quint16(0x7f80);
    QTest::newRow("largest finite bf16") << 0x7f7f0000u << quint16(0x7f7f);
    QTest::newRow("float subnormal rounds to 0") << 0x00000001u << quint16(0x0000);
    QTest::newRow("bf16 subnormal kept") << 0x00010000u << quint16(0x0001);
    QTest::newRow("quiet NaN") << 0x7fc00000u << quint16(0x7fc0);
    QTest::newRow("-quiet NaN") << 0xffc00000u << quint16(0xffc0);
  }
  void bf16KnownPatterns() {
    QFETCH(quint32, in);
    QFETCH(quint16, out);
    QCOMPARE(Bf16(from_bits(in)).bits, out);
  }

  // A NaN whose payload sits in the dropped low half must not become infinity.
  void bf16NanStaysNan() {
    for (std::uint32_t u : {0x7f800001u, 0xff800001u, 0x7f80ffffu, 0x7fffffffu}) {
      const std::uint16_t b = Bf16(from_bits(u)).bits;
      QVERIFY2(bf16_is_nan(b), qPrintable(QString::number(u, 16) + " -> " + QString::number(b, 16)));
      QCOMPARE(b & 0x8000u, (u >> 16) & 0x8000u);
      QVERIFY(std::isnan(static_cast<float>(Bf16(from_bits(u)))));
    }
  }

  void bf16ToFloatIsTheUpperHalf() {
    Bf16 b;
    b.bits = 0x7f7f;
    QCOMPARE(static_cast<float>(b), from_bits(0x7f7f0000u));
    b.bits = 0x8001;
    QCOMPARE(std::bit_cast<std::uint32_t>(static_cast<float>(b)), 0x80010000u);
    QCOMPARE(static_cast<double>(b), static_cast<double>(from_bits(0x80010000u)));
  }

  void f16KnownPatterns_data() {
    QTest::addColumn<quint32>("in");
    QTest::addColumn<quint16>("out");
    QTest::newRow("1") << std::bit_cast<quint32>(1.0f) << quint16(0x3c00);
    QTest::newRow("-2") << std::bit_cast<quint32>(-2.0f) << quint16(0xc000);
    QTest::newRow("-0") << 0x80000000u << quint16(0x8000);
    QTest::newRow("1/3") << 0x3eaaaaabu << quint16(0x3555);
    QTest::newRow("65504 max finite") << std::bit_cast<quint32>(65504.0f) << quint16(0x7bff);
    QTest::newRow("65519.996 rounds to max")
        << std::bit_cast<quint32>(std::nextafter(65520.0f, 0.0f)) << quint16(0x7bff);
    QTest::newRow("65520 ties to inf") << std::bit_cast<quint32>(65520.0f) << quint16(0x7c00);
    QTest::newRow("-1e6 overflows") << std::bit_cast<quint32>(-1e6f) << quint16(0xfc00);
    QTest::newRow("+inf") << 0x7f800000u << quint16(0x7c00);
    QTest::newRow("-inf") << 0xff800000u << quint16(0xfc00);
    QTest::newRow("tie to even, down") << std::bit_cast<quint32>(1.0f + 0x1p-11f) << quint16(0x3c00);
    QTest::newRow("tie to even, up") << std::bit_cast<quint32>(1.0f + 3 * 0x1p-11f) << quint16(0x3c02);
    QTest::newRow("smallest normal 2^-14") << std::bit_cast<quint32>(0x1p-14f) << quint16(0x0400);
    QTest::newRow("largest subnormal") << std::bit_cast<quint32>(1023 * 0x1p-24f) << quint16(0x03ff);
    QTest::newRow("subnormal rounds up to normal")
        << std::bit_cast<quint32>(1023.75f * 0x1p-24f) << quint16(0x0400);
    QTest::newRow("smallest subnormal 2^-24") << std::bit_cast<quint32>(0x1p-24f) << quint16(0x0001);
    QTest::newRow("-2^-24") << std::bit_cast<quint32>(-0x1p-24f) << quint16(0x8001);
    QTest::newRow("2^-25 ties to 0") << std::bit_cast<quint32>(0x1p-25f) << quint16(0x0000);
    QTest::newRow("3*2^-25 ties to 2") << std::bit_cast<quint32>(3 * 0x1p-25f) << quint16(0x0002);
    QTest::newRow("just above 2^-25")
        << std::bit_cast<quint32>(std::nextafter(0x1p-25f, 1.0f)) << quint16(0x0001);
    QTest::newRow("float subnormal to 0") << 0x00000001u << quint16(0x0000);
    QTest::newRow("quiet NaN") << 0x7fc00000u << quint16(0x7e00);
    QTest::newRow("signalling NaN") << 0x7f800001u << quint16(0x7e00);
    QTest::newRow("-NaN") << 0xffc00000u << quint16(0xfe00);
  }
  void f16KnownPatterns() {
    QFETCH(quint32, in);
    QFETCH(quint16, out);
    QCOMPARE(F16(from_bits(in)).bits, out);
  }

  void f16ToFloat_data() {
    QTest::addColumn<quint16>("in");
    QTest::addColumn<float>("out");
    QTest::newRow("1") << quint16(0x3c00) << 1.0f;
    QTest::newRow("max finite") << quint16(0x7bff) << 65504.0f;
    QTest::newRow("smallest subnormal") << quint16(0x0001) << 0x1p-24f;
    QTest::newRow("largest subnormal") << quint16(0x03ff) << 1023 * 0x1p-24f;
    QTest::newRow("-smallest normal") << quint16(0x8400) << -0x1p-14f;
    QTest::newRow("+inf") << quint16(0x7c00) << std::numeric_limits<float>::infinity();
    QTest::newRow("-inf") << quint16(0xfc00) << -std::numeric_limits<float>::infinity();
  }
  void f16ToFloat() {
    QFETCH(quint16, in);
    QFETCH(float, out);
    F16 h;
    h.bits = in;
    QCOMPARE(std::bit_cast<std::uint32_t>(static_cast<float>(h)), std::bit_cast<std::uint32_t>(out));
  }

  void f16NanAndSignedZero() {
    F16 h;
    h.bits = 0x7e00;
    QVERIFY(std::isnan(static_cast<float>(h)));
    h.bits = 0xfc01;
    QVERIFY(std::isnan(static_cast<float>(h)));
    h.bits = 0x8000;
    QVERIFY(std::signbit(static_cast<float>(h)) && static_cast<float>(h) == 0.0f);
  }

  // Every 16-bit value is a float: converting it back must give the same pattern (NaNs stay NaN).
  void everyPatternRoundTrips() {
    for (std::uint32_t u = 0; u <= 0xffffu; ++u) {
      const auto bits = static_cast<std::uint16_t>(u);
      Bf16 b;
      b.bits = bits;
      F16 h;
      h.bits = bits;
      const std::uint16_t b2 = Bf16(static_cast<float>(b)).bits, h2 = F16(static_cast<float>(h)).bits;
      if (bf16_is_nan(bits))
        QVERIFY(bf16_is_nan(b2));
      else if (b2 != bits)
        QFAIL(qPrintable("bf16 " + QString::number(u, 16) + " -> " + QString::number(b2, 16)));
      if (f16_is_nan(bits))
        QVERIFY(f16_is_nan(h2));
      else if (h2 != bits)
        QFAIL(qPrintable("fp16 " + QString::number(u, 16) + " -> " + QString::number(h2, 16)));
    }
  }

  // Floats across the whole range (every 4099th pattern, all exponents, both signs) round to a nearest
  // neighbour, ties to even; values beyond the largest finite fp16 give infinity only when nearer to it.
  void everyFloatRoundsToNearestEven() {
    for (std::uint64_t u = 0; u <= 0xffffffffull; u += 4099) {
      const float f = from_bits(static_cast<std::uint32_t>(u));
      if (std::isnan(f) || std::isinf(f)) continue;
      const std::uint16_t b = Bf16(f).bits, h = F16(f).bits;
      QCOMPARE(b >> 15, static_cast<int>(u >> 31));
      if (!nearest_even<Bf16>(f, b, 0x7f7f))
        QFAIL(qPrintable("bf16 of " + QString::number(u, 16) + " = " + QString::number(b, 16)));
      if (!nearest_even<F16>(f, h, 0x7bff))
        QFAIL(qPrintable("fp16 of " + QString::number(u, 16) + " = " + QString::number(h, 16)));
    }
  }
};

QTEST_APPLESS_MAIN(TestHalfTypes)
#include "test_kernels_half_types.moc"
