// Class 9 (fuzzing): each input the libFuzzer targets (tests/fuzz) found, minimised, through the real `parm`,
// so a finding stays fixed in the ordinary test build too. Every row: exit 2, one stderr line naming the
// field or the rule, and no stderr line that is the tail of a split message.
#include <QTemporaryDir>

#include "hostile_support.h"

namespace {

const QByteArray kTwoRankLayout = R"("layout": {"ranks": 2, "gpus_per_node": 2, "mp": 1, "esp": 1})";

QByteArray calibration(const QByteArray& id, const QByteArray& layout, const QByteArray& fits) {
  return "{\"id\": \"" + id + "\", " + layout + ", \"fits\": [" + fits + "]}";
}

void expect_one_line(const hostile::Result& r) {
  QVERIFY2(r.err.trimmed().count('\n') == 0, qPrintable("more than one stderr line:\n" + r.err));
}

}  // namespace

class TestHostileFuzzFindings : public QObject {
  Q_OBJECT
 private slots:
  void calibration_refused_data() {
    QTest::addColumn<QByteArray>("document");
    QTest::addColumn<QByteArray>("needle");
    QTest::newRow("fractional layout.ranks (get<int64> of 1e300 was undefined behaviour)")
        << calibration("c", R"("layout": {"ranks": 1e300, "gpus_per_node": 2, "mp": 1, "esp": 1})", "")
        << QByteArray("layout.ranks");
    QTest::newRow("group_size above int (wrapped)")
        << calibration("c", kTwoRankLayout, R"({"op": "alltoall", "alpha": 0, "beta": 0, "group_size": 3e9})")
        << QByteArray("fits[0].group_size");
    QTest::newRow("id holding a newline (split every message naming it)")
        << calibration(R"(calib\nsecond line)", kTwoRankLayout, "")
        << QByteArray("id = \"calib\\nsecond line\": must not contain control characters");
  }
  void calibration_refused() {
    QFETCH(QByteArray, document);
    QFETCH(QByteArray, needle);
    QTemporaryDir dir;
    const QString path = hostile::write_file(QDir(dir.path()), "calib.json", document);
    const hostile::Result r = hostile::run_parm({"predict", "default", "--calibration", path});
    hostile::expect_refused(r, 2, needle);
    expect_one_line(r);
  }

  // A key with a newline in it is an unknown field; its issue stays one line, the newline shown as \n.
  void config_key_with_newline() {
    QTemporaryDir dir;
    const QString path =
        hostile::write_file(QDir(dir.path()), "c.json", R"({"layer": {"batch": 2, "ff\nens": true}})");
    const hostile::Result r = hostile::run_parm({"check", path});
    hostile::expect_refused(r, 2, "unknown field");
    QVERIFY2(r.err.contains(R"(layer.ff\nens)"), r.err.constData());
    for (const QByteArray& line : r.err.split('\n')) QVERIFY2(!line.startsWith("ens"), r.err.constData());
  }

  // The reader quoted a key holding a NUL and a newline raw: the refusal came out as two lines.
  void config_key_with_nul_and_newline() {
    QTemporaryDir dir;
    const QString path = hostile::write_file(QDir(dir.path()), "c.json", R"({"layer": {"a\u0000\nb": 1}})");
    const hostile::Result r = hostile::run_parm({"check", path});
    hostile::expect_refused(r, 2, "NUL");
    expect_one_line(r);
  }

  // Kernel times 2^64 ns apart overflowed when made relative to the first event (undefined behaviour).
  void nsys_times_beyond_int64() {
    QTemporaryDir dir;
    const QString source = dir.filePath("report.sqlite");
    QProcess sqlite;
    sqlite.start("sqlite3", {source});
    if (!sqlite.waitForStarted()) QSKIP("the sqlite3 command-line shell is not installed");
    QFile schema(QStringLiteral(PARM_SOURCE_DIR) + "/tests/fuzz/nsys_schema.sql");
    QVERIFY(schema.open(QIODevice::ReadOnly));
    sqlite.write(schema.readAll());
    sqlite.write(
        "INSERT INTO StringIds VALUES (1, 'k');"
        "INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL (start, end, deviceId, streamId, globalPid, shortName) VALUES"
        " (-9223372036854775808, 0, 0, 0, 0, 1), (0, 9223372036854775807, 0, 0, 0, 1);");
    sqlite.closeWriteChannel();
    QVERIFY(sqlite.waitForFinished(10000) && sqlite.exitCode() == 0);
    const hostile::Result r = hostile::run_parm({"import-nsys", source, "--db", dir.filePath("p.sqlite")});
    hostile::expect_refused(r, 2, "times out of range");
    expect_one_line(r);
  }
};

QTEST_GUILESS_MAIN(TestHostileFuzzFindings)
#include "test_hostile_fuzz_findings.moc"
