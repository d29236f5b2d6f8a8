// Hostile command lines through the real `parm`: every argument error exits 2 with one line that names the
// flag (or the word) and the rule, never CLI11's own text ("Value 0 not in range 0.000000 to 1797...") or
// its private exit codes (104-114).
#include "hostile_support.h"

class TestHostileCli : public QObject {
  Q_OBJECT
 private slots:
  void refused_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QByteArray>("needle");
    const auto row = [](const char* name, QStringList args, QByteArray needle) {
      QTest::newRow(name) << args << needle;
    };
    row("unknown subcommand", {"frobnicate"}, "unknown subcommand 'frobnicate' (known: check, run");
    row("unknown nested subcommand", {"bench", "sideways"}, "parm bench: unknown subcommand 'sideways'");
    row("no subcommand", {}, "a subcommand is required (known: check");
    row("unknown flag", {"run", "--bogus"}, "parm run: unknown option '--bogus'");
    row("ranks 0", {"run", "--ranks", "0"}, "parm run: --ranks must be an integer >= 1, got 0");
    row("ranks -1", {"run", "--ranks", "-1"}, "--ranks must be an integer >= 1, got -1");
    row("ranks abc", {"run", "--ranks", "abc"}, "--ranks must be an integer >= 1, got abc");
    row("ranks 1e99", {"run", "--ranks", "1e99"}, "--ranks must be an integer >= 1, got 1e99");
    row("ranks above int", {"calibrate", "--ranks", "99999999999"},
        "parm calibrate: --ranks must be an integer from 1 to 2147483647, got 99999999999");
    row("ranks without value", {"run", "--ranks"}, "parm run: --ranks needs a value");
    row("timeout -5", {"run", "--timeout-ms", "-5"}, "--timeout-ms must be an integer >= 1, got -5");
    row("iterations 0", {"bench", "layer", "--iterations", "0"},
        "parm bench layer: --iterations must be an integer >= 1, got 0");
    row("schedules XYZ", {"run", "--schedules", "XYZ", "--dry-run"}, "unknown schedule 'XYZ'");
    row("missing required", {"predict", "tc1"}, "parm predict: --calibration is required");
    row("missing required positional", {"import-nsys", "--db", "x.sqlite"}, "file is required");
    row("conflicting flags", {"run", "--hostfile", "h", "--cluster", "c"},
        "--hostfile and --cluster cannot be used together");
    row("max-error nan", {"validate", "--calibration", "c.json", "--max-error", "nan"},
        "parm validate: --max-error must be a finite number >= 0, got nan");
    row("max-error -1", {"validate", "--calibration", "c.json", "--max-error", "-1"},
        "--max-error must be a finite number >= 0, got -1");
    row("validate limit 0", {"validate", "--calibration", "c.json", "--limit", "0"},
        "parm validate: --limit must be an integer >= 1, got 0");
    row("sweep limit 0", {"sweep", "--grid", "g.json", "--calibration", "c.json", "--limit", "0"},
        "parm sweep: --limit must be an integer >= 1, got 0");
    row("extra positional", {"check", "tc1", "tc2"}, "parm check: unexpected argument 'tc2'");
    row("run id abc", {"show", "--db", "x.sqlite", "--run", "abc"}, "--run must be an integer >= 1, got abc");
    row("stepfactor 1", {"calibrate", "-f", "1"}, "--stepfactor must be a finite number > 1, got 1");
    row("nodes 0", {"cluster", "up", "--nodes", "0", "--ranks-per-node", "2"},
        "parm cluster up: --nodes must be an integer from 1 to 200, got 0");
  }
  void refused() {
    QFETCH(QStringList, args);
    QFETCH(QByteArray, needle);
    const hostile::Result r = hostile::run_parm(args, 30000);
    hostile::expect_refused(r, 2, needle);
    QVERIFY2(!r.err.contains("not in range") && !r.err.contains("Run with --help"),
             qPrintable("CLI11's own text leaked:\n" + r.err));
    QCOMPARE(r.err.count('\n'), qsizetype(1));  // one line
  }

  void help_exits_zero_data() {
    QTest::addColumn<QStringList>("args");
    QTest::newRow("parm --help") << QStringList{"--help"};
    QTest::newRow("run --help") << QStringList{"run", "--help"};
    QTest::newRow("sweep --help") << QStringList{"sweep", "--help"};
    QTest::newRow("cluster up --help") << QStringList{"cluster", "up", "--help"};
  }
  void help_exits_zero() {
    QFETCH(QStringList, args);
    const hostile::Result r = hostile::run_parm(args, 30000);
    QCOMPARE(r.exit_code, 0);
    QVERIFY(r.out.contains("Usage:"));
  }

  // A project that cannot be opened is exit 2 in every subcommand that writes one, as in `parm runs`, before
  // any rank starts (it was "rank 0 died", exit 1, in `parm run`).
  void database_errors_are_exit_2() {
    QTemporaryDir dir;
    const QString text = hostile::write_file(QDir(dir.path()), "notes.sqlite", "not a database\n");
    const QString nowhere = dir.filePath("no/such/folder/p.sqlite");
    for (const QStringList& args :
         {QStringList{"run", "--ranks", "2", "--db", text}, QStringList{"runs", "--db", text},
          QStringList{"calibrate", "--ranks", "2", "--db", text},
          QStringList{"predict", "--calibration", "c.json", "--db", text}}) {
      const hostile::Result r = hostile::run_parm(args, 30000);
      hostile::expect_refused(r, 2, "notes.sqlite");
      QVERIFY2(!r.err.contains("rank"), r.err.constData());  // refused before any rank started
    }
    hostile::expect_refused(hostile::run_parm({"run", "--ranks", "2", "--db", nowhere}, 30000), 2,
                            "cannot create the project");
    hostile::expect_refused(hostile::run_parm({"run", "--db", ""}, 30000), 2, "--db: empty path");
    QVERIFY(!QFile::exists(nowhere));
  }

  // The test hook stays out of the user's help but keeps working for the tests that need it.
  void die_on_rank_hidden() {
    for (const char* sub : {"run", "worker"}) {
      const hostile::Result r = hostile::run_parm({sub, "--help"}, 30000);
      QCOMPARE(r.exit_code, 0);
      QVERIFY2(!r.out.contains("die-on-rank"), r.out.constData());
    }
    const hostile::Result accepted =
        hostile::run_parm({"run", "--ranks", "2", "--die-on-rank", "1", "--dry-run"});
    QVERIFY2(accepted.exit_code == 0, accepted.err.constData());
    QVERIFY2(accepted.out.contains("--die-on-rank 1"), accepted.out.constData());
    hostile::expect_refused(hostile::run_parm({"run", "--die-on-rank", "-3"}, 30000), 2,
                            "--die-on-rank must be an integer >= 0, got -3");
  }
};

QTEST_GUILESS_MAIN(TestHostileCli)
#include "test_hostile_cli.moc"
