// The layout arithmetic of the cuBLAS GEMMs, without CUDA headers so a host test checks it in every CI run.
//
// cuBLAS is column-major. A row-major matrix X (r x c, row stride ld) is, read column-major, X^T (c x r,
// leading dimension ld). So the row-major C(m,n) = op(A)(m,k) op(B)(k,n) is the column-major
// C^T(n,m) = op(B)^T op(A)^T: one cuBLAS call with the operands swapped (B first), m and n swapped, and each
// operand keeping its own transpose flag. The backward's products are the transposed variants:
// dW = X^T dY is {Op::T, Op::N}, dX = dY W^T is {Op::N, Op::T}.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>

#include "kernels/hd.h"

namespace parm::kernels::cuda {

enum class Op { N, T };

// C(m,n) = alpha op(A)(m,k) op(B)(k,n) + beta C, row-major, lda/ldb/ldc the row strides of the stored
// matrices (A is stored m x k, or k x m when transposed).
struct RowMajorGemm {
  Op op_a = Op::N, op_b = Op::N;
  std::int64_t m = 0, n = 0, k = 0;
  std::int64_t lda = 0, ldb = 0, ldc = 0;
};

// Packed operands: every row stride is the stored matrix's width.
inline RowMajorGemm packed_gemm(Op op_a, Op op_b, std::int64_t m, std::int64_t n, std::int64_t k) {
  return {op_a, op_b, m, n, k, op_a == Op::N ? k : m, op_b == Op::N ? n : k, n};
}

// The column-major call (BLAS argument order) that computes a row-major product: its first operand is the
// row-major B, its second the row-major A.
struct ColumnMajorGemm {
  Op op_first = Op::N, op_second = Op::N;
  std::int64_t m = 0, n = 0, k = 0;
  std::int64_t ld_first = 0, ld_second = 0, ldc = 0;
};

inline ColumnMajorGemm column_major_of(const RowMajorGemm& s) {
  // With k = 0 cuBLAS computes C = beta C but still wants leading dimensions >= 1.
  return {s.op_b, s.op_a, s.n, s.m, s.k, std::max<std::int64_t>(s.ldb, 1), std::max<std::int64_t>(s.lda, 1),
          s.ldc};
}

// `count` equally shaped products whose operands lie at fixed strides: product i uses a + i*stride_a,
// b + i*stride_b, c + i*stride_c (one per local expert).
struct StridedGemmSet {
  RowMajorGemm shape;
  std::int64_t count = 0;  // products in the set
  const void* a = nullptr;
  std::int64_t stride_a = 0;  // elements between consecutive products' A
  const void* b = nullptr;
  std::int64_t stride_b = 0;
  void* c = nullptr;
  std::int64_t stride_c = 0;
  double beta = 0;  // 0: C OVERWRITE, 1: C ACCUMULATE
};

inline std::int64_t product_count(std::span<const StridedGemmSet> sets) {
  std::int64_t n = 0;
  for (const StridedGemmSet& s : sets) n += s.count;
  return n;
}

// The pointers of a grouped call, per set in cuBLAS's operand order (first = row-major B, second = A, C):
// a kernel expands them into the device pointer arrays, product i of the call (numbered set after set).
struct GemmPointerPlan {
  static constexpr int kMaxSets = 4;
  int sets = 0;
  std::int64_t count[kMaxSets] = {};
  const char* base[kMaxSets][3] = {};
  std::int64_t stride_bytes[kMaxSets][3] = {};

  // Operand o (0 first, 1 second, 2 C) of product i.
  PARM_HD char* pointer(std::int64_t i, int o) const {
    int set = 0;
    std::int64_t first = 0;
    while (set + 1 < sets && i >= first + count[set]) first += count[set++];
    return const_cast<char*>(base[set][o]) + (i - first) * stride_bytes[set][o];
  }
  PARM_HD std::int64_t products() const {
    std::int64_t n = 0;
    for (int s = 0; s < sets; ++s) n += count[s];
    return n;
  }
};

// The plan of the sets with work (empty products are left out, as cuBLAS wants no empty group).
inline GemmPointerPlan pointer_plan_of(std::span<const StridedGemmSet> sets, std::size_t element_bytes) {
  GemmPointerPlan plan;
  const auto bytes = static_cast<std::int64_t>(element_bytes);
  for (const StridedGemmSet& s : sets) {
    if (s.count == 0 || s.shape.m == 0 || s.shape.n == 0) continue;
    if (plan.sets == GemmPointerPlan::kMaxSets) throw std::invalid_argument("grouped gemm: more than 4 sets");
    const int g = plan.sets++;
    plan.count[g] = s.count;
    plan.base[g][0] = static_cast<const char*>(s.b);
    plan.base[g][1] = static_cast<const char*>(s.a);
    plan.base[g][2] = static_cast<const char*>(s.c);
    plan.stride_bytes[g][0] = s.stride_b * bytes;
    plan.stride_bytes[g][1] = s.stride_a * bytes;
    plan.stride_bytes[g][2] = s.stride_c * bytes;
  }
  return plan;
}

// Whether the grouped call takes these sets: every base pointer, leading dimension and stride a multiple of
// 16 bytes (what cublasGemmGroupedBatchedEx asks of 16-bit data; asked of every type here, to be safe).
inline bool grouped_gemm_aligned(std::span<const StridedGemmSet> sets, std::size_t element_bytes) {
  const auto bytes = static_cast<std::int64_t>(element_bytes);
  const auto aligned = [bytes](std::int64_t elements) { return elements * bytes % 16 == 0; };
  const auto aligned_pointer = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; };
  for (const StridedGemmSet& s : sets) {
    if (!aligned_pointer(s.a) || !aligned_pointer(s.b) || !aligned_pointer(s.c)) return false;
    if (!aligned(s.shape.lda) || !aligned(s.shape.ldb) || !aligned(s.shape.ldc)) return false;
    if (s.count > 1 && (!aligned(s.stride_a) || !aligned(s.stride_b) || !aligned(s.stride_c))) return false;
  }
  return true;
}

}  // namespace parm::kernels::cuda
