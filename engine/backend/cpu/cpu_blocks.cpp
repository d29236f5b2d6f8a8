#include "engine/backend/cpu/cpu_blocks.h"

#include <algorithm>
#include <vector>

#include "engine/backend/cpu/cpu_streams.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/transformer.h"
#include "kernels/shared/layer_norm_math.h"

namespace parm::backend::cpu {
namespace {

namespace k = kernels::cpu;

std::int64_t count_of(std::size_t n) {
  return static_cast<std::int64_t>(n);
}

template <typename T>
class CpuBlocks final : public BlockCompute<T> {
 public:
  void matmul(Stream& s, View<const T> a, bool trans_a, View<const T> b, bool trans_b, std::int64_t m,
              std::int64_t n, std::int64_t kk, View<T> c, bool accumulate) override {
    cpu_stream(s).enqueue([=] {
      k::gemm(trans_a ? k::Trans::Yes : k::Trans::No, trans_b ? k::Trans::Yes : k::Trans::No, m, n, kk, T(1),
              a.data(), b.data(), accumulate ? T(1) : T(0), c.data());
    });
  }
  void add_bias(Stream& s, View<T> x, View<const T> bias, std::int64_t rows, std::int64_t n) override {
    cpu_stream(s).enqueue([=] {
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < n; ++c) x.data()[r * n + c] += bias.data()[c];
    });
  }
  void bias_grad(Stream& s, View<const T> dy, std::int64_t rows, std::int64_t n, View<T> dbias) override {
    cpu_stream(s).enqueue([=] {
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < n; ++c) dbias.data()[c] += dy.data()[r * n + c];
    });
  }
  void add(Stream& s, View<const T> a, View<const T> b, View<T> out) override {
    cpu_stream(s).enqueue([=] {
      for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] = a.data()[i] + b.data()[i];
    });
  }
  void fill_zero(Stream& s, View<T> x) override {
    cpu_stream(s).enqueue([=] { std::fill_n(x.data(), x.size(), T(0)); });
  }
  void gelu_forward(Stream& s, View<const T> in, View<T> out) override {
    cpu_stream(s).enqueue([=] { k::gelu_forward(in.data(), count_of(in.size()), out.data()); });
  }
  void gelu_backward(Stream& s, View<const T> in, View<const T> dout, View<T> din) override {
    cpu_stream(s).enqueue([=] { k::gelu_backward(in.data(), dout.data(), count_of(in.size()), din.data()); });
  }
  void swiglu_forward(Stream& s, View<const T> a, View<const T> b, View<T> out) override {
    cpu_stream(s).enqueue([=] { k::swiglu_forward(a.data(), b.data(), count_of(a.size()), out.data()); });
  }
  void swiglu_backward(Stream& s, View<const T> a, View<const T> b, View<const T> dout, View<T> da,
                       View<T> db) override {
    cpu_stream(s).enqueue([=] {
      k::swiglu_backward(a.data(), b.data(), dout.data(), count_of(a.size()), da.data(), db.data());
    });
  }
  void layer_norm_forward(Stream& s, View<const T> x, std::int64_t rows, std::int64_t n, View<const T> gamma,
                          View<const T> beta, View<T> y, View<T> mean, View<T> rstd) override {
    cpu_stream(s).enqueue([=] {
      k::layer_norm_forward(x.data(), rows, n, gamma.data(), beta.data(),
                            T(kernels::shared::kLayerNormEpsilon), y.data(), mean.data(), rstd.data());
    });
  }
  void layer_norm_backward(Stream& s, View<const T> x, View<const T> dy, std::int64_t rows, std::int64_t n,
                           View<const T> gamma, View<const T> mean, View<const T> rstd, View<T> dx,
                           View<T> dgamma, View<T> dbeta) override {
    cpu_stream(s).enqueue([=] {
      k::layer_norm_backward(x.data(), dy.data(), rows, n, gamma.data(), mean.data(), rstd.data(), dx.data(),
                             dgamma.data(), dbeta.data());
    });
  }
  void attention_forward(Stream& s, const AttentionDims& d, View<const T> qkv, View<T> probs,
                         View<T> ctx) override {
    cpu_stream(s).enqueue([=] { k::attention_forward(shape_of(d), qkv.data(), probs.data(), ctx.data()); });
  }
  void attention_backward(Stream& s, const AttentionDims& d, View<const T> qkv, View<const T> probs,
                          View<const T> dctx, View<T> dqkv) override {
    cpu_stream(s).enqueue([=] {
      std::vector<T> scratch(static_cast<std::size_t>(2 * d.seq * d.seq));
      k::attention_backward(shape_of(d), qkv.data(), probs.data(), dctx.data(), dqkv.data(), scratch.data());
    });
  }
  void embedding_forward(Stream& s, View<const std::int64_t> ids, View<const T> table, std::int64_t first,
                         std::int64_t width, View<T> out, bool accumulate) override {
    cpu_stream(s).enqueue([=] {
      k::embedding_forward(ids.data(), count_of(ids.size()), table.data(), first,
                           count_of(table.size()) / width, width, out.data(), accumulate);
    });
  }
  void embedding_backward(Stream& s, View<const std::int64_t> ids, View<const T> dout, std::int64_t first,
                          std::int64_t width, View<T> dtable) override {
    cpu_stream(s).enqueue([=] {
      k::embedding_backward(ids.data(), count_of(ids.size()), dout.data(), first,
                            count_of(dtable.size()) / width, width, dtable.data());
    });
  }
  void row_max(Stream& s, View<const T> logits, std::int64_t rows, std::int64_t cols, View<T> max) override {
    cpu_stream(s).enqueue([=] { k::row_max(logits.data(), rows, cols, max.data()); });
  }
  void cross_entropy_parts(Stream& s, View<const T> logits, std::int64_t rows, std::int64_t cols,
                           std::int64_t first, View<const std::int64_t> targets, View<const T> max,
                           View<T> sum, View<T> target_logit) override {
    cpu_stream(s).enqueue([=] {
      k::cross_entropy_parts(logits.data(), rows, cols, first, targets.data(), max.data(), sum.data(),
                             target_logit.data());
    });
  }
  void cross_entropy_backward(Stream& s, View<const T> logits, std::int64_t rows, std::int64_t cols,
                              std::int64_t first, View<const std::int64_t> targets, View<const T> max,
                              View<const T> sum, T scale, View<T> dlogits) override {
    cpu_stream(s).enqueue([=] {
      k::cross_entropy_rows_backward(logits.data(), rows, cols, first, targets.data(), max.data(), sum.data(),
                                     scale, dlogits.data());
    });
  }
  void cross_entropy_loss(Stream& s, View<const T> max, View<const T> sum, View<const T> target_logit,
                          std::int64_t rows, View<T> loss) override {
    cpu_stream(s).enqueue([=] {
      T total = 0;
      for (std::int64_t r = 0; r < rows; ++r)
        total += k::cross_entropy_row_loss(max.data()[r], sum.data()[r], target_logit.data()[r]);
      loss.data()[0] = total;
    });
  }

 private:
  static k::AttentionShape shape_of(const AttentionDims& d) {
    return {d.batch, d.seq, d.heads, d.head_dim, d.causal};
  }
};

}  // namespace

template <typename T>
std::unique_ptr<BlockCompute<T>> make_cpu_blocks() {
  return std::make_unique<CpuBlocks<T>>();
}

template std::unique_ptr<BlockCompute<float>> make_cpu_blocks<float>();
template std::unique_ptr<BlockCompute<double>> make_cpu_blocks<double>();

}  // namespace parm::backend::cpu
