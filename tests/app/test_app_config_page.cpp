// The configuration page: form and JSON in sync both ways, the engine's messages next to the fields they
// name, derived sizes and bytes per collective recomputed on each change (all through the engine).
#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QSpinBox>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "app/config_page.h"
#include "app/models/collective_volumes_model.h"
#include "app/models/config_issues_model.h"
#include "app/models/derived_sizes_model.h"
#include "engine/core/config_json.h"
#include "engine/core/rank_memory.h"
#include "engine/core/sizes.h"
#include "engine/schedules/volumes.h"

using parm::app::CollectiveVolumesModel;
using parm::app::ConfigPage;
using parm::app::DerivedSizesModel;

namespace {

nlohmann::json jsonOf(const ConfigPage& page) {
  return nlohmann::json::parse(page.configText().toStdString());
}

}  // namespace

class TestConfigPage : public QObject {
  Q_OBJECT
 private slots:
  void presetsLoadValid() {
    ConfigPage page;
    QVERIFY(ConfigPage::presetNames().contains("default"));
    for (const QString& name : ConfigPage::presetNames()) {
      QVERIFY(page.loadPreset(name));
      QVERIFY2(page.isValid(), qPrintable(name));
      QVERIFY(page.sizesModel()->rowCount() > 0);
      QVERIFY(page.volumesModel()->rowCount() > 0);
    }
    QVERIFY(!page.loadPreset("no-such-preset"));
  }

  void mpNotDividingRanksIsShownNextToMp() {
    ConfigPage page;
    page.show();
    QAbstractItemModelTester t1(page.sizesModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t2(page.volumesModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(page.loadPreset("default"));
    QVERIFY(page.isValid());
    QCOMPARE(jsonOf(page)["parallel"]["ranks"].get<int>(), 4);
    QSignalSpy validity(&page, &ConfigPage::validityChanged);

    auto* mp = qobject_cast<QSpinBox*>(page.fieldEditor("parallel.mp"));
    QVERIFY(mp);
    mp->setValue(3);  // as the user would type it
    // The JSON follows the form at once; validation follows (debounced).
    QCOMPARE(jsonOf(page)["parallel"]["mp"].get<int>(), 3);
    QTRY_VERIFY(!page.fieldMessage("parallel.mp").isEmpty());
    const QString message = page.fieldMessage("parallel.mp");
    QVERIFY2(message.contains("parallel.mp") && message.contains("P % N_MP == 0"), qPrintable(message));
    auto* label = page.findChild<QLabel*>("parallel.mp:message");
    QVERIFY(label && label->isVisible());
    QCOMPARE(mp->toolTip(), message);
    QVERIFY(!page.isValid());
    QVERIFY(validity.count() >= 1);
    QCOMPARE(validity.last().first().toBool(), false);
    QVERIFY(page.fieldMessage("parallel.ranks").isEmpty());
    QCOMPARE(page.sizesModel()->rowCount(), 0);  // no derived sizes for an invalid configuration
    QCOMPARE(page.volumesModel()->rowCount(), 0);

    // Fixing it in the JSON text fixes the form and clears the message.
    QString text = page.configText();
    text.replace("\"mp\": 3", "\"mp\": 2");
    page.setConfigText(text);
    QCOMPARE(mp->value(), 2);
    QVERIFY(page.fieldMessage("parallel.mp").isEmpty());
    QVERIFY(!label->isVisible());
    QVERIFY(page.isValid());
    QVERIFY(page.sizesModel()->rowCount() > 0);
  }

  void jsonToFormAndDerivedSizes() {
    ConfigPage page;
    QAbstractItemModelTester t1(page.sizesModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QString text = R"({"name": "mine", "description": "kept",
      "layer": {"batch": 4, "seq_len": 32, "hidden": 64, "ffn_hidden": 128, "num_experts": 4, "top_k": 1,
                "activation": "swiglu", "dtype": "fp64"},
      "parallel": {"ranks": 2, "gpus_per_node": 2, "mp": 2, "esp": 1},
      "run": {"schedules": ["B_DS", "S2"]}})";
    page.setConfigText(text);
    QVERIFY(page.isValid());
    QCOMPARE(qobject_cast<QSpinBox*>(page.fieldEditor("layer.hidden"))->value(), 64);
    QCOMPARE(qobject_cast<QSpinBox*>(page.fieldEditor("parallel.esp"))->value(), 1);
    QCOMPARE(qobject_cast<QComboBox*>(page.fieldEditor("layer.activation"))->currentText(),
             QString("swiglu"));
    QCOMPARE(qobject_cast<QComboBox*>(page.fieldEditor("layer.dtype"))->currentText(), QString("fp64"));
    QWidget* schedules = page.fieldEditor("run.schedules");
    QVERIFY(schedules->findChild<QCheckBox*>("B_DS")->isChecked());
    QVERIFY(!schedules->findChild<QCheckBox*>("S1")->isChecked());
    QVERIFY(schedules->findChild<QCheckBox*>("S2")->isChecked());

    // The sizes are the engine's.
    const auto load = parm::config_from_json_text(text.toStdString());
    const parm::DerivedSizes d = parm::derive_sizes(*load.config);
    QCOMPARE(page.sizesModel()->value("S"), qint64(d.S));
    QCOMPARE(page.sizesModel()->value("C0"), qint64(d.C0));
    QCOMPARE(page.sizesModel()->value("D2"), qint64(d.D2));
    QCOMPARE(page.sizesModel()->value("b"), qint64(8));
    QCOMPARE(page.sizesModel()->value("mem"), qint64(parm::estimate_rank_memory(*load.config, d)->total));
    qint64 s2 = 0;
    for (const auto& v : parm::schedule_volumes(*load.config, d, parm::ScheduleKind::S2)) s2 += v.bytes;
    QCOMPARE(page.volumesModel()->totalBytes("S2"), s2);
    QCOMPARE(page.volumesModel()->totalBytes("S1"), qint64(-1));

    // Typing a new hidden size updates the sizes as the user types.
    const qint64 d0 = page.sizesModel()->value("D0");
    qobject_cast<QSpinBox*>(page.fieldEditor("layer.hidden"))->setValue(128);
    QTRY_COMPARE(page.sizesModel()->value("D0"), 2 * d0);
  }

  void formEditsKeepOtherKeysAndOrder() {
    ConfigPage page;
    page.setConfigText(R"({"name": "x", "description": "my notes", "layer": {"batch": 2}})");
    QVERIFY(page.isValid());
    page.fieldEditor("run.schedules")->findChild<QCheckBox*>("S1F")->setChecked(false);
    qobject_cast<QComboBox*>(page.fieldEditor("layer.dtype"))->setCurrentText("fp64");
    // A programmatic setCurrentText does not count as the user's choice (activated); emit it as a click
    // would.
    emit qobject_cast<QComboBox*>(page.fieldEditor("layer.dtype"))->activated(1);
    page.revalidate();
    const QString text = page.configText();
    QVERIFY(text.indexOf("\"name\"") < text.indexOf("\"description\""));
    QVERIFY(text.indexOf("\"description\"") < text.indexOf("\"layer\""));
    const auto j = jsonOf(page);
    QCOMPARE(j["description"].get<std::string>(), std::string("my notes"));
    QCOMPARE(j["layer"]["batch"].get<int>(), 2);
    QCOMPARE(j["layer"]["dtype"].get<std::string>(), std::string("fp64"));
    QCOMPARE(j["run"]["schedules"].size(), std::size_t(6));
    QVERIFY(page.isValid());
    QCOMPARE(page.volumesModel()->totalBytes("S1F"), qint64(-1));
  }

  // A pipelined variant typed in the text (issue 19) has no box: toggling a box keeps it in the list.
  void scheduleBoxesKeepPipelinedVariants() {
    ConfigPage page;
    page.setConfigText(R"({"name": "x", "run": {"schedules": ["B_DS", "S1r4"]}})");
    QVERIFY(page.isValid());
    page.fieldEditor("run.schedules")->findChild<QCheckBox*>("S2")->setChecked(true);
    page.revalidate();
    const auto j = jsonOf(page);
    QCOMPARE(j["run"]["schedules"], (nlohmann::json{"B_DS", "S2", "S1r4"}));
    QVERIFY(page.isValid());
  }

  // layer.capacity_rounding (issue 17): a choice in the form, and the derived capacity follows it.
  void capacityRoundingChoiceChangesTheCapacity() {
    ConfigPage page;
    page.setConfigText(R"({"layer": {"batch": 1, "seq_len": 50, "num_experts": 8, "top_k": 2,
      "capacity_factor": 1.2, "min_capacity": 0, "capacity_rounding": "deepspeed"}})");
    QVERIFY(page.isValid());
    auto* rounding = qobject_cast<QComboBox*>(page.fieldEditor("layer.capacity_rounding"));
    QVERIFY(rounding);
    QCOMPARE(rounding->currentText(), QString("deepspeed"));
    QCOMPARE(page.sizesModel()->value("C0"), qint64(16));
    rounding->setCurrentText("exact");
    emit rounding->activated(rounding->currentIndex());
    page.revalidate();
    QCOMPARE(jsonOf(page)["layer"]["capacity_rounding"].get<std::string>(), std::string("exact"));
    QCOMPARE(page.sizesModel()->value("C0"), qint64(15));
  }

  void typeErrorsAndSyntaxErrors() {
    ConfigPage page;
    page.loadPreset("default");
    auto* mp = qobject_cast<QSpinBox*>(page.fieldEditor("parallel.mp"));
    page.setConfigText(R"({"parallel": {"mp": "two"}, "layer": {"top_k": 99}})");
    QVERIFY(!page.isValid());
    QVERIFY(page.fieldMessage("parallel.mp").contains("parallel.mp"));
    QCOMPARE(mp->value(), 2);  // the form keeps the last value the engine understood

    page.setConfigText(R"({"layer": {"top_k": 99}})");
    QVERIFY(page.fieldMessage("layer.top_k").contains("layer.top_k"));
    QCOMPARE(qobject_cast<QSpinBox*>(page.fieldEditor("layer.top_k"))->value(), 99);
    page.setConfigText(R"({"layer": {"top_k": 99}, "layre": {}})");
    auto* general = page.findChild<QLabel*>("generalMessages");
    QVERIFY(general && general->text().contains("layre"));  // a field the form lacks is shown above it

    page.setConfigText("{ not json");
    QVERIFY(!page.isValid());
    QCOMPARE(page.issuesModel()->errorCount(), 1);
    // A form edit on unparsable text starts over from what the engine last understood.
    qobject_cast<QSpinBox*>(page.fieldEditor("layer.batch"))->setValue(3);
    QCOMPARE(jsonOf(page)["layer"]["batch"].get<int>(), 3);
    page.revalidate();
    QVERIFY(page.fieldMessage("layer.top_k").contains("layer.top_k"));
  }

  void configTextChangedCarriesTheText() {
    ConfigPage page;
    QSignalSpy spy(&page, &ConfigPage::configTextChanged);
    page.loadPreset("tc1");
    QVERIFY(spy.count() >= 1);
    QCOMPARE(spy.last().first().toString(), page.configText());
    const QByteArray layout = page.saveLayout();
    page.restoreLayout(layout);
    page.restoreLayout("garbage");  // ignored
  }
};

QTEST_MAIN(TestConfigPage)
#include "test_app_config_page.moc"
