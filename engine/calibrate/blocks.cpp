#include "engine/calibrate/blocks.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>

namespace parm::calibrate {
namespace {

template <typename T>
class BlockTimer {
 public:
  BlockTimer(const Config& config, backend::Backend& backend, const Harness& harness,
             std::vector<Measurement>& fits, std::ostream& table)
      : config_(config),
        backend_(backend),
        harness_(harness),
        fits_(fits),
        table_(table),
        ops_(backend.blocks<T>()),
        stream_(backend.stream(Lane::Compute)) {}

  // One rank's heads over batches of B sequences of L tokens.
  void attention() {
    const LayerConfig& l = config_.layer;
    const ModelConfig& m = *config_.model;
    const std::int64_t heads = m.heads / std::max<std::int64_t>(1, config_.parallel.mp),
                       d = l.hidden / m.heads;
    const std::int64_t L = l.seq_len, per_sequence = heads * L * L * d;
    std::vector<std::int64_t> batches;
    for (std::int64_t b = 1;
         b <= std::max<std::int64_t>(1, l.batch * 2) && batches.size() < (quick() ? 3u : 5u); b *= 2)
      batches.push_back(b);
    const std::int64_t b_hi = batches.back();
    backend::AttentionDims dims{b_hi, L, heads, d, m.style == ModelStyle::Gpt};
    const backend::Buffer<T> qkv = buffer(dims.tokens() * 3 * dims.width()), probs = buffer(dims.probs()),
                             ctx = buffer(dims.tokens() * dims.width()),
                             dqkv = buffer(dims.tokens() * 3 * dims.width());
    Measurement fwd = measurement("attention", "local", 1), bwd = measurement("attention_bwd", "local", 1);
    fwd.shape = bwd.shape = "heads " + std::to_string(heads) + ", L " + std::to_string(L) + ", d " +
                            std::to_string(d) + (dims.causal ? ", causal" : "");
    header("attention (local, each rank): one rank's heads over B sequences; n = B*heads*L*L*d multiply-adds",
           "B");
    for (std::int64_t b : batches) {
      dims.batch = b;
      const double f =
          time([&] { ops_.attention_forward(stream_, dims, qkv.view(), probs.view(), ctx.view()); });
      const double g = time(
          [&] { ops_.attention_backward(stream_, dims, qkv.view(), probs.view(), ctx.view(), dqkv.view()); });
      row(b, double(b * per_sequence), f, g, fwd, bwd);
    }
    finish(fwd);
    finish(bwd);
  }

  // LayerNorm and GELU over rows of M, rows swept up to the model's tokens per MP group.
  void rows() {
    const std::int64_t M = config_.layer.hidden, tokens = config_.layer.tokens();
    std::vector<std::int64_t> counts;
    for (std::int64_t r = std::max<std::int64_t>(1, tokens / 16); r <= tokens; r *= 4) counts.push_back(r);
    if (counts.back() != tokens) counts.push_back(tokens);
    const std::int64_t hi = counts.back() * M;
    const backend::Buffer<T> x = buffer(hi), y = buffer(hi), dx = buffer(hi),
                             stats = buffer(2 * counts.back()), gamma = buffer(M), beta = buffer(M),
                             dgamma = buffer(M), dbeta = buffer(M);
    Measurement ln = measurement("layernorm", "local", 1), ln_bwd = measurement("layernorm_bwd", "local", 1);
    Measurement el = measurement("elementwise", "local", 1),
                el_bwd = measurement("elementwise_bwd", "local", 1);
    ln.shape = ln_bwd.shape = el.shape = el_bwd.shape = "M " + std::to_string(M);
    header("layernorm, elementwise (GELU) (local, each rank): rows of M; n = rows*M elements", "rows");
    for (std::int64_t r : counts) {
      const std::int64_t n = r * M;
      const auto view = [&](const backend::Buffer<T>& b, std::int64_t count) {
        return b.view().slice(0, count);
      };
      const double f = time([&] {
        ops_.layer_norm_forward(stream_, view(x, n), r, M, gamma.view(), beta.view(), view(y, n),
                                view(stats, r), stats.view().slice(r, r));
      });
      const double g = time([&] {
        ops_.layer_norm_backward(stream_, view(x, n), view(y, n), r, M, gamma.view(), view(stats, r),
                                 stats.view().slice(r, r), view(dx, n), dgamma.view(), dbeta.view());
      });
      const double e = time([&] { ops_.gelu_forward(stream_, view(x, n), view(y, n)); });
      const double eb = time([&] { ops_.gelu_backward(stream_, view(x, n), view(y, n), view(dx, n)); });
      row(r, double(n), f, g, ln, ln_bwd);
      el.samples.push_back({double(n), e});
      el_bwd.samples.push_back({double(n), eb});
    }
    for (Measurement* m : {&ln, &ln_bwd, &el, &el_bwd}) finish(*m);
  }

 private:
  bool quick() const { return harness_.sweep().quick; }
  double time(const std::function<void()>& enqueue) const {
    return harness_.time_enqueued(backend_, stream_, enqueue, std::max(3, harness_.sweep().iters),
                                  std::max(1, harness_.sweep().warmup));
  }
  backend::Buffer<T> buffer(std::int64_t count) {
    backend::Buffer<T> b(backend_.allocator(), std::size_t(count));
    std::vector<T> host(b.size(), T(0.5));
    backend_.allocator().copy_from_host(b.data(), host.data(), host.size() * sizeof(T));
    return b;
  }
  void header(const char* what, const char* unit) {
    std::snprintf(line_, sizeof line_, "#\n# %s\n# %10s %14s %12s %12s\n", what, unit, "n", "fwd (us)",
                  "bwd (us)");
    table_ << line_;
  }
  void row(std::int64_t x, double n, double f, double g, Measurement& fwd, Measurement& bwd) {
    fwd.samples.push_back({n, f});
    bwd.samples.push_back({n, g});
    std::snprintf(line_, sizeof line_, "  %10lld %14.0f %12.2f %12.2f\n", (long long)x, n, f * 1e3, g * 1e3);
    table_ << line_;
    harness_.progress(fwd.op + " " + std::to_string(x));
  }
  void finish(Measurement& m) {
    m.fit = fit_measured(m.samples);
    write_named_fit_line(table_, m);
    fits_.push_back(m);
  }

  const Config& config_;
  backend::Backend& backend_;
  const Harness& harness_;
  std::vector<Measurement>& fits_;
  std::ostream& table_;
  backend::BlockCompute<T>& ops_;
  backend::Stream& stream_;
  char line_[512] = {};
};

}  // namespace

void time_blocks(const Config& config, backend::Backend& backend, const Harness& harness,
                 std::vector<Measurement>& fits, std::ostream& table) {
  if (!config.model) return;
  const auto run = [&]<typename T>(T*) {
    BlockTimer<T> timer(config, backend, harness, fits, table);
    timer.attention();
    timer.rows();
  };
  try {
    if (config.layer.dtype == DType::Fp64)
      run(static_cast<double*>(nullptr));
    else
      run(static_cast<float*>(nullptr));
  } catch (const std::runtime_error& e) {  // a backend without the blocks says so in one line
    table << "#\n# model blocks: not measured: " << e.what() << "\n";
  }
}

}  // namespace parm::calibrate
