// engine/json_input: THE reader of every JSON document a user hands us. Each rule, its one-line message and
// the line:column it points at.
#include <sys/stat.h>

#include <QTemporaryDir>
#include <QtTest>

#include "engine/core/json_input.h"

using namespace parm;

namespace {

QString q(const std::string& s) {
  return QString::fromStdString(s);
}

}  // namespace

class TestJsonInput : public QObject {
  Q_OBJECT
 private slots:
  void validDocumentParses() {
    const JsonDocument doc = parse_json_text(R"({"a": [1, 2.5, "x", {"b": null}], "c": true})", "t");
    QVERIFY2(doc.ok(), qPrintable(q(doc.error)));
    QCOMPARE((*doc.value)["a"][1].get<double>(), 2.5);
    QVERIFY(doc.error.empty());
  }

  void refusals_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("error");  // the whole one-line message
    QTest::addColumn<QString>("field");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");

    QTest::newRow("nesting 65 levels") << QByteArray(65, '[') + QByteArray(65, ']')
                                       << "t:1:65: nesting deeper than 64 levels (objects and arrays)"
                                       << "" << 1 << 65;
    QTest::newRow("nesting 100k levels, second line")
        << "{\"a\":\n  " + QByteArray(100000, '[')
        << "t:2:66: nesting deeper than 64 levels (objects and arrays)"
        << "" << 2 << 66;
    QTest::newRow("1e999")
        << QByteArray("{\"a\":\n 1e999}")
        << "t:2:6: number overflow parsing '1e999' (numbers must fit a double, |x| < 1.8e308)"
        << "" << 2 << 6;
    QTest::newRow("-1e999")
        << QByteArray("[-1e999]")
        << "t:1:7: number overflow parsing '-1e999' (numbers must fit a double, |x| < 1.8e308)"
        << "" << 1 << 7;
    QTest::newRow("duplicate key, top level")
        << QByteArray("{\"a\": 1, \"a\": 2}") << "t: a: duplicate key \"a\" (a member may appear only once)"
        << "a" << 0 << 0;
    QTest::newRow("duplicate key, nested")
        << QByteArray("{\"layer\": {\"batch\": 1, \"batch\": 2}}")
        << "t: layer.batch: duplicate key \"batch\" (a member may appear only once)"
        << "layer.batch" << 0 << 0;
    QTest::newRow("NUL in a string") << QByteArray("{\"name\": \"a\\u0000b\"}")
                                     << "t: name: a string holds a NUL character (\\u0000)"
                                     << "name" << 0 << 0;
    QTest::newRow("NUL in an array element")
        << QByteArray("{\"a\": [1, \"\\u0000\"]}") << "t: a[1]: a string holds a NUL character (\\u0000)"
        << "a[1]" << 0 << 0;
    QTest::newRow("string too long") << "{\"s\": \"" + QByteArray(65537, 'x') + "\"}"
                                     << "t: s: a string of 65537 bytes is longer than the 65536-byte limit"
                                     << "s" << 0 << 0;
    QTest::newRow("key too long") << "{\"" + QByteArray(65537, 'k') + "\": 1}"
                                  << "t: " + QString(157, 'k') +  // the path is clipped in the line
                                         "...: a string of 65537 bytes is longer than the 65536-byte limit"
                                  << QString(65537, 'k') << 0 << 0;
    QTest::newRow("syntax error")
        << QByteArray("{\n  \"a\": 1,,\n}")
        << "t:2:10: malformed JSON: syntax error while parsing object key - unexpected "
           "','; expected string literal"
        << "" << 2 << 10;
    QTest::newRow("empty text") << QByteArray()
                                << "t:1:1: malformed JSON: syntax error while parsing value - unexpected "
                                   "end of input; expected '[', '{', or a literal"
                                << "" << 1 << 1;
    QTest::newRow("invalid UTF-8") << QByteArray("{\"a\": \"\xff\"}") << ""
                                   << "" << 1 << 8;
    QTest::newRow("comment") << QByteArray("{\"a\": 1 // no\n}") << ""
                             << "" << 1 << 9;
    QTest::newRow("trailing comma") << QByteArray("[1, 2,]") << ""
                                    << "" << 1 << 7;
  }

  void refusals() {
    QFETCH(QByteArray, text);
    QFETCH(QString, error);
    QFETCH(QString, field);
    QFETCH(int, line);
    QFETCH(int, column);
    const JsonDocument doc = parse_json_text(std::string_view(text.constData(), text.size()), "t");
    QVERIFY(!doc.ok());
    QVERIFY2(!q(doc.error).contains('\n') && !q(doc.error).contains("json.exception"),
             qPrintable(q(doc.error)));
    if (!error.isEmpty()) QCOMPARE(q(doc.error), error);
    QVERIFY2(q(doc.error).startsWith("t:"), qPrintable(q(doc.error)));
    QCOMPARE(q(doc.field), field);
    QCOMPARE(int(doc.line), line);
    QCOMPARE(int(doc.column), column);
    QVERIFY(q(doc.error).endsWith(q(doc.rule)));
  }

  // Brackets inside strings are text, not nesting.
  void bracketsInStringsDoNotCount() {
    const std::string text = "{\"a\": \"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"}";
    const JsonDocument doc = parse_json_text(text, "t");
    QVERIFY2(doc.ok(), qPrintable(q(doc.error)));
  }

  void limitsAreTheCallers() {
    JsonLimits tight;
    tight.max_depth = 2;
    tight.max_string_bytes = 3;
    tight.max_file_bytes = 20;
    QCOMPARE(q(parse_json_text("[[[]]]", "t", tight).error), QString("t:1:3: nesting deeper than 2 levels "
                                                                     "(objects and arrays)"));
    QCOMPARE(q(parse_json_text("[\"abcd\"]", "t", tight).error),
             QString("t: [0]: a string of 4 bytes is longer than the 3-byte limit"));
    QCOMPARE(q(parse_json_text(std::string(21, ' ') + "1", "t", tight).error),
             QString("t: 22 bytes is above the 20-byte limit for a JSON input"));
    QVERIFY(parse_json_text("[[\"abc\"]]", "t", tight).ok());
  }

  void filesThatAreNotDocuments() {
    QTemporaryDir dir;
    const std::string d = dir.path().toStdString();
    QCOMPARE(q(read_json_file(d).error), q(d + ": is a directory, not a file"));
    QCOMPARE(q(read_json_file(d + "/missing.json").error), q(d + "/missing.json: No such file or directory"));
    const std::string fifo = d + "/fifo";
    QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
    QCOMPARE(q(read_json_file(fifo).error), q(fifo + ": is not a regular file"));  // would block forever
    const std::string big = d + "/big.json";
    {
      QFile f(q(big));
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(QByteArray(100, ' ') + "{}");
    }
    JsonLimits small;
    small.max_file_bytes = 50;
    QCOMPARE(q(read_json_file(big, small).error),
             q(big + ": 102 bytes is above the 50-byte limit for this input"));
    const JsonDocument ok = read_json_file(big);
    QVERIFY2(ok.ok() && ok.value->is_object(), qPrintable(q(ok.error)));
    // A refusal inside a file names the file and the place.
    {
      QFile f(q(big));
      QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
      f.write("{\n\"x\": 1e999}");
    }
    QVERIFY2(q(read_json_file(big).error).startsWith(q(big) + ":2:"),
             qPrintable(q(read_json_file(big).error)));
  }
};

QTEST_APPLESS_MAIN(TestJsonInput)
#include "test_engine_json_input.moc"
