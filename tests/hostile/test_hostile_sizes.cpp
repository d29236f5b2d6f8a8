// Hostile input class 1, derived sizes: sizes that overflow 64 bits (alone or only as a product) or buffers
// above this machine's memory are refused by `parm check` and `parm run` with exit 2 and one line naming the
// field, before any rank starts (min_capacity 2^53 segfaulted every rank, batch 2^57 wrapped S to 0 and
// printed a table with exit 0, batch 1e12 ended in std::bad_alloc).
#include <QTemporaryDir>

#include "hostile_support.h"

using hostile::layer;

class TestHostileSizes : public QObject {
  Q_OBJECT
 private slots:
  void refusedByCheckAndRun_data() {
    QTest::addColumn<QByteArray>("config");
    QTest::addColumn<QByteArray>("field");  // the field the one line must name
    QTest::addColumn<QByteArray>("rule");   // and a fragment of its rule, the limit
    QTest::addColumn<bool>("run");          // also through `parm run` (refused before mpirun starts)

    QTest::newRow("batch 2^57 (S wraps to 0)")
        << layer("\"batch\": 144115188075855872") << QByteArray("layer.batch") << QByteArray("64-bit range")
        << true;
    QTest::newRow("batch 1e12 (bad_alloc)") << layer("\"batch\": 1000000000000") << QByteArray("layer.batch")
                                            << QByteArray("one rank's buffers need") << true;
    QTest::newRow("seq_len 2^62") << layer("\"seq_len\": 4611686018427387904") << QByteArray("layer.seq_len")
                                  << QByteArray("64-bit range") << false;
    QTest::newRow("batch*seq_len only together")
        << layer("\"batch\": 4294967296, \"seq_len\": 8589934592") << QByteArray("layer.seq_len")
        << QByteArray("batch*seq_len") << true;
    QTest::newRow("hidden 2^62") << layer("\"hidden\": 4611686018427387904") << QByteArray("layer.hidden")
                                 << QByteArray("64-bit range") << false;
    QTest::newRow("ffn_hidden 1e10 above memory")
        << layer("\"ffn_hidden\": 10000000000") << QByteArray("layer.ffn_hidden") << QByteArray("above the")
        << false;
    QTest::newRow("num_experts 2^32") << layer("\"num_experts\": 4294967296")
                                      << QByteArray("layer.num_experts") << QByteArray("2147483647") << false;
    QTest::newRow("num_experts 8e7 above memory")
        << layer("\"num_experts\": 80000000") << QByteArray("layer.num_experts")
        << QByteArray("one rank's buffers need") << false;
    QTest::newRow("min_capacity 2^53 (segfault)")
        << layer("\"min_capacity\": 9007199254740992") << QByteArray("layer.min_capacity")
        << QByteArray("64-bit") << true;
    QTest::newRow("min_capacity 2^40 above memory")
        << layer("\"min_capacity\": 1099511627776") << QByteArray("layer.min_capacity")
        << QByteArray("above the") << false;
    QTest::newRow("capacity_factor 1e300")
        << layer("\"capacity_factor\": 1e300") << QByteArray("layer.capacity_factor")
        << QByteArray("capacity C") << true;
    QTest::newRow("hidden*num_experts only together")
        << layer("\"hidden\": 1099511627776, \"num_experts\": 8388608, \"min_capacity\": 0")
        << QByteArray("layer.hidden") << QByteArray("64-bit") << false;
    QTest::newRow("no-drop capacity reaches S")
        << layer("\"drop_tokens\": false, \"batch\": 16384, \"hidden\": 68719476736, \"num_experts\": 1024")
        << QByteArray("layer.hidden") << QByteArray("drop_tokens = false") << false;
    QTest::newRow("seq_len 1e8 above memory")
        << layer("\"seq_len\": 100000000") << QByteArray("layer.seq_len") << QByteArray("physical memory")
        << true;
    QTest::newRow("cuda above the stated 80 GiB device")
        << QByteArray(
               "{\"layer\": {\"batch\": 640, \"seq_len\": 5120, \"hidden\": 1024, \"ffn_hidden\": 4096, "
               "\"dtype\": \"bf16\"}, \"run\": {\"backend\": \"cuda\"}}")
        << QByteArray("layer.seq_len") << QByteArray("80.0 GiB of device memory") << false;
    QTest::newRow("warmup + iterations wrap")
        << QByteArray("{\"run\": {\"warmup\": 9223372036854775807, \"iterations\": 1}}")
        << QByteArray("run.iterations") << QByteArray("warmup + iterations") << true;
  }

  void refusedByCheckAndRun() {
    QFETCH(QByteArray, config);
    QFETCH(QByteArray, field);
    QFETCH(QByteArray, rule);
    QFETCH(bool, run);
    QTemporaryDir dir;
    const QString path = hostile::write_file(QDir(dir.path()), "sizes.json", config);
    const hostile::Result check = hostile::run_parm({"check", path}, 20000);
    hostile::expect_refused(check, 2, "error: " + field + " = ");
    QVERIFY2(check.err.contains(rule), qPrintable(check.err));
    QVERIFY2(check.out.isEmpty(), "a refused configuration printed a table:\n" + check.out.left(500));
    if (!run) return;
    const hostile::Result r = hostile::run_parm({"run", path}, 60000);
    hostile::expect_refused(r, 2, "error: " + field + " = ");
    QVERIFY2(r.err.contains(rule), qPrintable(r.err));
  }

  // The same layout with sizes that fit is accepted and shows one rank's memory.
  void fittingSizesShowRankMemory() {
    const hostile::Result r = hostile::run_parm({"check", "--json"}, 20000);
    QCOMPARE(r.exit_code, 0);
    QVERIFY2(r.out.contains("\"rank_memory\"") && r.out.contains("\"total_bytes\""), r.out.left(500));
  }
};

QTEST_APPLESS_MAIN(TestHostileSizes)
#include "test_hostile_sizes.moc"
