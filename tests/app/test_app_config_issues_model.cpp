// The validation table of the configuration page, under QAbstractItemModelTester.
#include <QAbstractItemModelTester>
#include <QtTest>

#include "app/models/config_issues_model.h"
#include "engine/core/config_json.h"

using parm::app::ConfigIssuesModel;

class TestConfigIssuesModel : public QObject {
  Q_OBJECT
 private slots:
  void showsEngineIssues() {
    ConfigIssuesModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.rowCount(), 0);
    const auto load = parm::config_from_json_text(R"({"layer": {"top_k": 99}, "parallel": {"mp": 3}})");
    model.setIssues(load.issues);
    QVERIFY(model.rowCount() >= 2);
    QCOMPARE(model.columnCount(), int(ConfigIssuesModel::NUM_COLUMNS));
    QCOMPARE(model.errorCount(), model.rowCount());
    QStringList fields;
    for (int r = 0; r < model.rowCount(); ++r) {
      fields << model.index(r, ConfigIssuesModel::FieldColumn).data().toString();
      QCOMPARE(model.index(r, ConfigIssuesModel::SeverityColumn).data().toString(), QString("error"));
      QVERIFY(model.index(r, 0).data(Qt::ToolTipRole).toString().startsWith("error: "));
    }
    QVERIFY(fields.contains("layer.top_k"));
    QVERIFY(fields.contains("parallel.mp"));
    model.setIssues({});
    QCOMPARE(model.rowCount(), 0);
  }

  void messagesPerField() {
    QVERIFY(ConfigIssuesModel::concerns("parallel.mp", "parallel.mp"));
    QVERIFY(ConfigIssuesModel::concerns("run.schedules[2]", "run.schedules"));
    QVERIFY(ConfigIssuesModel::concerns("layer.top_k", "layer"));
    QVERIFY(!ConfigIssuesModel::concerns("parallel.mpx", "parallel.mp"));
    QVERIFY(!ConfigIssuesModel::concerns("parallel", "parallel.mp"));
    ConfigIssuesModel model;
    model.setIssues(parm::config_from_json_text(R"({"layer": {"top_k": 99}, "parallel": {"mp": 3}})").issues);
    const QString mp = model.messagesFor("parallel.mp");
    QVERIFY(mp.startsWith("error: parallel.mp = 3: "));
    QVERIFY(!mp.contains("top_k"));
    QVERIFY(model.messagesFor("parallel.esp").isEmpty());
  }

  void warningsAreNotErrors() {
    ConfigIssuesModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const auto load =
        parm::config_from_json_text(R"({"parallel": {"ranks": 8, "gpus_per_node": 2, "mp": 4, "esp": 4}})");
    QVERIFY(load.ok());
    model.setIssues(load.issues);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.errorCount(), 0);
    QCOMPARE(model.index(0, 0).data(ConfigIssuesModel::IsErrorRole).toBool(), false);
  }
};

QTEST_GUILESS_MAIN(TestConfigIssuesModel)
#include "test_app_config_issues_model.moc"
