// Hostile inputs, class 8 (database safety), through the real `parm` binary: `runs`, `show`, `export`,
// `run --db` and `import-nsys` on a corrupt file, a foreign SQLite file, an empty file, a text file, a
// directory, a truncated database and a database missing a table; a project in a read-only place (reads work,
// writes are refused before any work); `--db ""` in every subcommand that takes --db; import-nsys of a Parm
// project, of the project into itself (also through a symbolic and a hard link), and leaving nothing beside a
// source it only reads; an export written over the project. Each refusal: the documented exit code and one
// short line naming the file; the file is byte-identical afterwards and the stored runs are intact.
#include <sqlite3.h>
#include <unistd.h>

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <memory>
#include <random>

#include "hostile_support.h"
#include "read_only_place.h"

namespace {

bool exec(const QString& path, const char* sql) {
  sqlite3* db = nullptr;
  const bool ok = sqlite3_open(path.toUtf8().constData(), &db) == SQLITE_OK &&
                  sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  return ok;
}

QByteArray read_all(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QByteArray digest(const QString& path) {
  return QFileInfo(path).isDir() ? QByteArray("dir")
                                 : QCryptographicHash::hash(read_all(path), QCryptographicHash::Sha256);
}

// (run id, events) of every stored run, through `parm runs --json`.
QList<QPair<qint64, qint64>> stored_runs(const QString& db) {
  const hostile::Result r = hostile::run_parm({"runs", "--db", db, "--json"});
  QList<QPair<qint64, qint64>> out;
  if (r.exit_code != 0) return out;
  for (const QJsonValue& v : QJsonDocument::fromJson(r.out).object()["runs"].toArray())
    out.append({v["id"].toInteger(), v["events"].toInteger()});
  return out;
}

// An Nsight Systems export in WAL mode: the kind of source a read-only connection leaves -wal/-shm beside.
void write_nsys_export(const QString& path) {
  QVERIFY(exec(path,
               "PRAGMA journal_mode = WAL;"
               "CREATE TABLE StringIds (id INTEGER NOT NULL PRIMARY KEY, value TEXT NOT NULL);"
               "INSERT INTO StringIds VALUES (1, 'k1'), (2, 'k2');"
               "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER NOT NULL, end INTEGER NOT NULL, "
               "deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, streamId INTEGER NOT NULL, "
               "correlationId INTEGER, globalPid INTEGER, demangledName INTEGER NOT NULL, shortName INTEGER "
               "NOT NULL);"
               "INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (100, 200, 0, 1, 7, 1, 0, 1, 1), "
               "(150, 300, 0, 1, 9, 2, 0, 2, 2);"));
}

}  // namespace

class TestHostileDatabase : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString project_, nsys_;
  QList<QPair<qint64, qint64>> runs_;  // what the project holds
  std::unique_ptr<hostile::ReadOnlyPlace> read_only_;

  QString path(const QString& name) const { return dir_.filePath(name); }
  QString copy_of_project(const QString& name) {
    const QString p = path(name);
    QFile::remove(p);
    if (!QFile::copy(project_, p)) qFatal("cannot copy the project");
    return p;
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    project_ = path("project.sqlite");
    const hostile::Result made = hostile::run_parm({"run", "--ranks", "2", "--db", project_});
    QVERIFY2(made.exit_code == 0, made.err.constData());
    runs_ = stored_runs(project_);
    QCOMPARE(runs_.size(), 1);
    QVERIFY(runs_.front().second > 0);
    QVERIFY(!QFile::exists(project_ + "-wal"));  // the last connection closed cleanly

    nsys_ = path("capture.sqlite");
    write_nsys_export(nsys_);
    QFile::remove(nsys_ + "-wal");  // closed: only the file remains
    QFile::remove(nsys_ + "-shm");

    hostile::write_file(QDir(dir_.path()), "empty.sqlite", "");
    hostile::write_file(QDir(dir_.path()), "notes.sqlite", "these are my notes, not a database\n");
    QVERIFY(QDir(dir_.path()).mkdir("folder.sqlite"));
    QVERIFY(exec(path("foreign.sqlite"),
                 "CREATE TABLE invoices (id INTEGER, total REAL);"
                 "INSERT INTO invoices VALUES (1, 9.5);"));
    QByteArray bytes = read_all(project_);
    QByteArray damaged = bytes;
    std::mt19937 rng(12);
    for (int i = 16384; i < 4 * 16384 && i < damaged.size(); ++i) damaged[i] = static_cast<char>(rng());
    hostile::write_file(QDir(dir_.path()), "corrupt.sqlite", damaged);
    hostile::write_file(QDir(dir_.path()), "truncated.sqlite", bytes.left(bytes.size() / 2));
    QVERIFY(exec(copy_of_project("missing.sqlite"), "DROP TABLE ranks;"));

    QVERIFY(QDir(dir_.path()).mkdir("locked"));
    QVERIFY(QFile::copy(project_, path("locked/project.sqlite")));
    read_only_ =
        std::make_unique<hostile::ReadOnlyPlace>(path("locked"), path("locked-view"), "project.sqlite");
  }

  void cleanupTestCase() { read_only_.reset(); }  // before the temporary folder goes

  // A file that is not a (complete) project: exit 2, one line naming it and what it is, the file untouched.
  void refused_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QStringList>("args");  // FILE stands for the file, NSYS for a good export
    QTest::addColumn<QByteArray>("rule");
    const QStringList runs{"runs", "--db", "FILE"};
    const QStringList show{"show", "--db", "FILE", "--run", "1"};
    const QStringList exp{"export", "--db", "FILE", "--run", "1", "--format", "csv"};
    const QStringList run{"run", "--ranks", "2", "--db", "FILE"};
    const QStringList into{"import-nsys", "NSYS", "--db", "FILE"};
    const QStringList from{"import-nsys", "FILE", "--db", "NEW"};
    const struct {
      const char* file;
      const char* rule;
      QList<QPair<const char*, QStringList>> commands;
    } cases[] = {
        {"corrupt.sqlite",
         "corrupt database",
         {{"runs", runs}, {"show", show}, {"export", exp}, {"run", run}, {"import-into", into}}},
        {"corrupt.sqlite", "a Parm Studio project", {{"import-from", from}}},
        {"foreign.sqlite",
         "not a Parm Studio database",
         {{"runs", runs}, {"show", show}, {"export", exp}, {"run", run}, {"import-into", into}}},
        {"foreign.sqlite", "not an Nsight Systems SQLite export", {{"import-from", from}}},
        {"empty.sqlite",
         "empty file",
         {{"runs", runs}, {"show", show}, {"export", exp}, {"import-from", from}}},
        {"notes.sqlite",
         "not an SQLite database",
         {{"runs", runs},
          {"show", show},
          {"export", exp},
          {"run", run},
          {"import-into", into},
          {"import-from", from}}},
        {"folder.sqlite",
         "is a directory",
         {{"runs", runs},
          {"show", show},
          {"export", exp},
          {"run", run},
          {"import-into", into},
          {"import-from", from}}},
        {"truncated.sqlite",
         "truncated database",
         {{"runs", runs}, {"show", show}, {"export", exp}, {"run", run}, {"import-into", into}}},
        {"missing.sqlite",
         "an incomplete Parm Studio database (missing table ranks)",
         {{"runs", runs}, {"show", show}, {"export", exp}, {"run", run}, {"import-into", into}}},
    };
    for (const auto& c : cases)
      for (const auto& [name, args] : c.commands)
        QTest::newRow(qPrintable(QString("%1 %2").arg(c.file, name))) << c.file << args << QByteArray(c.rule);
  }

  void refused() {
    QFETCH(QString, file);
    QFETCH(QStringList, args);
    QFETCH(QByteArray, rule);
    const QString target = path(file);
    const QString fresh = path("fresh.sqlite");
    QFile::remove(fresh);
    for (QString& a : args) a = a == "FILE" ? target : a == "NSYS" ? nsys_ : a == "NEW" ? fresh : a;
    const QByteArray before = digest(target);
    const hostile::Result r = hostile::run_parm(args);
    hostile::expect_refused(r, 2, file.toUtf8());
    QVERIFY2(r.err.contains(rule), r.err.constData());
    QVERIFY2(!r.err.contains("SELECT") && !r.err.contains("INSERT"), r.err.constData());  // no raw SQL
    QCOMPARE(digest(target), before);
    QVERIFY(!QFile::exists(target + "-wal") && !QFile::exists(target + "-shm"));
    QVERIFY2(!QFile::exists(fresh), "a refused import created the project");
    QCOMPARE(stored_runs(project_), runs_);
  }

  // `--db ""` is no project (and not "no --db"): refused while parsing, the same way everywhere.
  void emptyDbPath_data() {
    QTest::addColumn<QStringList>("args");
    QTest::newRow("runs") << QStringList{"runs", "--db", ""};
    QTest::newRow("show") << QStringList{"show", "--db", "", "--run", "1"};
    QTest::newRow("export") << QStringList{"export", "--db", "", "--run", "1", "--format", "csv"};
    QTest::newRow("import-nsys") << QStringList{"import-nsys", "NSYS", "--db", ""};
    QTest::newRow("run") << QStringList{"run", "--ranks", "2", "--db", ""};
    QTest::newRow("calibrate") << QStringList{"calibrate", "--ranks", "2", "--quick", "--db", ""};
    QTest::newRow("validate") << QStringList{"validate", "--calibration", "c.json", "--db", ""};
    QTest::newRow("predict") << QStringList{"predict", "--calibration", "c.json", "--db", ""};
    QTest::newRow("recommend") << QStringList{"recommend", "--calibration", "c.json", "--db", ""};
    QTest::newRow("sweep") << QStringList{"sweep", "--grid", "g.json", "--calibration", "c.json", "--db", ""};
    QTest::newRow("worker") << QStringList{"worker", "--config", "c.json", "--result", "r.json", "--db", ""};
    QTest::newRow("calibrate-worker") << QStringList{
        "calibrate-worker", "--config", "c.json", "--result", "r.json", "--table", "t.txt", "--db", ""};
  }

  void emptyDbPath() {
    QFETCH(QStringList, args);
    for (QString& a : args)
      if (a == "NSYS") a = nsys_;
    const hostile::Result r = hostile::run_parm(args);
    hostile::expect_refused(r, 2, "--db: empty path");
    QVERIFY2(r.err.startsWith("parm " + args.front().toUtf8() + ": "), r.err.constData());
  }

  // A project in a read-only place: what only reads works (exit 0, the runs listed), what would store a run
  // is refused at once with exit 2 naming the file, before any rank starts; nothing appears beside the file.
  void readOnlyProject_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exit_code");
    QTest::newRow("runs reads") << QStringList{"runs", "--db", "FILE"} << 0;
    QTest::newRow("show reads") << QStringList{"show", "--db", "FILE", "--run", "1"} << 0;
    QTest::newRow("export reads") << QStringList{"export", "--db", "FILE", "--run", "1", "--format", "csv"}
                                  << 0;
    QTest::newRow("run refused") << QStringList{"run", "--ranks", "2", "--db", "FILE"} << 2;
    QTest::newRow("import-nsys refused") << QStringList{"import-nsys", "NSYS", "--db", "FILE"} << 2;
    QTest::newRow("calibrate refused")
        << QStringList{"calibrate", "--ranks", "2", "--quick", "--db", "FILE"} << 2;
  }

  void readOnlyProject() {
    QFETCH(QStringList, args);
    QFETCH(int, exit_code);
    if (read_only_->file.isEmpty())
      QSKIP("no read-only place can be made here (no bind mount, chattr or chmod)");
    const QString file = read_only_->file;
    for (QString& a : args) a = a == "FILE" ? file : a == "NSYS" ? nsys_ : a;
    const QByteArray before = digest(file);
    QElapsedTimer t;
    t.start();
    const hostile::Result r = hostile::run_parm(args);
    if (exit_code == 0) {
      QVERIFY2(r.exit_code == 0, r.err.constData());
      QVERIFY(!r.out.isEmpty());
    } else {
      hostile::expect_refused(r, exit_code, "project.sqlite: read-only");
      QVERIFY2(r.err.contains("cannot store the run"), r.err.constData());
      QVERIFY2(!r.err.contains("starting"), r.err.constData());  // refused before the ranks
      QVERIFY2(t.elapsed() < 10000, qPrintable(QString::number(t.elapsed())));
    }
    QVERIFY2(!r.err.contains("corrupt"), r.err.constData());
    QCOMPARE(digest(file), before);
    QVERIFY(!QFile::exists(file + "-wal") && !QFile::exists(file + "-shm"));
    QCOMPARE(stored_runs(file), runs_);
  }

  // import-nsys reads only Nsight Systems exports: never a project, never the project into itself by any
  // path.
  void importNsysRefusesProjects_data() {
    QTest::addColumn<QString>("source");
    QTest::addColumn<QByteArray>("rule");
    QTest::newRow("a Parm project") << "copy.sqlite"
                                    << QByteArray("a Parm Studio project, not an Nsight Systems");
    QTest::newRow("into itself") << "project.sqlite" << QByteArray("is the project file itself");
    QTest::newRow("into itself by a symbolic link")
        << "link.sqlite" << QByteArray("is the project file itself");
    QTest::newRow("into itself by a hard link") << "hard.sqlite" << QByteArray("is the project file itself");
  }

  void importNsysRefusesProjects() {
    QFETCH(QString, source);
    QFETCH(QByteArray, rule);
    copy_of_project("copy.sqlite");
    QFile::remove(path("link.sqlite"));
    QVERIFY(QFile::link(project_, path("link.sqlite")));
    QFile::remove(path("hard.sqlite"));
    QVERIFY(::link(project_.toUtf8().constData(), path("hard.sqlite").toUtf8().constData()) == 0);
    const QByteArray before = digest(project_);
    const hostile::Result r = hostile::run_parm({"import-nsys", path(source), "--db", project_});
    hostile::expect_refused(r, 2, source.toUtf8());
    QVERIFY2(r.err.contains(rule), r.err.constData());
    QCOMPARE(digest(project_), before);
    QCOMPARE(stored_runs(project_), runs_);
    for (const QString& f : {path(source), project_})
      QVERIFY(!QFile::exists(f + "-wal") && !QFile::exists(f + "-shm"));
  }

  // An export renamed over the project (by any path) would replace it under its connection: refused.
  void exportOverTheProjectIsRefused_data() {
    QTest::addColumn<QString>("out");
    QTest::newRow("the project") << "project.sqlite";
    QTest::newRow("the project by a symbolic link") << "link.sqlite";
  }

  void exportOverTheProjectIsRefused() {
    QFETCH(QString, out);
    QFile::remove(path("link.sqlite"));
    QVERIFY(QFile::link(project_, path("link.sqlite")));
    const QByteArray before = digest(project_);
    const hostile::Result r =
        hostile::run_parm({"export", "--db", project_, "--run", "1", "--format", "csv", "--out", path(out)});
    hostile::expect_refused(r, 2, "--out " + path(out).toUtf8() + ": is the project file itself");
    QCOMPARE(digest(project_), before);
    QCOMPARE(stored_runs(project_), runs_);
  }

  // Output flags that write JSON, CSV or text never replace an SQLite file (a project named by a slip of the
  // flag): refused while parsing, the project byte-identical.
  void outputOverADatabaseIsRefused_data() {
    QTest::addColumn<QStringList>("args");  // "%P" is the project copy, "%N" the nsys export
    QTest::addColumn<QByteArray>("flag");
    QTest::newRow("calibrate --out") << QStringList{"calibrate", "--ranks", "2", "--quick", "--out", "%P"}
                                     << QByteArray("parm calibrate: --out ");
    QTest::newRow("sweep --out") << QStringList{"sweep",  "--grid", "g.json", "--calibration",
                                                "c.json", "--out",  "%P"}
                                 << QByteArray("parm sweep: --out ");
    QTest::newRow("recommend --out") << QStringList{"recommend", "--calibration", "c.json", "--out", "%P"}
                                     << QByteArray("parm recommend: --out ");
    QTest::newRow("export --out another database")
        << QStringList{"export", "--db", "%P", "--run", "1", "--format", "csv", "--out", "%N"}
        << QByteArray("parm export: --out ");
  }

  void outputOverADatabaseIsRefused() {
    QFETCH(QStringList, args);
    QFETCH(QByteArray, flag);
    const QString target = copy_of_project("output-target.sqlite");
    const QByteArray before = digest(target), nsys_before = digest(nsys_);
    for (QString& a : args) a = a == "%P" ? target : a == "%N" ? nsys_ : a;
    const hostile::Result r = hostile::run_parm(args, 30000);
    hostile::expect_refused(r, 2, flag);
    QVERIFY2(r.err.contains("is an SQLite database"), r.err.constData());
    QVERIFY2(!r.err.contains("rank"), r.err.constData());  // refused before any rank started
    QCOMPARE(digest(target), before);
    QCOMPARE(digest(nsys_), nsys_before);
  }

  // A good import reads its source without a trace: byte-identical, no -wal or -shm beside it (the source is
  // in WAL mode, where a plain read-only connection would leave both).
  void importNsysLeavesNothingBesideItsSource() {
    const QString db = path("imports.sqlite");
    const QByteArray before = digest(nsys_);
    const hostile::Result r = hostile::run_parm({"import-nsys", nsys_, "--db", db});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QCOMPARE(digest(nsys_), before);
    QVERIFY(!QFile::exists(nsys_ + "-wal"));
    QVERIFY(!QFile::exists(nsys_ + "-shm"));
    const auto runs = stored_runs(db);
    QCOMPARE(runs.size(), 1);
    QCOMPARE(runs.front().second, qint64{2});  // both kernels
  }
};

QTEST_GUILESS_MAIN(TestHostileDatabase)
#include "test_hostile_database.moc"
