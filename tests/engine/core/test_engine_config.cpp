// Configuration JSON: every embedded preset loads and validates, save/load round-trips, defaults fill
// omissions.
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>

#include "engine/core/config_json.h"
#include "resources/presets.h"

using namespace parm;

class TestConfig : public QObject {
  Q_OBJECT
 private slots:
  void presetsLoad_data() {
    QTest::addColumn<QString>("name");
    for (auto n : resources::embedded_preset_names())
      QTest::newRow(std::string(n).c_str()) << QString::fromUtf8(n.data(), qsizetype(n.size()));
  }
  void presetsLoad() {
    QFETCH(QString, name);
    const ConfigLoad load = config_from_json_text(*resources::embedded_preset(name.toStdString()));
    QVERIFY(load.ok());
    QCOMPARE(QString::fromStdString(load.config->name), name);
  }

  void requiredPresetsExist() {
    for (const char* n : {"default", "tc1", "bert-base-moe", "gpt2-moe"})
      QVERIFY2(resources::embedded_preset(n).has_value(), n);
  }

  // The default preset is the demo: 4 CPU ranks as 2 nodes x 2, in fp32.
  void defaultPresetRunsOnCpu() {
    const Config c = *config_from_json_text(*resources::embedded_preset("default")).config;
    QCOMPARE(c.run.backend, Backend::Cpu);
    QCOMPARE(c.parallel.ranks, std::int64_t(4));
    QCOMPARE(c.parallel.nodes(), std::int64_t(2));
    QCOMPARE(c.layer.dtype, DType::Fp32);
  }

  void roundTrip() {
    Config c;
    c.name = "round";
    c.layer.activation = Activation::Swiglu;
    c.layer.capacity_factor = 1.25;
    c.layer.drop_tokens = false;
    c.layer.dtype = DType::Fp64;
    c.parallel = {8, 4, 4, 1};
    c.layer.num_experts = 4;
    c.run.schedules = {ScheduleKind::S2F, ScheduleKind::B0};
    c.run.seed = 0xfedcba9876543210ull;
    const ConfigLoad back = config_from_json_text(config_to_json(c).dump());
    QVERIFY(back.ok());
    QCOMPARE(config_to_json(*back.config), config_to_json(c));
    QCOMPARE(back.config->run.seed, c.run.seed);
  }

  void omittedFieldsKeepDefaults() {
    const ConfigLoad load = config_from_json_text(R"({"layer": {"hidden": 64}})");
    QVERIFY(load.ok());
    QCOMPARE(load.config->layer.hidden, std::int64_t(64));
    QCOMPARE(load.config->layer.ffn_hidden, LayerConfig{}.ffn_hidden);
    QCOMPARE(load.config->parallel.mp, ParallelConfig{}.mp);
  }

  void saveThenLoadFile() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("c.json").toStdString();
    Config c;
    c.name = "saved";
    save_config_file(c, path);
    const ConfigLoad load = load_config_file(path);
    QVERIFY(load.ok());
    QCOMPARE(QString::fromStdString(load.config->name), QString("saved"));
    QVERIFY(!QFile::exists(dir.filePath("c.json.tmp")));
  }

  // A save that cannot complete leaves the existing file untouched.
  void failedSaveKeepsOldFile() {
    QTemporaryDir dir;
    const QString path = dir.filePath("c.json");
    { std::ofstream(path.toStdString()) << "{\"name\": \"old\"}\n"; }
    QVERIFY(QDir(dir.path()).mkdir("c.json.tmp"));  // the temporary path is taken by a directory
    Config c;
    c.name = "new";
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, save_config_file(c, path.toStdString()));
    const ConfigLoad load = load_config_file(path.toStdString());
    QVERIFY(load.ok());
    QCOMPARE(QString::fromStdString(load.config->name), QString("old"));
  }

  void missingFileIsOneLine() {
    const ConfigLoad load = load_config_file("/nonexistent/parm.json");
    QVERIFY(!load.ok());
    QCOMPARE(load.issues.errors().size(), std::size_t(1));
    QVERIFY(QString::fromStdString(load.issues.errors()[0].line())
                .startsWith("error: config: No such file or directory"));
  }
};

QTEST_APPLESS_MAIN(TestConfig)
#include "test_engine_config.moc"
