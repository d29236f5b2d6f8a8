// The `model` section (issue 18, item 1): read, written back, each rule refused in one line naming its field,
// the parameter counts against the published sizes of GPT-2 small and BERT-Base, one rank's share, and the
// real-shape presets fitting the memory of the device they state.
#include <QtTest>
#include <algorithm>

#include "engine/core/config_json.h"
#include "engine/core/model_parameters.h"
#include "engine/core/model_sizes.h"
#include "engine/core/rank_memory.h"
#include "engine/core/sizes.h"
#include "engine/core/validation.h"
#include "resources/presets.h"
#include "tests/support/worked_cases.h"

using namespace parm;

namespace {

using worked_cases::preset;

ModelSizes sizes_of(const Config& c) {
  const std::optional<ModelSizes> m = derive_model_sizes(c, derive_sizes(c));
  if (!m) qFatal("model sizes overflow");
  return *m;
}

// A one-rank layout: everything on one rank, nothing split.
Config on_one_rank(Config c) {
  c.parallel = {1, 1, 1, 1};
  c.run.backend = Backend::Cpu;
  return c;
}

// The first error line of `text`, or "" when it loads.
QString first_error(const std::string& text) {
  const ConfigLoad load = config_from_json_text(text);
  if (load.ok()) return {};
  return QString::fromStdString(load.issues.errors().front().line());
}

std::string with_model(const std::string& model, const std::string& parallel = R"({"ranks": 4, "mp": 2})") {
  return R"({"layer": {"batch": 2, "seq_len": 32, "hidden": 64, "ffn_hidden": 256, "num_experts": 4},
             "parallel": )" +
         parallel + R"(, "model": )" + model + "}";
}

}  // namespace

class TestModelConfig : public QObject {
  Q_OBJECT
 private slots:
  void readAndWrittenBack() {
    const ConfigLoad load =
        config_from_json_text(with_model(R"({"style": "bert", "layers": 6, "heads": 8, "vocab": 999,
                                             "moe_every": 3})"));
    QVERIFY2(load.ok(), load.issues.items.empty() ? "" : load.issues.items.front().line().c_str());
    const ModelConfig& m = *load.config->model;
    QCOMPARE(m.style, ModelStyle::Bert);
    QCOMPARE(m.layers, std::int64_t(6));
    QCOMPARE(m.moe_blocks(), std::int64_t(2));
    QVERIFY(!m.moe_block(0) && !m.moe_block(1) && m.moe_block(2) && m.moe_block(5));
    const ConfigLoad back = config_from_json_text(config_to_json(*load.config).dump());
    QVERIFY(back.ok());
    QCOMPARE(config_to_json(*back.config), config_to_json(*load.config));
    // Without the section a configuration stays a lone layer, and writes none.
    const Config layer = preset("default");
    QVERIFY(!layer.model);
    QVERIFY(!config_to_json(layer).contains("model"));
  }

  void eachRuleIsOneLineNamingItsField_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("expected");
    QTest::newRow("style") << R"({"style": "t5"})"
                           << "model.style = \"t5\": must be one of bert, gpt";
    QTest::newRow("unknown") << R"({"blocks": 3})"
                             << "model.blocks = 3: unknown field";
    QTest::newRow("layers") << R"({"layers": 0})"
                            << "model.layers = 0: must be between 1 and 65536";
    QTest::newRow("heads divide M") << R"({"heads": 6})"
                                    << "model.heads = 6: must divide layer.hidden (M = 64)";
    QTest::newRow("heads over MP") << R"({"heads": 1})"
                                   << "model.heads = 1: must be a multiple of parallel.mp (2)";
    QTest::newRow("vocab") << R"({"heads": 4, "vocab": 1})"
                           << "model.vocab = 1: must be between 2 and 2147483647";
    QTest::newRow("moe_every 0") << R"({"layers": 4, "heads": 4, "moe_every": 0})"
                                 << "model.moe_every = 0: must be between 1 and model.layers (4)";
    QTest::newRow("moe_every > layers") << R"({"layers": 4, "heads": 4, "moe_every": 5})"
                                        << "model.moe_every = 5: must be between 1 and model.layers (4)";
  }
  void eachRuleIsOneLineNamingItsField() {
    QFETCH(QString, model);
    QFETCH(QString, expected);
    const QString line = first_error(with_model(model.toStdString()));
    QVERIFY2(line.contains(expected), qPrintable(line));
    QVERIFY(!line.contains('\n'));
  }

  // Dense blocks split their FFN over the MP group; a model whose every block is MoE does not need it.
  void denseBlocksNeedAnFfnSplitOverMp() {
    const std::string layer = R"({"layer": {"batch": 2, "seq_len": 32, "hidden": 64, "ffn_hidden": 255,
                                  "num_experts": 4}, "parallel": {"ranks": 4, "mp": 2, "esp": 1}, "model": )";
    const QString line = first_error(layer + R"({"layers": 4, "heads": 4, "moe_every": 2}})");
    QVERIFY2(line.contains("layer.ffn_hidden = 255: must be a multiple of parallel.mp (2)"),
             qPrintable(line));
    QCOMPARE(first_error(layer + R"({"layers": 4, "heads": 4, "moe_every": 1}})"), QString());
  }

  // GPT-2 small is 124,439,808 parameters with its 50257 tokens (tied output); Megatron pads the vocabulary
  // to 50304 (a multiple of 128), 47 more embedding rows of M.
  void gpt2SmallHasItsPublishedSize() {
    Config c = on_one_rank(preset("gpt2-moe"));
    const ModelSizes m = sizes_of(c);
    QCOMPARE(m.padded_vocab, std::int64_t(50304));
    QCOMPARE(m.parameters.dense_equivalent - 47 * 768, std::int64_t(124439808));
    QCOMPARE(m.moe_blocks, std::int64_t(6));
    QCOMPARE(m.dense_blocks, std::int64_t(6));
    // Each MoE block trades one FFN for 16 experts and a router.
    QCOMPARE(m.parameters.total - m.parameters.dense_equivalent,
             6 * (15 * m.parameters.dense_ffn + 768 * 16));
    QCOMPARE(m.parameters.expert, 6 * 16 * m.parameters.dense_ffn);
  }

  // BERT-Base with its MLM head (HuggingFace BertForMaskedLM, no pooler): 109,514,298 with 30522 tokens;
  // padded to 30592, 70 more embedding rows and decoder biases.
  void bertBaseHasItsPublishedSize() {
    const ModelSizes m = sizes_of(on_one_rank(preset("bert-base-moe")));
    QCOMPARE(m.padded_vocab, std::int64_t(30592));
    QCOMPARE(m.parameters.dense_equivalent - 70 * (768 + 1), std::int64_t(109514298));
    QCOMPARE(m.moe_blocks, std::int64_t(12));
  }

  // On one rank the rank holds the whole model; with N_MP = 4 the padding multiple is 512.
  void oneRankHoldsEverything() {
    for (const char* name : {"gpt2-moe", "bert-base-moe", "gpt2-moe-small", "bert-moe-small"}) {
      const ModelSizes m = sizes_of(on_one_rank(preset(name)));
      QVERIFY2(m.rank.parameters == m.parameters.total, name);
    }
    QCOMPARE(sizes_of(preset("gpt2-moe")).padded_vocab, std::int64_t(50688));
  }

  // Tensor parallelism and expert parallelism shrink one rank's share: gpt2-moe's 16 ranks (N_MP 4) hold
  // well under a quarter of the model each, and more than the replicated LayerNorms.
  void ranksHoldTheirShare() {
    const Config c = preset("gpt2-moe");
    const ModelSizes m = sizes_of(c);
    QVERIFY(m.rank.parameters * 4 < m.parameters.total);
    QVERIFY(m.rank.parameters > 12 * m.parameters.norms);
    QCOMPARE(m.rank.gradients, m.rank.weights);
    QCOMPARE(m.rank.weights, m.rank.parameters * 2);     // fp16
    QCOMPARE(m.rank.optimizer, m.rank.parameters * 12);  // fp32 master, momentum, variance
  }

  // The real-shape presets fit the 80 GB device they are stated for; a batch that cannot is refused naming
  // it.
  void realShapesFitTheirDevice() {
    for (const char* name : {"gpt2-moe", "bert-base-moe"}) {
      const Config c = preset(name);
      const ModelSizes m = sizes_of(c);
      QVERIFY2(m.rank.total < kAssumedDeviceMemoryBytes, name);
      QVERIFY2(m.rank.activations > 0 && m.rank.logits > 0, name);
      QVERIFY2(!validate(c, MachineLimits{}).has_errors(), name);
    }
    Config big = preset("gpt2-moe");
    big.layer.batch = 512;
    const ConfigIssues issues = validate(big, MachineLimits{});
    QVERIFY(issues.has_errors());
    const QString line = QString::fromStdString(issues.errors().front().line());
    QVERIFY2(line.contains("layer.batch = 512") && line.contains("one rank of the model needs"),
             qPrintable(line));
  }

  // The tensors the engine and the reference model hold (model_parameters.h) are the ones model_sizes.h
  // counts: globally, and one rank's slices under tensor parallelism (the MoE blocks' part from the layer).
  void parameterCatalogueMatchesTheSizes_data() {
    QTest::addColumn<QString>("name");
    for (const char* name : {"gpt2-moe", "bert-base-moe", "gpt2-moe-small", "bert-moe-small"})
      QTest::newRow(name) << QString(name);
  }
  void parameterCatalogueMatchesTheSizes() {
    QFETCH(QString, name);
    const Config c = preset(name.toStdString().c_str());
    const ModelSizes m = sizes_of(c);
    const std::vector<ParameterSpec> specs = model_parameter_specs(c);
    std::int64_t global = 0, local = 0;
    for (const ParameterSpec& s : specs) {
      global += s.elements();
      local += s.local_elements(c.parallel.mp);
    }
    QCOMPARE(global + m.moe_blocks * m.parameters.moe_ffn, m.parameters.total);
    const RankMemory layer = *estimate_rank_memory(c, derive_sizes(c));
    QCOMPARE(local + m.moe_blocks * layer.weights / bytes_per_element(c.layer.dtype), m.rank.parameters);
    QCOMPARE(padded_vocabulary(c), m.padded_vocab);
  }

  // Each MP rank's slices tile the global tensor exactly once (QKV: whole heads of each third).
  void slicesTileTheGlobalTensor() {
    const Config c = preset("gpt2-moe-small");
    const std::int64_t t = 4;
    for (const ParameterSpec& s : model_parameter_specs(c)) {
      if (s.split == TensorSplit::Replicated) continue;
      std::vector<int> hits(static_cast<std::size_t>(s.elements()), 0);
      for (std::int64_t j = 0; j < t; ++j)
        for (std::int64_t r = 0; r < s.local_rows(t); ++r)
          for (std::int64_t col = 0; col < s.local_cols(t); ++col)
            ++hits[static_cast<std::size_t>(s.global_index(j, t, r, col))];
      QVERIFY2(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }), s.name().c_str());
    }
    const ParameterSpec& qkv = model_parameter_specs(c)[static_cast<std::size_t>(
        find_parameter(model_parameter_specs(c), ModelTensor::QkvWeight, 0))];
    const std::int64_t m = c.layer.hidden;
    // Rank 1's first K column is the global K third's column m / t.
    QCOMPARE(qkv.global_index(1, t, 0, m / t), m + m / t);
  }
};

QTEST_APPLESS_MAIN(TestModelConfig)
#include "test_engine_model_config.moc"
