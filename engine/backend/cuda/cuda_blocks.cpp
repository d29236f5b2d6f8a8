// BlockCompute<T> on CUDA (issue 18), fp32 and fp64: the blocks' GEMMs on cuBLAS (kernels/cuda/gemm.h), every
// other op a kernel of kernels/cuda/transformer_cuda.cu on the shared per-row math, enqueued on the lane's
// CUDA stream. The attention backward's score gradients live in a buffer of the caching allocator, kept while
// the shape repeats (no cudaMalloc inside the iteration loop).
#include <memory>

#include "engine/backend/cuda/cuda_parts.h"
#include "kernels/cuda/element_type.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/transformer_cuda.h"
#include "kernels/shared/layer_norm_math.h"

namespace parm::backend::cuda {
namespace {

namespace kc = kernels::cuda;

kc::AttentionGeometry geometry_of(const AttentionDims& d) {
  return {d.batch, d.seq, d.heads, d.head_dim, d.causal};
}

std::int64_t count_of(std::size_t n) {
  return static_cast<std::int64_t>(n);
}

template <typename T>
class CudaBlocks final : public BlockCompute<T> {
 public:
  explicit CudaBlocks(CudaContext& context) : context_(context) {}

  void matmul(Stream& s, View<const T> a, bool trans_a, View<const T> b, bool trans_b, std::int64_t m,
              std::int64_t n, std::int64_t k, View<T> c, bool accumulate) override {
    const kc::RowMajorGemm shape =
        kc::packed_gemm(trans_a ? kc::Op::T : kc::Op::N, trans_b ? kc::Op::T : kc::Op::N, m, n, k);
    kc::gemm(context_.cublas, cuda_stream_of(s), kc::element_type_of<T>(), shape, a.data(), b.data(),
             accumulate ? 1.0 : 0.0, c.data());
  }
  void add_bias(Stream& s, View<T> x, View<const T> bias, std::int64_t rows, std::int64_t n) override {
    kc::add_bias_rows(cuda_stream_of(s), x.data(), bias.data(), rows, n);
  }
  void bias_grad(Stream& s, View<const T> dy, std::int64_t rows, std::int64_t n, View<T> dbias) override {
    kc::bias_grad_rows(cuda_stream_of(s), dy.data(), rows, n, dbias.data());
  }
  void add(Stream& s, View<const T> a, View<const T> b, View<T> out) override {
    kc::add(cuda_stream_of(s), a.data(), b.data(), out.data(), count_of(out.size()));
  }
  void fill_zero(Stream& s, View<T> x) override {
    if (x.empty()) return;
    check_cuda(cudaMemsetAsync(x.data(), 0, x.size() * sizeof(T), cuda_stream_of(s)),
               "fill_zero: cudaMemsetAsync");
  }
  void gelu_forward(Stream& s, View<const T> in, View<T> out) override {
    kc::gelu_forward(cuda_stream_of(s), in.data(), out.data(), count_of(in.size()));
  }
  void gelu_backward(Stream& s, View<const T> in, View<const T> dout, View<T> din) override {
    kc::gelu_backward(cuda_stream_of(s), in.data(), dout.data(), din.data(), count_of(in.size()));
  }
  void swiglu_forward(Stream& s, View<const T> a, View<const T> b, View<T> out) override {
    kc::swiglu_forward(cuda_stream_of(s), a.data(), b.data(), out.data(), count_of(a.size()));
  }
  void swiglu_backward(Stream& s, View<const T> a, View<const T> b, View<const T> dout, View<T> da,
                       View<T> db) override {
    kc::swiglu_backward(cuda_stream_of(s), a.data(), b.data(), dout.data(), da.data(), db.data(),
                        count_of(a.size()));
  }
  void layer_norm_forward(Stream& s, View<const T> x, std::int64_t rows, std::int64_t n, View<const T> gamma,
                          View<const T> beta, View<T> y, View<T> mean, View<T> rstd) override {
    kc::layer_norm_forward(cuda_stream_of(s), x.data(), rows, n, gamma.data(), beta.data(),
                           T(kernels::shared::kLayerNormEpsilon), y.data(), mean.data(), rstd.data());
  }
  void layer_norm_backward(Stream& s, View<const T> x, View<const T> dy, std::int64_t rows, std::int64_t n,
                           View<const T> gamma, View<const T> mean, View<const T> rstd, View<T> dx,
                           View<T> dgamma, View<T> dbeta) override {
    kc::layer_norm_backward(cuda_stream_of(s), x.data(), dy.data(), rows, n, gamma.data(), mean.data(),
                            rstd.data(), dx.data(), dgamma.data(), dbeta.data());
  }
  void attention_forward(Stream& s, const AttentionDims& d, View<const T> qkv, View<T> probs,
                         View<T> ctx) override {
    kc::attention_forward(cuda_stream_of(s), geometry_of(d), qkv.data(), probs.data(), ctx.data());
  }
  void attention_backward(Stream& s, const AttentionDims& d, View<const T> qkv, View<const T> probs,
                          View<const T> dctx, View<T> dqkv) override {
    // One scratch per shape; the stream order keeps one backward's use before the next one's.
    if (scratch_.size() != static_cast<std::size_t>(d.probs()))
      scratch_ = Buffer<T>(*context_.allocator, static_cast<std::size_t>(d.probs()));
    kc::attention_backward(cuda_stream_of(s), geometry_of(d), qkv.data(), probs.data(), dctx.data(),
                           dqkv.data(), scratch_.data());
  }
  void embedding_forward(Stream& s, View<const std::int64_t> ids, View<const T> table, std::int64_t first,
                         std::int64_t width, View<T> out, bool accumulate) override {
    kc::embedding_forward(cuda_stream_of(s), ids.data(), count_of(ids.size()), table.data(), first,
                          count_of(table.size()) / width, width, out.data(), accumulate);
  }
  void embedding_backward(Stream& s, View<const std::int64_t> ids, View<const T> dout, std::int64_t first,
                          std::int64_t width, View<T> dtable) override {
    kc::embedding_backward(cuda_stream_of(s), ids.data(), count_of(ids.size()), dout.data(), first,
                           count_of(dtable.size()) / width, width, dtable.data());
  }
  void row_max(Stream& s, View<const T> logits, std::int64_t rows, std::int64_t cols, View<T> max) override {
    kc::row_max(cuda_stream_of(s), logits.data(), rows, cols, max.data());
  }
  void cross_entropy_parts(Stream& s, View<const T> logits, std::int64_t rows, std::int64_t cols,
                           std::int64_t first, View<const std::int64_t> targets, View<const T> max,
                           View<T> sum, View<T> target_logit) override {
    kc::cross_entropy_parts(cuda_stream_of(s), logits.data(), rows, cols, first, targets.data(), max.data(),
                            sum.data(), target_logit.data());
  }
  void cross_entropy_backward(Stream& s, View<const T> logits, std::int64_t rows, std::int64_t cols,
                              std::int64_t first, View<const std::int64_t> targets, View<const T> max,
                              View<const T> sum, T scale, View<T> dlogits) override {
    kc::cross_entropy_backward(cuda_stream_of(s), logits.data(), rows, cols, first, targets.data(),
                               max.data(), sum.data(), scale, dlogits.data());
  }
  void cross_entropy_loss(Stream& s, View<const T> max, View<const T> sum, View<const T> target_logit,
                          std::int64_t rows, View<T> loss) override {
    kc::cross_entropy_loss(cuda_stream_of(s), max.data(), sum.data(), target_logit.data(), rows, loss.data());
  }

 private:
  CudaContext& context_;
  Buffer<T> scratch_;
};

}  // namespace

template <typename T>
std::unique_ptr<BlockCompute<T>> make_cuda_blocks(CudaContext& context) {
  return std::make_unique<CudaBlocks<T>>(context);
}

template std::unique_ptr<BlockCompute<float>> make_cuda_blocks<float>(CudaContext&);
template std::unique_ptr<BlockCompute<double>> make_cuda_blocks<double>(CudaContext&);

}  // namespace parm::backend::cuda
