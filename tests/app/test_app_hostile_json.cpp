// The worst JSON a user can open in the GUI (File > Open configuration): each is refused with the engine's
// one line in the message bar and the configuration page's issues, and the window stays responsive (an
// event-loop round trip within 1 s after loading; 100k-level nesting crashed it, a 1 MB field froze it).
#include <QElapsedTimer>
#include <QPlainTextEdit>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include "app/config_page.h"
#include "app/main_window.h"
#include "app/models/config_issues_model.h"
#include "app/models/derived_sizes_model.h"
#include "engine/core/config_json.h"

using parm::app::ConfigIssuesModel;
using parm::app::ConfigPage;
using parm::app::MainWindow;

namespace {

QByteArray configWith(const QByteArray& layerMember) {
  return "{\"name\": \"hostile\", \"layer\": {" + layerMember + "}}";
}

QStringList errorLines(const ConfigPage& page) {
  QStringList lines;
  const ConfigIssuesModel* m = page.issuesModel();
  for (int r = 0; r < m->rowCount(); ++r)
    if (m->index(r, 0).data(ConfigIssuesModel::IsErrorRole).toBool())
      lines << m->index(r, 0).data(Qt::ToolTipRole).toString();
  return lines;
}

// True when a zero-delay timer fires within `ms`: the event loop is not stuck in layout or parsing.
bool eventLoopAnswers(int ms) {
  bool answered = false;
  QTimer::singleShot(0, [&] { answered = true; });
  QElapsedTimer clock;
  clock.start();
  while (!answered && clock.elapsed() < ms) QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
  return answered;
}

}  // namespace

class TestHostileJson : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

  void worstInputsAreRefusedAndTheWindowAnswers_data() {
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("needle");  // in the message bar and in one of the page's error lines
    QTest::newRow("100k-level nesting")
        << configWith("\"batch\": " + QByteArray(100000, '[') + QByteArray(100000, ']'))
        << "nesting deeper than";
    QTest::newRow("1e999") << configWith("\"capacity_factor\": 1e999") << "must fit a double";
    QTest::newRow("-1e999") << configWith("\"capacity_factor\": -1e999") << "must fit a double";
    QTest::newRow("10 MB string field")
        << QByteArray("{\"name\": \"" + QByteArray(10 * 1024 * 1024, 'x') + "\"}") << "byte limit";
    QTest::newRow("duplicate key") << configWith("\"batch\": 2, \"batch\": 3") << "duplicate key \"batch\"";
    QTest::newRow("NUL in a string") << QByteArray("{\"name\": \"a\\u0000b\"}") << "NUL";
  }

  void worstInputsAreRefusedAndTheWindowAnswers() {
    QFETCH(QByteArray, content);
    QFETCH(QString, needle);
    QTemporaryDir dir;
    const QString path = dir.filePath("hostile.json");
    {
      QFile f(path);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(content);
    }
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QElapsedTimer clock;
    clock.start();
    w.openConfigFile(path);
    QVERIFY2(eventLoopAnswers(1000), "the event loop did not answer within 1 s after loading");
    QVERIFY2(clock.elapsed() < 5000, qPrintable(QString("loading took %1 ms").arg(clock.elapsed())));

    const QString bar = w.message();
    QVERIFY2(bar.contains(needle) && bar.contains(path) && !bar.contains('\n') && bar.size() < 400,
             qPrintable(bar.left(500)));
    ConfigPage* page = w.configPage();
    QVERIFY(!page->isValid());
    const QStringList errors = errorLines(*page);
    QVERIFY2(errors.size() == 1 && errors[0].contains(needle) && errors[0].size() < 400,
             qPrintable(errors.join('\n').left(500)));
    QCOMPARE(page->configText().toUtf8(), content);  // what a launch would run: the file as it is
    // A form edit on top starts from what the engine last understood (nlohmann alone recursed into it).
    auto* batch = qobject_cast<QSpinBox*>(page->fieldEditor("layer.batch"));
    QVERIFY(batch);
    batch->setValue(batch->value() + 1);
    QVERIFY(eventLoopAnswers(1000));
    QTRY_VERIFY(page->isValid());
    QVERIFY(!page->textTooLongToEdit());
  }

  // A 10 MB line is validated but not laid out in the editor, which says so; a preset makes it editable
  // again.
  void longLineStaysOutOfTheEditor() {
    ConfigPage page;
    page.show();
    const QString text = "{\"name\": \"" + QString(10 * 1024 * 1024, u'y') + "\"}";
    page.setConfigText(text);
    QVERIFY(eventLoopAnswers(1000));
    QVERIFY(page.textTooLongToEdit());
    auto* editor = page.findChild<QPlainTextEdit*>("configJson");
    QVERIFY(editor && editor->isReadOnly() && editor->toPlainText().contains("too long to edit"));
    QCOMPARE(page.configText(), text);
    QVERIFY(page.loadPreset("default"));
    QVERIFY(page.isValid() && !page.textTooLongToEdit() && !editor->isReadOnly());
  }

  // The live validation shows validate()'s own lines for sizes that overflow or do not fit the machine.
  void sizeRefusalsShownNextToTheField_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("rule");
    QTest::newRow("batch 2^57") << R"({"layer": {"batch": 144115188075855872}})"
                                << "layer.batch"
                                << "64-bit range";
    QTest::newRow("min_capacity 2^53") << R"({"layer": {"min_capacity": 9007199254740992}})"
                                       << "layer.min_capacity"
                                       << "64-bit range";
    QTest::newRow("batch 1e12") << R"({"layer": {"batch": 1000000000000}})"
                                << "layer.batch"
                                << "one rank's buffers need";
  }

  void sizeRefusalsShownNextToTheField() {
    QFETCH(QString, text);
    QFETCH(QString, field);
    QFETCH(QString, rule);
    ConfigPage page;
    page.setConfigText(text);
    QVERIFY(!page.isValid());
    const parm::ConfigLoad load = parm::config_from_json_text(text.toStdString());
    QCOMPARE(load.issues.errors().size(), std::size_t(1));
    const QString line = QString::fromStdString(load.issues.errors()[0].line());
    QVERIFY2(line.startsWith("error: " + field + " = ") && line.contains(rule), qPrintable(line));
    QCOMPARE(page.fieldMessage(field), line);  // the same line as `parm check`
    QCOMPARE(errorLines(page), QStringList{line});
    QCOMPARE(page.sizesModel()->rowCount(), 0);  // no table of wrapped sizes
  }

  // Files that are not JSON documents at all: one line naming the file, nothing loaded.
  void unreadableFilesAreOneLine() {
    QTemporaryDir dir;
    MainWindow w;
    const QString before = w.configPage()->configText();
    w.openConfigFile(dir.path());
    QVERIFY2(w.message() == dir.path() + ": is a directory, not a file", qPrintable(w.message()));
    w.openConfigFile(dir.filePath("missing.json"));
    QVERIFY2(w.message().startsWith(dir.filePath("missing.json") + ": No such file"),
             qPrintable(w.message()));
    QCOMPARE(w.configPage()->configText(), before);
    QVERIFY(w.configPage()->isValid());
  }
};

QTEST_MAIN(TestHostileJson)
#include "test_app_hostile_json.moc"
