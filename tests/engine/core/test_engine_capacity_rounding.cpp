// layer.capacity_rounding (issue 17 item 4): the exact rule of spec section 2 against DeepSpeed's float32
// `_capacity`, through the kernel rule, the config reader and writer, the size calculator and the reference.
#include <QtTest>
#include <cmath>

#include "engine/core/config_json.h"
#include "engine/core/sizes.h"
#include "engine/reference/reference_layer.h"
#include "kernels/capacity.h"

using namespace parm;

namespace {

// DeepSpeed's rule written out here in float, independently of kernels/capacity.h: torch.tensor(f * k) is
// float32, num_tokens / num_experts is cast to float32 as a wrapped scalar, the product is a float32 tensor.
std::int64_t deepspeed_in_float(std::int64_t s, std::int64_t e, double f, std::int64_t k,
                                std::int64_t min_c) {
  const float per_expert = static_cast<float>(s) / static_cast<float>(e);
  const float factor = static_cast<float>(f * static_cast<double>(k));
  const float product = per_expert * factor;
  return std::max<std::int64_t>(min_c, static_cast<std::int64_t>(std::ceil(product)));
}

Config config_with(const char* rounding) {
  const std::string text = std::string(R"({"layer": {"batch": 1, "seq_len": 50, "hidden": 8, "ffn_hidden": 16,
      "num_experts": 8, "top_k": 2, "capacity_factor": 1.2, "min_capacity": 0, "capacity_rounding": ")") +
                           rounding +
                           R"("}, "parallel": {"ranks": 2, "gpus_per_node": 2, "mp": 2, "esp": 2}})";
  const ConfigLoad load = config_from_json_text(text);
  if (!load.ok()) qFatal("config does not load: %s", load.issues.errors().front().line().c_str());
  return *load.config;
}

}  // namespace

class TestCapacityRounding : public QObject {
  Q_OBJECT
 private slots:
  void theIssuesCase() {
    QCOMPARE(kernels::expert_capacity(50, 8, 1.2, 2, 0, CapacityRounding::Exact), std::int64_t(15));
    QCOMPARE(kernels::expert_capacity(50, 8, 1.2, 2, 0, CapacityRounding::DeepSpeed), std::int64_t(16));
    QCOMPARE(kernels::expert_capacity(50, 8, 1.2, 2, 0), std::int64_t(15));  // exact is the default
    QCOMPARE(kernels::expert_capacity(4096, 8, 1.2, 2, 8, CapacityRounding::DeepSpeed), std::int64_t(1229));
    QCOMPARE(kernels::expert_capacity(50, 8, 1.2, 2, 20, CapacityRounding::DeepSpeed), std::int64_t(20));
  }

  // Over a grid of (S, E, f, k) the two roundings differ in a small fraction, and the float32 emulation is
  // DeepSpeed's rule as written in float above, everywhere.
  void gridDiffersInASmallFraction() {
    std::int64_t total = 0, differ = 0, emulation_mismatch = 0;
    std::vector<std::int64_t> tokens;
    for (std::int64_t s = 1; s <= 512; ++s) tokens.push_back(s);
    for (std::int64_t s : {1000, 1024, 2048, 4096, 8192, 65536}) tokens.push_back(s);
    for (std::int64_t s : tokens)
      for (std::int64_t e : {1, 2, 4, 8, 16, 32, 64, 128})
        for (double f : {1.0, 1.1, 1.2, 1.25, 1.5, 2.0})
          for (std::int64_t k : {1, 2, 4}) {
            ++total;
            const auto exact = kernels::expert_capacity(s, e, f, k, 0, CapacityRounding::Exact);
            const auto deepspeed = kernels::expert_capacity(s, e, f, k, 0, CapacityRounding::DeepSpeed);
            if (exact != deepspeed) ++differ;
            if (deepspeed != deepspeed_in_float(s, e, f, k, 0)) ++emulation_mismatch;
          }
    const double fraction = static_cast<double>(differ) / static_cast<double>(total);
    qInfo("exact and deepspeed differ in %lld of %lld combinations (%.2f%%)", (long long)differ,
          (long long)total, 100 * fraction);
    QCOMPARE(emulation_mismatch, std::int64_t(0));
    QVERIFY(differ > 0);
    QVERIFY2(fraction < 0.02, qPrintable(QString::number(fraction)));
  }

  void configRoundTrip() {
    const Config ds = config_with("deepspeed");
    QCOMPARE(ds.layer.capacity_rounding, CapacityRounding::DeepSpeed);
    const nlohmann::json j = config_to_json(ds);
    QCOMPARE(QString::fromStdString(j["layer"]["capacity_rounding"].get<std::string>()),
             QString("deepspeed"));
    const ConfigLoad back = config_from_json_text(j.dump());
    QVERIFY(back.ok());
    QCOMPARE(back.config->layer.capacity_rounding, CapacityRounding::DeepSpeed);
    QCOMPARE(config_to_json(*back.config), j);
    // Absent: exact.
    const ConfigLoad plain = config_from_json_text(R"({"name": "x"})");
    QVERIFY(plain.ok());
    QCOMPARE(plain.config->layer.capacity_rounding, CapacityRounding::Exact);
  }

  void badValueNamesTheFieldAndTheChoices() {
    for (const char* value : {R"("float32")", "1", R"("DeepSpeed")"}) {
      const ConfigLoad load =
          config_from_json_text(std::string(R"({"layer": {"capacity_rounding": )") + value + "}}");
      QVERIFY(!load.ok());
      QCOMPARE(load.issues.errors().size(), std::size_t(1));
      const QString line = QString::fromStdString(load.issues.errors()[0].line());
      QVERIFY2(line.contains("layer.capacity_rounding") && line.contains("exact, deepspeed"),
               qPrintable(line));
    }
  }

  // The size calculator (C0, C1 of S1's S/N tokens, C2) and the reference layer take the rounding.
  void sizesAndReferenceFollowTheRounding() {
    const DerivedSizes exact = derive_sizes(config_with("exact"));
    const DerivedSizes ds = derive_sizes(config_with("deepspeed"));
    QCOMPARE(exact.C0, std::int64_t(15));
    QCOMPARE(ds.C0, std::int64_t(16));
    QCOMPARE(exact.C2, std::int64_t(16));  // 15 rounded up to a multiple of mp = 2
    QCOMPARE(ds.C2, std::int64_t(16));
    QCOMPARE(ds.C1, kernels::expert_capacity(25, 8, 1.2, 2, 0, CapacityRounding::DeepSpeed));
    QCOMPARE(reference_capacity(config_with("exact").layer, {}), std::int64_t(15));
    QCOMPARE(reference_capacity(config_with("deepspeed").layer, {}), std::int64_t(16));
  }
};

QTEST_APPLESS_MAIN(TestCapacityRounding)
#include "test_engine_capacity_rounding.moc"
