// The fit module (engine/model/fit.h): exact lines are recovered by every fit, the calibration's guards turn
// a negative slope into the mean and a negative fixed cost into a line through the origin, the overhead fit
// clamps to non-negative terms, and r2 is the unweighted coefficient of determination.
#include <QtTest>
#include <cmath>

#include "engine/model/fit.h"

using namespace parm;

namespace {

std::vector<FitSample> line(double alpha, double beta, std::initializer_list<double> sizes) {
  std::vector<FitSample> out;
  for (double n : sizes) out.push_back({n, alpha + beta * n});
  return out;
}

bool close(double a, double b, double rel = 1e-9) {
  return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b)) + 1e-15;
}

}  // namespace

class TestFit : public QObject {
  Q_OBJECT

 private slots:
  void weightedFitRecoversAnExactLine() {
    const LinearFit f = fit_alpha_beta(line(0.05, 2e-6, {1e3, 1e4, 1e5, 1e6}));
    QVERIFY2(close(f.alpha, 0.05), qPrintable(QString::number(f.alpha, 'g', 17)));
    QVERIFY2(close(f.beta, 2e-6), qPrintable(QString::number(f.beta, 'g', 17)));
    QVERIFY(close(f.r2, 1.0));
    QCOMPARE(f.samples, 4);
  }

  void weightedFitRefusesTooFewSizesAndNonPositiveTimes() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fit_alpha_beta({{5, 1}}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fit_alpha_beta({{5, 1}, {5, 2}}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fit_alpha_beta({{1, 1}, {2, 0}}));
  }

  void measuredFitKeepsAPositiveLine() {
    const GuardedFit g = fit_measured(line(0.01, 3e-7, {65536, 1 << 20, 1 << 24}));
    QVERIFY(g.fitted);
    QVERIFY(!g.through_origin);
    QVERIFY(close(g.line.alpha, 0.01));
    QVERIFY(close(g.line.beta, 3e-7));
    QVERIFY(close(g.line.r2, 1.0));
  }

  void measuredFitWithoutTwoSizesIsNotFitted() {
    QVERIFY(!fit_measured({{4096, 0.5}}).fitted);
    QVERIFY(!fit_measured({}).fitted);
    QVERIFY(!fit_measured({{1, 1}, {2, -1}}).fitted);
  }

  // Times that shrink with size: the stored line is the mean time, flat, with r2 0.
  void measuredFitTurnsANegativeSlopeIntoTheMean() {
    const GuardedFit g = fit_measured({{1000, 3.0}, {2000, 2.0}, {3000, 1.0}});
    QVERIFY(g.fitted);
    QVERIFY(!g.through_origin);
    QVERIFY(g.constant);
    QCOMPARE(g.line.alpha, 2.0);
    QCOMPARE(g.line.beta, 0.0);
    QCOMPARE(g.line.r2, 0.0);
    QCOMPARE(g.line.samples, 3);
  }

  // t = -1 + 0.001 n has a negative fixed cost: refit as t = beta * n with the 1/t^2 weights, i.e. beta is
  // the mean of the per-sample t/n ratios weighted by (n/t)^2.
  void measuredFitPutsANegativeFixedCostThroughTheOrigin() {
    const std::vector<FitSample> s = line(-1.0, 1e-3, {2000, 4000, 8000});
    const GuardedFit g = fit_measured(s);
    QVERIFY(g.fitted);
    QVERIFY(g.through_origin);
    QCOMPARE(g.line.alpha, 0.0);
    double num = 0, den = 0;
    for (const FitSample& x : s) {
      num += x.n / x.t;
      den += (x.n / x.t) * (x.n / x.t);
    }
    QVERIFY(close(g.line.beta, num / den));
    QVERIFY(g.line.beta > 0);
    // r2 of the line through the origin against the data (1, 3, 7): below 1, computed unweighted.
    const double b = num / den, mean = 11.0 / 3.0;
    double ss_res = 0, ss_tot = 0;
    for (const FitSample& x : s) {
      ss_res += (x.t - b * x.n) * (x.t - b * x.n);
      ss_tot += (x.t - mean) * (x.t - mean);
    }
    QVERIFY(close(g.line.r2, 1.0 - ss_res / ss_tot, 1e-6));
    QVERIFY(g.line.r2 < 0.9);
  }

  void nonnegativeLineRecoversAnExactLine() {
    const GuardedFit g = fit_nonnegative_line(line(0.2, 0.5, {1, 2, 3, 4}));
    QVERIFY(g.fitted);
    QVERIFY(close(g.line.alpha, 0.2));
    QVERIFY(close(g.line.beta, 0.5));
    QVERIFY(close(g.line.r2, 1.0));
    QCOMPARE(g.line.samples, 4);
  }

  // A falling line clamps beta to 0 (alpha = the mean); a line below zero at n = 0 is refit through the
  // origin (beta = sum(n t) / sum(n^2)), not left with the slope its negative intercept needed.
  void nonnegativeLineClampsBothTerms() {
    const GuardedFit falling = fit_nonnegative_line({{1, 3.0}, {2, 2.0}, {3, 1.0}});
    QCOMPARE(falling.line.beta, 0.0);
    QCOMPARE(falling.line.alpha, 2.0);
    QCOMPARE(falling.line.r2, 0.0);
    const GuardedFit negative = fit_nonnegative_line(line(-2.0, 1.0, {3, 4, 5}));  // t = 1, 2, 3
    QCOMPARE(negative.line.alpha, 0.0);
    QVERIFY(negative.through_origin);
    QVERIFY(close(negative.line.beta, 26.0 / 50.0));
    // Residuals t - 0.52 n: -0.56, -0.08, 0.4; SS_tot = 2.
    QVERIFY(close(negative.line.r2, 1.0 - (0.56 * 0.56 + 0.08 * 0.08 + 0.4 * 0.4) / 2.0));
  }

  // r2 is computed on the unweighted residuals: one outlier among four points on a line.
  void rSquaredIsTheUnweightedDetermination() {
    const GuardedFit g = fit_nonnegative_line({{0, 0.0}, {1, 0.0}, {2, 0.0}, {3, 4.0}});
    // OLS: alpha = -0.8 < 0, so refit through the origin: beta = 12 / 14.
    const double b = 12.0 / 14.0;
    QVERIFY(close(g.line.beta, b));
    QCOMPARE(g.line.alpha, 0.0);
    const double ss_res = b * b + 4 * b * b + (4 - 3 * b) * (4 - 3 * b), ss_tot = 3 * 1.0 + 9.0;
    QVERIFY(close(g.line.r2, 1.0 - ss_res / ss_tot));
  }

  // The measured curve: linear between samples (given in any order), flat below, proportional above.
  void interpolationFollowsTheSamples() {
    const std::vector<FitSample> s = {{4000, 10.0}, {1000, 0.0}, {2000, 2.0}};
    QCOMPARE(interpolate_samples(s, 500), 0.0);
    QCOMPARE(interpolate_samples(s, 1000), 0.0);
    QVERIFY(close(interpolate_samples(s, 1500), 1.0));
    QVERIFY(close(interpolate_samples(s, 3000), 6.0));
    QVERIFY(close(interpolate_samples(s, 8000), 20.0));
    QCOMPARE(interpolate_samples({}, 100), 0.0);
  }

  void nonnegativeLineWithoutSamplesIsNotFitted() {
    const GuardedFit g = fit_nonnegative_line({});
    QVERIFY(!g.fitted);
    QCOMPARE(g.line.samples, 0);
  }
};

QTEST_APPLESS_MAIN(TestFit)
#include "test_engine_fit.moc"
