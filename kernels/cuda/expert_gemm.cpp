#include "kernels/cuda/expert_gemm.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "kernels/cuda/cuda_status.h"
#include "kernels/cuda/gemm_pointers.h"

namespace parm::kernels::cuda {
namespace {

cublasOperation_t cublas_op(Op op) {
  return op == Op::N ? CUBLAS_OP_N : CUBLAS_OP_T;
}

const char* offset(const void* base, std::int64_t elements, std::size_t bytes) {
  return static_cast<const char*>(base) + elements * static_cast<std::int64_t>(bytes);
}

}  // namespace

std::int64_t product_count(std::span<const StridedGemmSet> sets) {
  std::int64_t n = 0;
  for (const StridedGemmSet& s : sets) n += s.count;
  return n;
}

bool grouped_gemm_aligned(ElementType type, std::span<const StridedGemmSet> sets) {
  if (!kGroupedGemmAvailable) return false;
  const auto bytes = static_cast<std::int64_t>(element_bytes(type));
  const auto aligned = [bytes](std::int64_t elements) { return elements * bytes % 16 == 0; };
  const auto aligned_pointer = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; };
  for (const StridedGemmSet& s : sets) {
    if (!aligned_pointer(s.a) || !aligned_pointer(s.b) || !aligned_pointer(s.c)) return false;
    if (!aligned(s.shape.lda) || !aligned(s.shape.ldb) || !aligned(s.shape.ldc)) return false;
    if (s.count > 1 && (!aligned(s.stride_a) || !aligned(s.stride_b) || !aligned(s.stride_c))) return false;
  }
  return true;
}

void looped_gemm(cublasHandle_t handle, cudaStream_t stream, ElementType type,
                 std::span<const StridedGemmSet> sets) {
  const std::size_t bytes = element_bytes(type);
  for (const StridedGemmSet& s : sets)
    for (std::int64_t i = 0; i < s.count; ++i)
      gemm(handle, stream, type, s.shape, offset(s.a, i * s.stride_a, bytes),
           offset(s.b, i * s.stride_b, bytes), s.beta, const_cast<char*>(offset(s.c, i * s.stride_c, bytes)));
}

void grouped_gemm(cublasHandle_t handle, cudaStream_t stream, ElementType type,
                  std::span<const StridedGemmSet> sets, const GemmPointerSpace& space) {
#if CUBLAS_VERSION >= 120500
  if (sets.size() > static_cast<std::size_t>(kMaxGemmSets))
    throw std::invalid_argument("grouped_gemm: more sets than one call takes");
  const std::int64_t total = product_count(sets);
  if (total == 0) return;
  if (total > space.capacity) throw std::invalid_argument("grouped_gemm: the pointer space is too small");
  const std::size_t bytes = element_bytes(type);

  // Row-major to column-major as in gemm.h: per set, cuBLAS gets (op_b, op_a, n, m, k, B, A, C).
  GemmPointerPlan plan;
  std::vector<cublasOperation_t> trans_first, trans_second;
  std::vector<std::int64_t> m, n, k, ld_first, ld_second, ldc, group_size;
  std::vector<float> alpha32, beta32;
  std::vector<double> alpha64, beta64;
  for (const StridedGemmSet& s : sets) {
    if (s.count == 0 || s.shape.m == 0 || s.shape.n == 0) continue;
    const int g = plan.sets++;
    plan.count[g] = s.count;
    plan.base[g][0] = static_cast<const char*>(s.b);
    plan.base[g][1] = static_cast<const char*>(s.a);
    plan.base[g][2] = static_cast<const char*>(s.c);
    plan.stride_bytes[g][0] = s.stride_b * static_cast<std::int64_t>(bytes);
    plan.stride_bytes[g][1] = s.stride_a * static_cast<std::int64_t>(bytes);
    plan.stride_bytes[g][2] = s.stride_c * static_cast<std::int64_t>(bytes);
    trans_first.push_back(cublas_op(s.shape.op_b));
    trans_second.push_back(cublas_op(s.shape.op_a));
    m.push_back(s.shape.n);
    n.push_back(s.shape.m);
    k.push_back(s.shape.k);
    ld_first.push_back(std::max<std::int64_t>(s.shape.ldb, 1));
    ld_second.push_back(std::max<std::int64_t>(s.shape.lda, 1));
    ldc.push_back(s.shape.ldc);
    group_size.push_back(s.count);
    alpha32.push_back(1.0f);
    beta32.push_back(static_cast<float>(s.beta));
    alpha64.push_back(1.0);
    beta64.push_back(s.beta);
  }
  if (plan.sets == 0) return;
  fill_gemm_pointers(stream, plan, space.pointers, space.capacity);

  void** const first = space.pointers;
  void** const second = space.pointers + space.capacity;
  void** const out = space.pointers + 2 * space.capacity;
  check_status(cublasSetStream(handle, stream), "cublasSetStream");
  // alpha and beta live on the host; the handle is shared with other ops, so say so on every call.
  check_status(cublasSetPointerMode(handle, CUBLAS_POINTER_MODE_HOST), "cublasSetPointerMode");
  if (type == ElementType::F64) {
    // cublasGemmGroupedBatchedEx takes fp32/16-bit data; fp64 has its own grouped call.
    check_status(cublasDgemmGroupedBatched_64(
                     handle, trans_first.data(), trans_second.data(), m.data(), n.data(), k.data(),
                     alpha64.data(), reinterpret_cast<const double* const*>(first), ld_first.data(),
                     reinterpret_cast<const double* const*>(second), ld_second.data(), beta64.data(),
                     reinterpret_cast<double* const*>(out), ldc.data(), plan.sets, group_size.data()),
                 "cublasDgemmGroupedBatched");
    return;
  }
  const cudaDataType_t t = cuda_data_type(type);
  check_status(cublasGemmGroupedBatchedEx_64(handle, trans_first.data(), trans_second.data(), m.data(),
                                             n.data(), k.data(), alpha32.data(), first, t, ld_first.data(),
                                             second, t, ld_second.data(), beta32.data(), out, t, ldc.data(),
                                             plan.sets, group_size.data(), CUBLAS_COMPUTE_32F),
               "cublasGemmGroupedBatchedEx");
#else
  (void)handle, (void)stream, (void)type, (void)sets, (void)space;
  throw std::logic_error("grouped_gemm: cuBLAS older than 12.5 has no grouped GEMM");
#endif
}

}  // namespace parm::kernels::cuda
