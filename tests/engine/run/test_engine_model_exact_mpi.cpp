// A whole model's training step on MPI ranks (issue 18) equals the single-process reference model: the loss
// and, after the data-parallel gradient sync, every rank's slice of every dense gradient and every MoE
// block's router and expert gradients, in fp64 to 1e-9 (fp32 within 1e-4), for BERT and GPT styles, dense
// and MoE blocks, every schedule and a mix of them, several MP / ESP layouts and gradient bucket sizes. Run
// with 2, 4 and 8 ranks.
#include <QtTest>
#include <algorithm>
#include <cmath>

#include "engine/backend/backend.h"
#include "engine/comm/comm_mpi.h"
#include "engine/core/validation.h"
#include "engine/reference/reference_model.h"
#include "engine/run/model_executor.h"
#include "tests/engine/mpi_test_main.h"

using namespace parm;
using parm::test::world_rank;
using parm::test::world_size;

namespace {

constexpr std::chrono::milliseconds kTimeout{30'000};

// No drops (drop_tokens false: every schedule routes as the reference), 3 blocks with the MoE layer in the
// middle one (moe_every 2) or in all (1).
Config model_config(ModelStyle style, int mp, int esp, std::int64_t moe_every) {
  Config c;
  c.name = "model";
  c.layer.batch = 2;
  c.layer.seq_len = 8;
  c.layer.hidden = 16;
  c.layer.ffn_hidden = 32;
  c.layer.num_experts = 8;
  c.layer.top_k = 2;
  c.layer.drop_tokens = false;
  c.layer.min_capacity = 1;
  c.layer.dtype = DType::Fp64;
  c.parallel = {world_size(), 2, mp, esp};
  c.run.seed = 11;
  c.model = ModelConfig{style, 3, 4, 50, moe_every};
  return c;
}

std::vector<std::pair<int, int>> layouts() {
  if (world_size() == 8) return {{2, 2}, {4, 1}, {1, 1}};
  if (world_size() == 4) return {{2, 2}, {2, 1}, {4, 4}, {1, 1}};
  return {{2, 2}, {2, 1}, {1, 1}};
}

template <typename A, typename B>
double relative_error(const A& got, const B& want) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    diff = std::max(diff, std::fabs(double(got[i]) - double(want[i])));
    scale = std::max(scale, std::fabs(double(want[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

// MP rank j's slice of a global tensor.
template <typename T>
std::vector<T> slice_of(const ParameterSpec& spec, const std::vector<T>& global, std::int64_t j,
                        std::int64_t t) {
  const std::int64_t rows = spec.local_rows(t), cols = spec.local_cols(t);
  std::vector<T> out(static_cast<std::size_t>(rows * cols));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c)
      out[static_cast<std::size_t>(r * cols + c)] =
          global[static_cast<std::size_t>(spec.global_index(j, t, r, c))];
  return out;
}

// Expert tensor (E, rows, cols) restricted to the rank's experts and columns [c0, c0 + n).
template <typename T>
std::vector<T> expert_shard(const std::vector<T>& global, std::int64_t first, std::int64_t experts,
                            std::int64_t rows, std::int64_t cols, std::int64_t c0, std::int64_t n) {
  std::vector<T> out;
  for (std::int64_t e = 0; e < experts; ++e)
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t c = 0; c < n; ++c)
        out.push_back(global[static_cast<std::size_t>(((first + e) * rows + r) * cols + c0 + c)]);
  return out;
}

// The worst error of one step against the reference, with the tensor that has it.
struct Worst {
  double error = 0;
  std::string tensor;
  void note(double e, const std::string& name) {
    if (!(e <= error)) {  // NaN counts as worst
      error = e;
      tensor = name;
    }
  }
};

template <typename T>
Worst compare(const Config& c, const RankLayout& layout, const ModelExecutor<T>& exec,
              const ReferenceModelResult<double>& ref) {
  Worst w;
  w.note(std::fabs(exec.loss() - ref.loss) / std::fabs(ref.loss), "loss");
  const std::vector<std::vector<T>> grads = exec.dense_gradients();
  for (std::size_t i = 0; i < ref.specs.size(); ++i) {
    const ParameterSpec& spec = ref.specs[i];
    w.note(relative_error(grads[i], slice_of(spec, ref.dense_grads[i], layout.mp_index, layout.mp_size)),
           spec.name());
  }
  const std::int64_t m = c.layer.hidden, h = c.layer.ffn_hidden;
  for (std::size_t k = 0; k < exec.moe_layers(); ++k) {
    const LayerExecutor<T>& layer = exec.moe_layer(k);
    const LocalGradients<T>& g = layer.gradients();
    const LocalWeights<T>& lw = layer.weights();
    const LayerGradients<double>& r = ref.moe_grads[k];
    const std::string name = "moe" + std::to_string(k) + ".";
    const std::int64_t fe = lw.first_expert, el = lw.local_experts, h0 = lw.h0, hs = lw.shard;
    w.note(relative_error(g.dwg, r.dwg), name + "dWg");
    w.note(relative_error(g.dw1, expert_shard(r.dw1, fe, el, m, h, h0, hs)), name + "dW1");
    w.note(relative_error(g.db1, expert_shard(r.db1, fe, el, 1, h, h0, hs)), name + "db1");
    std::vector<double> w2;
    for (std::int64_t e = 0; e < el; ++e)
      for (std::int64_t row = h0; row < h0 + hs; ++row)
        for (std::int64_t col = 0; col < m; ++col)
          w2.push_back(r.dw2[static_cast<std::size_t>(((fe + e) * h + row) * m + col)]);
    w.note(relative_error(g.dw2, w2), name + "dW2");
    if (!g.db2.empty()) w.note(relative_error(g.db2, expert_shard(r.db2, fe, el, 1, m, 0, m)), name + "db2");
  }
  return w;
}

// The worst error over the world (every rank enters the reduction before anyone asserts).
double world_worst(const RankLayout& layout, double local) {
  auto groups = comm::make_mpi_groups(layout, kTimeout);
  double v = std::isnan(local) ? 1e300 : local;
  groups.world->all_reduce(&v, 1, comm::DataType::F64, comm::ReduceOp::Max);
  return v;
}

template <typename T>
void check_step(const Config& c, const std::vector<ScheduleKind>& schedules, double tolerance,
                std::int64_t bucket_bytes = kDefaultBucketBytes) {
  const ConfigIssues issues = validate(c);
  QVERIFY2(!issues.has_errors(), issues.errors().empty() ? "" : issues.errors().front().line().c_str());
  const ReferenceModelResult<double> ref = run_reference_model<double>(c);
  const RankLayout layout = make_rank_layout(c, world_rank());
  comm::CommGroups groups = comm::make_mpi_groups(layout, kTimeout);
  auto backend = backend::make_backend(c.run.backend);
  ModelExecutor<T> exec(*backend, c, layout, groups, schedules, bucket_bytes);
  exec.step();
  const Worst first = compare(c, layout, exec, ref);
  exec.step();  // a second step recomputes the same (gradients are zeroed, weights fixed)
  const Worst second = compare(c, layout, exec, ref);
  const double worst = world_worst(layout, std::max(first.error, second.error));
  const std::string where = to_string(schedules.front()).data() + std::string(" mp ") +
                            std::to_string(c.parallel.mp) + " esp " + std::to_string(c.parallel.esp) + ": " +
                            first.tensor + " " + std::to_string(first.error);
  QVERIFY2(worst < tolerance, where.c_str());
}

}  // namespace

class TestEngineModelExactMpi : public QObject {
  Q_OBJECT

 private slots:
  void gptEverySchedule() {
    for (auto [mp, esp] : layouts()) {
      const Config c = model_config(ModelStyle::Gpt, mp, esp, 2);
      for (ScheduleKind kind : all_schedules()) check_step<double>(c, {kind}, 1e-9);
    }
  }

  void bertEveryBlockMoeMixedSchedules() {
    for (auto [mp, esp] : layouts()) {
      const Config c = model_config(ModelStyle::Bert, mp, esp, 1);
      const std::vector<ScheduleKind> all = all_schedules();
      std::vector<ScheduleKind> mixed;
      for (std::size_t b = 0; b < 3; ++b) mixed.push_back(all[(b * 2 + 1) % all.size()]);
      check_step<double>(c, mixed, 1e-9);
    }
  }

  void smallBucketsAndSwiglu() {
    Config c = model_config(ModelStyle::Gpt, 2, 2, 2);
    c.layer.activation = Activation::Swiglu;
    check_step<double>(c, {all_schedules().back()}, 1e-9, 256);
  }

  void fp32WithinTolerance() {
    Config c = model_config(ModelStyle::Bert, 2, 1, 2);
    c.layer.dtype = DType::Fp32;
    check_step<float>(c, {all_schedules().front()}, 1e-4);
  }

  void bucketsFollowTheBackward() {
    const Config c = model_config(ModelStyle::Gpt, 2, 2, 2);
    const RankLayout layout = make_rank_layout(c, world_rank());
    comm::CommGroups groups = comm::make_mpi_groups(layout, kTimeout);
    auto backend = backend::make_backend(c.run.backend);
    ModelExecutor<double> exec(*backend, c, layout, groups, {all_schedules().front()}, 256);
    const auto& buckets = exec.buckets();
    QVERIFY(buckets.size() > 3);
    std::int64_t next = 0, stage = -1;
    for (const GradientBucket& b : buckets) {
      QCOMPARE(b.offset, next);  // contiguous, in the order the backward completes them
      QVERIFY(b.ready_after > stage);
      next += b.count;
      stage = b.ready_after;
    }
    QCOMPARE(stage, c.model->layers + 1);  // the last bucket holds the embedding
  }
};

PARM_MPI_QTEST_MAIN(TestEngineModelExactMpi)
#include "test_engine_model_exact_mpi.moc"
