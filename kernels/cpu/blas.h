// Row-major GEMM on OpenBLAS behind one template, so every kernel is written once for float and double.
#pragma once

#include <cblas.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace parm::kernels::cpu {

enum class Trans { No, Yes };

namespace detail {

inline blasint blas_int(std::int64_t v) {
  // An LP64 OpenBLAS takes 32-bit sizes: refuse rather than silently truncate.
  if (v < 0 || v > static_cast<std::int64_t>(std::numeric_limits<blasint>::max()))
    throw std::length_error("parm::kernels::cpu::gemm: dimension does not fit the BLAS integer type");
  return static_cast<blasint>(v);
}

inline CBLAS_TRANSPOSE cblas_trans(Trans t) {
  return t == Trans::No ? CblasNoTrans : CblasTrans;
}

}  // namespace detail

// C(m,n) = alpha * op(A)(m,k) * op(B)(k,n) + beta * C, all row-major with explicit leading dimensions.
template <typename Scalar>
void gemm(Trans trans_a, Trans trans_b, std::int64_t m, std::int64_t n, std::int64_t k, Scalar alpha,
          const Scalar* a, std::int64_t lda, const Scalar* b, std::int64_t ldb, Scalar beta, Scalar* c,
          std::int64_t ldc) {
  static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>, "gemm: float or double");
  if (m == 0 || n == 0) return;
  if (k == 0) {
    // BLAS rejects lda = 0; the product is empty, so only the beta scaling remains.
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j)
        c[i * ldc + j] = beta == Scalar(0) ? Scalar(0) : beta * c[i * ldc + j];
    return;
  }
  using detail::blas_int;
  if constexpr (std::is_same_v<Scalar, float>) {
    cblas_sgemm(CblasRowMajor, detail::cblas_trans(trans_a), detail::cblas_trans(trans_b), blas_int(m),
                blas_int(n), blas_int(k), alpha, a, blas_int(lda), b, blas_int(ldb), beta, c, blas_int(ldc));
  } else {
    cblas_dgemm(CblasRowMajor, detail::cblas_trans(trans_a), detail::cblas_trans(trans_b), blas_int(m),
                blas_int(n), blas_int(k), alpha, a, blas_int(lda), b, blas_int(ldb), beta, c, blas_int(ldc));
  }
}

// Packed operands: leading dimensions follow from the stored shapes (A is m x k, or k x m when transposed).
template <typename Scalar>
void gemm(Trans trans_a, Trans trans_b, std::int64_t m, std::int64_t n, std::int64_t k, Scalar alpha,
          const Scalar* a, const Scalar* b, Scalar beta, Scalar* c) {
  const std::int64_t lda = trans_a == Trans::No ? k : m;
  const std::int64_t ldb = trans_b == Trans::No ? n : k;
  gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
}

}  // namespace parm::kernels::cpu
