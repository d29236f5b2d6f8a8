#include "kernels/cuda/expert_gemm.h"

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/gemm_pointers.h"

namespace parm::kernels::cuda {
namespace {

[[maybe_unused]] cublasOperation_t cublas_op(Op op) {
  return op == Op::N ? CUBLAS_OP_N : CUBLAS_OP_T;
}

const char* offset(const void* base, std::int64_t elements, std::size_t bytes) {
  return static_cast<const char*>(base) + elements * static_cast<std::int64_t>(bytes);
}

}  // namespace

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
  const GemmPointerPlan plan = pointer_plan_of(sets, element_bytes(type));
  const std::int64_t total = plan.products();
  if (total == 0) return;
  if (total > space.capacity) throw std::invalid_argument("grouped_gemm: the pointer space is too small");

  // Per group, the column-major call of gemm_layout.h; the same sets as the plan, in the same order.
  std::vector<cublasOperation_t> op_first, op_second;
  std::vector<std::int64_t> m, n, k, ld_first, ld_second, ldc, group_size;
  std::vector<float> alpha32, beta32;
  std::vector<double> alpha64, beta64;
  for (const StridedGemmSet& s : sets) {
    if (s.count == 0 || s.shape.m == 0 || s.shape.n == 0) continue;
    const ColumnMajorGemm c = column_major_of(s.shape);
    op_first.push_back(cublas_op(c.op_first));
    op_second.push_back(cublas_op(c.op_second));
    m.push_back(c.m);
    n.push_back(c.n);
    k.push_back(c.k);
    ld_first.push_back(c.ld_first);
    ld_second.push_back(c.ld_second);
    ldc.push_back(c.ldc);
    group_size.push_back(s.count);
    alpha32.push_back(1.0f);
    beta32.push_back(static_cast<float>(s.beta));
    alpha64.push_back(1.0);
    beta64.push_back(s.beta);
  }
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
                     handle, op_first.data(), op_second.data(), m.data(), n.data(), k.data(), alpha64.data(),
                     reinterpret_cast<const double* const*>(first), ld_first.data(),
                     reinterpret_cast<const double* const*>(second), ld_second.data(), beta64.data(),
                     reinterpret_cast<double* const*>(out), ldc.data(), plan.sets, group_size.data()),
                 "cublasDgemmGroupedBatched");
    return;
  }
  const cudaDataType_t t = cuda_data_type(type);
  check_status(cublasGemmGroupedBatchedEx_64(handle, op_first.data(), op_second.data(), m.data(), n.data(),
                                             k.data(), alpha32.data(), first, t, ld_first.data(), second, t,
                                             ld_second.data(), beta32.data(), out, t, ldc.data(), plan.sets,
                                             group_size.data(), CUBLAS_COMPUTE_32F),
               "cublasGemmGroupedBatchedEx");
#else
  (void)handle, (void)stream, (void)type, (void)sets, (void)space;
  throw std::logic_error("grouped_gemm: cuBLAS older than 12.5 has no grouped GEMM");
#endif
}

}  // namespace parm::kernels::cuda
