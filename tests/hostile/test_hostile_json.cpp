// Hostile input class 2, JSON input: documents that are deep, out of range, ambiguous, huge, not text or not
// files at all. Each is refused with exit 2 and one line naming the file (and the place and rule where known)
// by `parm check` and `parm run --dry-run`; nothing crashes (100k levels segfaulted) or leaks library text
// (1e999 printed a raw nlohmann exception).
#include <QTemporaryDir>

#include "hostile_support.h"

using hostile::layer;

class TestHostileJson : public QObject {
  Q_OBJECT
 private slots:
  void refusedWithOneLine_data() {
    QTest::addColumn<QByteArray>("content");  // written to FILE.json; "<dir>" / "<missing>" for no file
    QTest::addColumn<QByteArray>("rule");     // a fragment of the one line (which also names the file)
    QTest::addColumn<bool>("run");            // also through `parm run --dry-run`

    QTest::newRow("100k-level nesting")
        << "{\"layer\": " + QByteArray(100000, '[') + QByteArray(100000, ']') + "}"
        << QByteArray("line 1, column 74: nesting deeper than 64 levels") << true;
    QTest::newRow("nesting inside objects")
        << "{\"a\":" + QByteArray(70, '{') << QByteArray("nesting deeper than 64 levels") << false;
    QTest::newRow("1e999") << layer("\"capacity_factor\": 1e999")
                           << QByteArray("number overflow parsing '1e999' (numbers must fit a double")
                           << true;
    QTest::newRow("-1e999") << layer("\"batch\": -1e999") << QByteArray("number overflow parsing '-1e999'")
                            << false;
    QTest::newRow("duplicate key, top level") << QByteArray("{\"name\": \"a\", \"name\": \"b\"}")
                                              << QByteArray("name: duplicate key \"name\"") << true;
    QTest::newRow("duplicate key, nested")
        << layer("\"batch\": 2, \"batch\": 3") << QByteArray("layer.batch: duplicate key \"batch\"") << false;
    QTest::newRow("NUL via \\u0000") << QByteArray("{\"name\": \"a\\u0000b\"}")
                                     << QByteArray("name: a string holds a NUL character") << true;
    QTest::newRow("1 MB string") << "{\"name\": \"" + QByteArray(1 << 20, 'x') + "\"}"
                                 << QByteArray(
                                        "name: a string of 1048576 bytes is longer than the 65536-byte limit")
                                 << true;
    QTest::newRow("directory as config")
        << QByteArray("<dir>") << QByteArray("is a directory, not a file") << true;
    QTest::newRow("missing file") << QByteArray("<missing>") << QByteArray("No such file or directory")
                                  << true;
    QTest::newRow("empty file") << QByteArray() << QByteArray("unexpected end of input") << false;
    QTest::newRow("binary garbage") << QByteArray("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 16)
                                    << QByteArray("malformed JSON") << false;
    QTest::newRow("truncated file") << QByteArray("{\"name\": \"t\", \"layer\": {\"batch\": 4")
                                    << QByteArray("malformed JSON") << true;
    QTest::newRow("invalid UTF-8") << QByteArray("{\"name\": \"\xff\xfe\"}") << QByteArray("ill-formed UTF-8")
                                   << false;
    QTest::newRow("comment") << QByteArray("{\"name\": \"t\" // a comment\n}")
                             << QByteArray("line 1, column 14") << false;
    QTest::newRow("trailing comma") << QByteArray("{\"name\": \"t\",}") << QByteArray("malformed JSON")
                                    << false;
    QTest::newRow("top-level array") << QByteArray("[{\"name\": \"t\"}]")
                                     << QByteArray("the top level must be a JSON object") << true;
    QTest::newRow("huge key, unknown field")
        << "{\"" + QByteArray(60000, 'k') + "\": 1}" << QByteArray("... = 1: unknown field") << false;
  }

  void refusedWithOneLine() {
    QFETCH(QByteArray, content);
    QFETCH(QByteArray, rule);
    QFETCH(bool, run);
    QTemporaryDir dir;
    QString path = dir.filePath("hostile.json");
    if (content == "<dir>")
      QVERIFY(QDir(dir.path()).mkdir("hostile.json"));
    else if (content != "<missing>")
      hostile::write_file(QDir(dir.path()), "hostile.json", content);
    const hostile::Result check = hostile::run_parm({"check", path}, 20000);
    hostile::expect_refused(check, 2, path.toUtf8());
    QVERIFY2(check.err.contains(rule), qPrintable(check.err.left(1000)));
    QVERIFY2(check.out.isEmpty(), check.out.left(300));
    for (char c : check.err)  // one plain line: no raw bytes of the file reach the terminal
      QVERIFY2(c == '\n' || (c >= 0x20 && c < 0x7f), qPrintable(check.err.toPercentEncoding().left(300)));
    if (!run) return;
    const hostile::Result r = hostile::run_parm({"run", "--dry-run", path}, 20000);
    hostile::expect_refused(r, 2, path.toUtf8());
    QVERIFY2(r.err.contains(rule), qPrintable(r.err.left(1000)));
  }

  // A UTF-8 byte-order mark is what some editors write: accepted, not a syntax error.
  void byteOrderMarkIsAccepted() {
    QTemporaryDir dir;
    const QString path =
        hostile::write_file(QDir(dir.path()), "bom.json", QByteArray("\xef\xbb\xbf{\"name\": \"bom\"}"));
    const hostile::Result r = hostile::run_parm({"check", path}, 20000);
    QVERIFY2(r.exit_code == 0, r.err);
    QVERIFY(r.out.contains("config bom:"));
  }
};

QTEST_APPLESS_MAIN(TestHostileJson)
#include "test_hostile_json.moc"
