// The layout arithmetic of the CUDA GEMMs (kernels/cuda/gemm_layout.h), checked on the host: the
// column-major call column_major_of builds, run by a column-major reference GEMM with BLAS semantics on the
// row-major buffers, computes the row-major product for every transpose combination, padded row strides and
// k = 0; the grouped call's pointer plan gives each product its operands; the alignment rule.
#include <QtTest/QtTest>
#include <cstdint>
#include <vector>

#include "kernels/cuda/gemm_layout.h"

using namespace parm::kernels::cuda;

namespace {

// BLAS column-major semantics: C(m,n) = op(A)(m,k) op(B)(k,n) + beta C, element (i,j) at i + j*ld.
void column_major_reference(Op op_a, Op op_b, std::int64_t m, std::int64_t n, std::int64_t k, const double* a,
                            std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c,
                            std::int64_t ldc) {
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (std::int64_t p = 0; p < k; ++p) {
        const double av = op_a == Op::N ? a[i + p * lda] : a[p + i * lda];
        const double bv = op_b == Op::N ? b[p + j * ldb] : b[j + p * ldb];
        sum += av * bv;
      }
      c[i + j * ldc] = sum + beta * c[i + j * ldc];
    }
}

// What gemm.cpp hands cuBLAS, run by the reference.
void run_mapped(const RowMajorGemm& s, const double* a, const double* b, double beta, double* c) {
  const ColumnMajorGemm cm = column_major_of(s);
  column_major_reference(cm.op_first, cm.op_second, cm.m, cm.n, cm.k, b, cm.ld_first, a, cm.ld_second, beta,
                         c, cm.ldc);
}

double value(std::int64_t i, int salt) {
  return static_cast<double>((i * 37 + salt * 11) % 23) - 11.0;
}

}  // namespace

class TestCudaGemmLayout : public QObject {
  Q_OBJECT
 private slots:
  void rowMajorProducts_data();
  void rowMajorProducts();
  void zeroDepthKeepsBetaC();
  void pointerPlanGivesEachProductItsOperands();
  void alignmentRule();
};

void TestCudaGemmLayout::rowMajorProducts_data() {
  QTest::addColumn<int>("op_a");
  QTest::addColumn<int>("op_b");
  QTest::addColumn<int>("pad");
  for (int a : {0, 1})
    for (int b : {0, 1})
      for (int pad : {0, 3})
        QTest::newRow(qPrintable(QString("%1%2 pad %3").arg(a ? "T" : "N").arg(b ? "T" : "N").arg(pad)))
            << a << b << pad;
}

void TestCudaGemmLayout::rowMajorProducts() {
  QFETCH(int, op_a);
  QFETCH(int, op_b);
  QFETCH(int, pad);
  const Op oa = op_a ? Op::T : Op::N, ob = op_b ? Op::T : Op::N;
  const std::int64_t m = 5, n = 7, k = 4;
  // Stored shapes (row-major) with row strides padded by `pad`.
  const std::int64_t a_rows = oa == Op::N ? m : k, a_cols = oa == Op::N ? k : m;
  const std::int64_t b_rows = ob == Op::N ? k : n, b_cols = ob == Op::N ? n : k;
  RowMajorGemm s = packed_gemm(oa, ob, m, n, k);
  QCOMPARE(s.lda, a_cols);
  QCOMPARE(s.ldb, b_cols);
  s.lda += pad;
  s.ldb += pad;
  s.ldc += pad;
  std::vector<double> a(static_cast<std::size_t>(a_rows * s.lda)),
      b(static_cast<std::size_t>(b_rows * s.ldb));
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = value(static_cast<std::int64_t>(i), 1);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = value(static_cast<std::int64_t>(i), 2);
  std::vector<double> c(static_cast<std::size_t>(m * s.ldc));
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = value(static_cast<std::int64_t>(i), 3);
  std::vector<double> want = c;
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (std::int64_t p = 0; p < k; ++p) {
        const double av = oa == Op::N ? a[i * s.lda + p] : a[p * s.lda + i];
        const double bv = ob == Op::N ? b[p * s.ldb + j] : b[j * s.ldb + p];
        sum += av * bv;
      }
      want[i * s.ldc + j] = sum + 0.5 * c[i * s.ldc + j];
    }
  run_mapped(s, a.data(), b.data(), 0.5, c.data());
  QCOMPARE(c, want);  // padding columns untouched as well
}

void TestCudaGemmLayout::zeroDepthKeepsBetaC() {
  const RowMajorGemm s = packed_gemm(Op::T, Op::N, 3, 4, 0);
  const ColumnMajorGemm cm = column_major_of(s);
  QVERIFY(cm.ld_first >= 1 && cm.ld_second >= 1);
  std::vector<double> c(12, 2.0);
  run_mapped(s, nullptr, nullptr, 0.0, c.data());
  QCOMPARE(c, std::vector<double>(12, 0.0));
}

void TestCudaGemmLayout::pointerPlanGivesEachProductItsOperands() {
  alignas(16) static float a[1000], b[1000], c[1000], d[1000];
  const std::vector<StridedGemmSet> sets = {
      {packed_gemm(Op::T, Op::N, 8, 16, 24), 3, a, 24 * 8, b, 24 * 16, c, 8 * 16, 0},
      {packed_gemm(Op::N, Op::N, 0, 16, 24), 2, a, 1, b, 1, c, 1, 0},  // empty: left out
      {packed_gemm(Op::N, Op::T, 24, 8, 16), 2, b, 24 * 16, a, 8 * 16, d, 24 * 8, 1}};
  QCOMPARE(product_count(sets), std::int64_t{7});
  const GemmPointerPlan plan = pointer_plan_of(sets, sizeof(float));
  QCOMPARE(plan.sets, 2);
  QCOMPARE(plan.products(), std::int64_t{5});
  for (std::int64_t e = 0; e < 3; ++e) {  // first = row-major B, second = A
    QCOMPARE(static_cast<void*>(plan.pointer(e, 0)), static_cast<void*>(b + e * 24 * 16));
    QCOMPARE(static_cast<void*>(plan.pointer(e, 1)), static_cast<void*>(a + e * 24 * 8));
    QCOMPARE(static_cast<void*>(plan.pointer(e, 2)), static_cast<void*>(c + e * 8 * 16));
  }
  for (std::int64_t e = 0; e < 2; ++e) {
    QCOMPARE(static_cast<void*>(plan.pointer(3 + e, 0)), static_cast<void*>(a + e * 8 * 16));
    QCOMPARE(static_cast<void*>(plan.pointer(3 + e, 1)), static_cast<void*>(b + e * 24 * 16));
    QCOMPARE(static_cast<void*>(plan.pointer(3 + e, 2)), static_cast<void*>(d + e * 24 * 8));
  }
  const std::vector<StridedGemmSet> too_many(5, sets[0]);
  QVERIFY_THROWS_EXCEPTION(std::invalid_argument, pointer_plan_of(too_many, sizeof(float)));
}

void TestCudaGemmLayout::alignmentRule() {
  alignas(16) static std::uint16_t buffer[4096];
  const StridedGemmSet aligned{
      packed_gemm(Op::N, Op::N, 13, 40, 72), 2, buffer, 13 * 72, buffer, 72 * 40, buffer, 13 * 40, 0};
  QVERIFY(grouped_gemm_aligned(std::vector{aligned}, 2));
  StridedGemmSet odd_width = aligned;
  odd_width.shape = packed_gemm(Op::N, Op::N, 13, 33, 72);  // ldb = ldc = 33 bf16: 66 bytes
  QVERIFY(!grouped_gemm_aligned(std::vector{odd_width}, 2));
  QVERIFY(grouped_gemm_aligned(std::vector{odd_width}, 16));  // the same counts of 16-byte elements
  StridedGemmSet odd_stride = aligned;
  odd_stride.stride_c = 13 * 40 + 1;
  QVERIFY(!grouped_gemm_aligned(std::vector{odd_stride}, 2));
  odd_stride.count = 1;  // one product: its stride is never used
  QVERIFY(grouped_gemm_aligned(std::vector{odd_stride}, 2));
  StridedGemmSet odd_pointer = aligned;
  odd_pointer.b = buffer + 1;
  QVERIFY(!grouped_gemm_aligned(std::vector{odd_pointer}, 2));
}

QTEST_APPLESS_MAIN(TestCudaGemmLayout)
#include "test_kernels_cuda_gemm_layout.moc"
