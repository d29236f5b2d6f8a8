// Bad configurations, one per row: each must be refused with an error line that names the offending field.
#include <QtTest>

#include "engine/core/config_json.h"
#include "engine/core/sizes.h"
#include "engine/core/validation.h"

using namespace parm;

namespace {

// A valid base the rows patch; kept as text so rows can break JSON itself.
const char* kBase = R"({
  "name": "t",
  "layer": {"batch": 2, "seq_len": 16, "hidden": 8, "ffn_hidden": 16, "num_experts": 4, "top_k": 2,
            "capacity_factor": 1.0, "min_capacity": 2, "drop_tokens": true, "activation": "gelu",
            "bias": true, "dtype": "fp32"},
  "parallel": {"ranks": 4, "gpus_per_node": 2, "mp": 2, "esp": 2},
  "run": {"schedules": ["B_DS", "S1", "S2"], "warmup": 1, "iterations": 2, "seed": 7, "backend": "cpu"}
})";

std::string patched(const QString& from, const QString& to) {
  QString base = QString::fromUtf8(kBase);
  if (!from.isEmpty()) {
    if (!base.contains(from)) qFatal("test row patches text that is not in the base: %s", qPrintable(from));
    base.replace(from, to);
  }
  return base.toStdString();
}

QString joined_errors(const ConfigLoad& load) {
  QStringList lines;
  for (const auto& e : load.issues.errors()) lines << QString::fromStdString(e.line());
  return lines.join('\n');
}

}  // namespace

class TestValidation : public QObject {
  Q_OBJECT
 private slots:
  void baseIsValid() {
    const ConfigLoad load = config_from_json_text(patched({}, {}));
    QVERIFY2(load.ok(), qPrintable(joined_errors(load)));
    QVERIFY(load.issues.warnings().empty());
  }

  void badConfigNamesField_data() {
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("field");  // must appear in an error line, as "error: <field>"
    QTest::addColumn<QString>("rule");   // a fragment of the rule text

    QTest::newRow("malformed JSON") << R"("seed": 7,)"
                                    << R"("seed": 7,,)"
                                    << "config"
                                    << "line 7, column 86: malformed JSON: syntax error";
    QTest::newRow("truncated file") << R"("backend": "cpu"}
})"
                                    << R"("backend": "cpu")"
                                    << "config"
                                    << "malformed JSON";
    QTest::newRow("top level array") << "{\n  \"name\": \"t\","
                                     << "[{\n  \"name\": \"t\","
                                     << "config"
                                     << "malformed";
    QTest::newRow("batch as string") << R"("batch": 2)"
                                     << R"("batch": "2")"
                                     << "layer.batch"
                                     << "expected an integer";
    QTest::newRow("hidden fractional") << R"("hidden": 8)"
                                       << R"("hidden": 8.5)"
                                       << "layer.hidden"
                                       << "integer";
    QTest::newRow("bias as number") << R"("bias": true)"
                                    << R"("bias": 1)"
                                    << "layer.bias"
                                    << "true or false";
    QTest::newRow("layer not object") << R"("layer": {)"
                                      << R"("layer": 3, "x": {)"
                                      << "layer"
                                      << "expected an object";
    QTest::newRow("zero batch") << R"("batch": 2)"
                                << R"("batch": 0)"
                                << "layer.batch"
                                << "positive";
    QTest::newRow("negative hidden") << R"("hidden": 8)"
                                     << R"("hidden": -8)"
                                     << "layer.hidden"
                                     << "positive";
    QTest::newRow("zero experts") << R"("num_experts": 4)"
                                  << R"("num_experts": 0)"
                                  << "layer.num_experts"
                                  << "positive";
    QTest::newRow("k above E") << R"("top_k": 2)"
                               << R"("top_k": 5)"
                               << "layer.top_k"
                               << "k <= E";
    QTest::newRow("capacity factor zero") << R"("capacity_factor": 1.0)"
                                          << R"("capacity_factor": 0)"
                                          << "layer.capacity_factor"
                                          << "f > 0";
    QTest::newRow("negative min capacity") << R"("min_capacity": 2)"
                                           << R"("min_capacity": -1)"
                                           << "layer.min_capacity"
                                           << ">= 0";
    QTest::newRow("unknown activation") << R"("activation": "gelu")"
                                        << R"("activation": "relu")"
                                        << "layer.activation"
                                        << "gelu, swiglu";
    QTest::newRow("unknown dtype") << R"("dtype": "fp32")"
                                   << R"("dtype": "int8")"
                                   << "layer.dtype"
                                   << "fp32, fp64";
    QTest::newRow("bf16 on cpu") << R"("dtype": "fp32")"
                                 << R"("dtype": "bf16")"
                                 << "layer.dtype"
                                 << "the cpu backend computes in fp32 or fp64; bf16 runs on backend cuda";
    QTest::newRow("typo in field") << R"("hidden": 8)"
                                   << R"("hiden": 8)"
                                   << "layer.hiden"
                                   << "unknown field";
    QTest::newRow("P not divisible by MP") << R"("mp": 2, "esp": 2)"
                                           << R"("mp": 3, "esp": 3)"
                                           << "parallel.mp"
                                           << "P % N_MP == 0";
    QTest::newRow("ESP neither 1 nor MP") << R"("ranks": 4, "gpus_per_node": 2, "mp": 2, "esp": 2)"
                                          << R"("ranks": 8, "gpus_per_node": 4, "mp": 4, "esp": 2)"
                                          << "parallel.esp"
                                          << "N_ESP in {1, N_MP}";
    QTest::newRow("E not divisible by EP") << R"("num_experts": 4)"
                                           << R"("num_experts": 3)"
                                           << "layer.num_experts"
                                           << "E % N_EP == 0";
    QTest::newRow("H not divisible by ESP") << R"("ffn_hidden": 16)"
                                            << R"("ffn_hidden": 15)"
                                            << "layer.ffn_hidden"
                                            << "H % N_ESP == 0";
    QTest::newRow("S not divisible by MP for S1") << R"("batch": 2, "seq_len": 16)"
                                                  << R"("batch": 1, "seq_len": 15)"
                                                  << "layer.seq_len"
                                                  << "S % N_MP == 0";
    QTest::newRow("ranks not whole nodes") << R"("gpus_per_node": 2)"
                                           << R"("gpus_per_node": 3)"
                                           << "parallel.gpus_per_node"
                                           << "P % G == 0";
    QTest::newRow("zero ranks") << R"("ranks": 4)"
                                << R"("ranks": 0)"
                                << "parallel.ranks"
                                << "positive";
    QTest::newRow("ep disagrees") << R"("esp": 2})"
                                  << R"("esp": 2, "ep": 4})"
                                  << "parallel.ep"
                                  << "derived";
    QTest::newRow("unknown schedule") << R"(["B_DS", "S1", "S2"])"
                                      << R"(["B_DS", "S3"])"
                                      << "run.schedules"
                                      << "unknown schedule";
    QTest::newRow("duplicate schedule") << R"(["B_DS", "S1", "S2"])"
                                        << R"(["S1", "S1"])"
                                        << "run.schedules"
                                        << "once";
    QTest::newRow("no schedules") << R"(["B_DS", "S1", "S2"])"
                                  << "[]"
                                  << "run.schedules"
                                  << "at least one";
    QTest::newRow("zero iterations") << R"("iterations": 2)"
                                     << R"("iterations": 0)"
                                     << "run.iterations"
                                     << ">= 1";
    QTest::newRow("negative seed") << R"("seed": 7)"
                                   << R"("seed": -7)"
                                   << "run.seed"
                                   << "non-negative integer";
    QTest::newRow("unknown backend") << R"("backend": "cpu")"
                                     << R"("backend": "tpu")"
                                     << "run.backend"
                                     << "cpu, cuda, cuda+mpi";
    QTest::newRow("huge integer") << R"("batch": 2)"
                                  << R"("batch": 18446744073709551615)"
                                  << "layer.batch"
                                  << "too large";
  }

  // Sizes that leave 64 bits, alone or only as a product: refused before anything allocates.
  void overflowingSizesNameTheField_data() {
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("rule");
    QTest::newRow("S = B*L wraps") << R"("batch": 2, "seq_len": 16)"
                                   << R"("batch": 144115188075855872, "seq_len": 64)"
                                   << "layer.batch"
                                   << "64-bit range";
    QTest::newRow("B*L only together") << R"("batch": 2, "seq_len": 16)"
                                       << R"("batch": 4294967296, "seq_len": 8589934592)"
                                       << "layer.seq_len"
                                       << "batch*seq_len";
    QTest::newRow("min capacity 2^53") << R"("min_capacity": 2)"
                                       << R"("min_capacity": 9007199254740992)"
                                       << "layer.min_capacity"
                                       << "64-bit";
    QTest::newRow("capacity factor 1e300") << R"("capacity_factor": 1.0)"
                                           << R"("capacity_factor": 1e300)"
                                           << "layer.capacity_factor"
                                           << "capacity C";
    QTest::newRow("hidden 2^62") << R"("hidden": 8)"
                                 << R"("hidden": 4611686018427387904)"
                                 << "layer.hidden"
                                 << "64-bit range";
    QTest::newRow("experts above int32") << R"("num_experts": 4)"
                                         << R"("num_experts": 4294967296)"
                                         << "layer.num_experts"
                                         << "2147483647";
    QTest::newRow("warmup + iterations") << R"("warmup": 1)"
                                         << R"("warmup": 9223372036854775807)"
                                         << "run.iterations"
                                         << "warmup + iterations";
    QTest::newRow("batch 1e12 above memory") << R"("batch": 2)"
                                             << R"("batch": 1000000000000)"
                                             << "layer.batch"
                                             << "one rank's buffers need";
  }

  void overflowingSizesNameTheField() { badConfigNamesField(); }

  // The memory rule against limits the test states (validate() is pure given MachineLimits).
  void perRankMemoryAgainstStatedLimits() {
    Config c = *config_from_json_text(patched({}, {})).config;
    c.layer.batch = 4096;  // the dispatched tensors dominate: batch is the field to name
    const std::int64_t need = estimate_rank_memory(c, derive_sizes(c))->total;
    const auto refusal = [&](const MachineLimits& m) {
      for (const auto& e : validate(c, m).errors()) return QString::fromStdString(e.line());
      return QString();
    };
    const std::int64_t device = kAssumedDeviceMemoryBytes;
    QVERIFY2(refusal({4 * need, 0, device}).isEmpty(), qPrintable(refusal({4 * need, 0, device})));
    QString line = refusal({4 * need - 4, 0, device});  // the 4 ranks of a local run share the host
    QVERIFY2(line.startsWith("error: layer.batch = 4096: one rank's buffers need") &&
                 line.contains("each of the 4 ranks on this host"),
             qPrintable(line));
    QVERIFY(refusal({4 * need - 4, 2, device}).isEmpty());  // a hostfile: G = 2 ranks per host
    // The buffers fit the host but not its share among many ranks: the rank count is to blame.
    line = refusal({16 * need, 32, device});
    QVERIFY2(line.startsWith("error: parallel.ranks = 4:") && line.contains("each of the 32 ranks") &&
                 line.contains("fewer ranks"),
             qPrintable(line));
    // cuda: the stated device memory, whatever the host has.
    c.run.backend = Backend::Cuda;
    line = refusal({0, 0, need - 1});
    QVERIFY2(line.contains("of device memory assumed per rank for backend cuda"), qPrintable(line));
    QVERIFY(refusal({0, 0, need}).isEmpty());
    // Unknown host memory: no host check.
    c.run.backend = Backend::Cpu;
    QVERIFY(refusal({0, 0, 0}).isEmpty());
  }

  void badConfigNamesField() {
    QFETCH(QString, from);
    QFETCH(QString, to);
    QFETCH(QString, field);
    QFETCH(QString, rule);
    const ConfigLoad load = config_from_json_text(patched(from, to));
    QVERIFY2(!load.ok(), "a bad configuration was accepted");
    const QString errors = joined_errors(load);
    bool found = false;
    for (const auto& e : load.issues.errors()) {
      const QString line = QString::fromStdString(e.line());
      QVERIFY2(!line.contains('\n'), qPrintable("error spans several lines: " + line));
      if (line.startsWith("error: " + field + " ") || line.startsWith("error: " + field + ":"))
        found = found || line.contains(rule);
    }
    QVERIFY2(found, qPrintable("no error line names " + field + " with '" + rule + "'; got:\n" + errors));
  }

  // Every violated rule is reported in one pass, not just the first.
  void reportsAllErrorsAtOnce() {
    std::string text = patched(R"("batch": 2)", R"("batch": 0)");
    text.replace(text.find(R"("top_k": 2)"), 10, R"("top_k": 9)");
    text.replace(text.find(R"("iterations": 2)"), 15, R"("iterations": 0)");
    const ConfigLoad load = config_from_json_text(text);
    const QString errors = joined_errors(load);
    QVERIFY2(errors.contains("layer.batch"), qPrintable(errors));
    QVERIFY2(errors.contains("layer.top_k"), qPrintable(errors));
    QVERIFY2(errors.contains("run.iterations"), qPrintable(errors));
  }

  void mpGroupCrossingNodesIsAWarning() {
    const ConfigLoad load =
        config_from_json_text(patched(R"("ranks": 4, "gpus_per_node": 2, "mp": 2, "esp": 2)",
                                      R"("ranks": 8, "gpus_per_node": 2, "mp": 4, "esp": 4)"));
    QVERIFY2(load.ok(), qPrintable(joined_errors(load)));
    QCOMPARE(load.issues.warnings().size(), std::size_t(1));
    QCOMPARE(QString::fromStdString(load.issues.warnings()[0].field), QString("parallel.mp"));
    QVERIFY(QString::fromStdString(load.issues.warnings()[0].line()).startsWith("warning: parallel.mp = 4"));
  }

  // bf16/fp16 compute only on the cuda backends: on cpu one issue naming layer.dtype and the rule, so
  // `parm check`/`parm run` refuse it before any rank starts.
  void sixteenBitOnCpuIsOneIssue_data() {
    QTest::addColumn<QString>("dtype");
    QTest::newRow("bf16") << "bf16";
    QTest::newRow("fp16") << "fp16";
  }
  void sixteenBitOnCpuIsOneIssue() {
    QFETCH(QString, dtype);
    const ConfigLoad load =
        config_from_json_text(patched(R"("dtype": "fp32")", "\"dtype\": \"" + dtype + "\""));
    QVERIFY(!load.ok());
    const auto errors = load.issues.errors();
    QCOMPARE(errors.size(), std::size_t(1));
    QCOMPARE(QString::fromStdString(errors[0].field), QString("layer.dtype"));
    QCOMPARE(QString::fromStdString(errors[0].value), dtype);
    QCOMPARE(QString::fromStdString(errors[0].rule),
             "the cpu backend computes in fp32 or fp64; " + dtype + " runs on backend cuda or cuda+mpi");
    QCOMPARE(QString::fromStdString(errors[0].line()), "error: layer.dtype = " + dtype +
                                                           ": the cpu backend computes in fp32 or fp64; " +
                                                           dtype + " runs on backend cuda or cuda+mpi");
  }

  // On the cuda backends 16-bit shapes must give 16-byte aligned GEMM rows: M and H/N_ESP multiples of 8.
  void sixteenBitAlignmentOnCuda_data() {
    QTest::addColumn<QString>("backend");
    QTest::addColumn<QString>("dtype");
    QTest::addColumn<int>("hidden");
    QTest::addColumn<int>("ffn_hidden");
    QTest::addColumn<int>("esp");
    QTest::addColumn<QString>("field");  // empty: accepted
    QTest::addColumn<QString>("rule");
    QTest::newRow("bf16 cuda aligned") << "cuda"
                                       << "bf16" << 8 << 16 << 2 << ""
                                       << "";
    QTest::newRow("fp16 cuda+mpi aligned") << "cuda+mpi"
                                           << "fp16" << 16 << 32 << 1 << ""
                                           << "";
    QTest::newRow("bf16 M 12") << "cuda"
                               << "bf16" << 12 << 16 << 2 << "layer.hidden"
                               << "M % 8 == 0";
    QTest::newRow("fp16 H-shard 12") << "cuda+mpi"
                                     << "fp16" << 8 << 24 << 2 << "layer.ffn_hidden"
                                     << "the H-shard H/esp = 12 must be a multiple of 8 for fp16";
    QTest::newRow("bf16 H 20 unsharded") << "cuda"
                                         << "bf16" << 8 << 20 << 1 << "layer.ffn_hidden"
                                         << "(H / N_ESP) % 8 == 0";
    QTest::newRow("fp32 cuda unaligned is fine") << "cuda"
                                                 << "fp32" << 12 << 20 << 2 << ""
                                                 << "";
  }
  void sixteenBitAlignmentOnCuda() {
    QFETCH(QString, backend);
    QFETCH(QString, dtype);
    QFETCH(int, hidden);
    QFETCH(int, ffn_hidden);
    QFETCH(int, esp);
    QFETCH(QString, field);
    QFETCH(QString, rule);
    std::string text = patched(R"("backend": "cpu")", "\"backend\": \"" + backend + "\"");
    const auto replace = [&](const std::string& from, const std::string& to) {
      text.replace(text.find(from), from.size(), to);
    };
    replace(R"("dtype": "fp32")", "\"dtype\": \"" + dtype.toStdString() + "\"");
    replace(R"("hidden": 8)", "\"hidden\": " + std::to_string(hidden));
    replace(R"("ffn_hidden": 16)", "\"ffn_hidden\": " + std::to_string(ffn_hidden));
    replace(R"("esp": 2)", "\"esp\": " + std::to_string(esp));
    const ConfigLoad load = config_from_json_text(text);
    if (field.isEmpty()) {
      QVERIFY2(load.ok(), qPrintable(joined_errors(load)));
      return;
    }
    const auto errors = load.issues.errors();
    QVERIFY2(errors.size() == 1, qPrintable(joined_errors(load)));
    QCOMPARE(QString::fromStdString(errors[0].field), field);
    QVERIFY2(QString::fromStdString(errors[0].rule).contains(rule), qPrintable(joined_errors(load)));
    QVERIFY(QString::fromStdString(errors[0].rule).contains("cuBLAS"));
  }

  void espOneIsAccepted() {
    const ConfigLoad load = config_from_json_text(patched(R"("mp": 2, "esp": 2)", R"("mp": 2, "esp": 1)"));
    QVERIFY2(load.ok(), qPrintable(joined_errors(load)));
    QCOMPARE(load.config->parallel.ep(), std::int64_t(2));
  }
};

QTEST_APPLESS_MAIN(TestValidation)
#include "test_engine_validation.moc"
