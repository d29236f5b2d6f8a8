// db::Database: round trips, interning, incomplete runs, refusal of corrupt / foreign / newer files without
// touching them, WAL readers during writes, and a writer killed with SIGKILL.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "db/database.h"
#include "db/run_queries.h"
#include "db/timeline_query.h"

using parm::db::Database;
using parm::db::DbError;
using parm::db::EventRow;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

parm::db::RunInfo run_info(const std::string& name, int ranks) {
  parm::db::RunInfo r;
  r.name = name;
  r.kind = "measured";
  r.started_at = "2025-01-02T03:04:05Z";
  r.backend = "cpu";
  r.ranks = ranks;
  r.config_json = R"({"name":")" + name + R"("})";
  r.origin_ns = 123456789;
  return r;
}

std::vector<EventRow> make_events(Database& db, int ranks, int per_rank, std::int64_t t0 = 0) {
  const std::int32_t a2a = db.intern("AlltoAll"), experts = db.intern("experts"), ep = db.intern("EP"),
                     none = db.intern("-"), sched = db.intern("S1"), dispatch = db.intern("dispatch");
  std::vector<EventRow> out;
  for (int r = 0; r < ranks; ++r)
    for (int i = 0; i < per_rank; ++i) {
      EventRow e;
      e.rank = r;
      e.lane = i % 2 == 0 ? 0 : 2;
      e.schedule = sched;
      e.iteration = i / 10;
      e.phase = (i / 5) % 2;
      e.op = i % 2 == 0 ? experts : a2a;
      e.group = i % 2 == 0 ? none : ep;
      e.purpose = dispatch;
      e.comm = i % 2 == 0 ? -1 : 0;
      e.chunk = i % 3 - 1;
      e.bytes = i % 2 == 0 ? 0 : 4096 * i;
      e.seq = i % 2 == 0 ? -1 : i / 2;
      e.start_ns = t0 + i * 1000;
      e.end_ns = t0 + i * 1000 + 900;
      out.push_back(e);
    }
  return out;
}

// Expects open() to throw one line naming the file and containing `fragment`, and the file to stay unchanged.
void expect_refused(const std::string& path, const char* fragment) {
  const std::string before = slurp(path);
  try {
    Database::open(path, true);
    QFAIL(qPrintable(QString("opened %1").arg(QString::fromStdString(path))));
  } catch (const DbError& e) {
    const std::string msg = e.what();
    QVERIFY2(msg.find(path) == 0, msg.c_str());
    QVERIFY2(msg.find('\n') == std::string::npos, msg.c_str());
    QVERIFY2(msg.find(fragment) != std::string::npos, msg.c_str());
  }
  QVERIFY(slurp(path) == before);
}

}  // namespace

class TestDbDatabase : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  std::string file(const char* name) const { return dir_.filePath(name).toStdString(); }

 private slots:
  void roundTrip() {
    const std::string path = file("round.parm");
    std::int64_t run = 0;
    std::vector<EventRow> written;
    {
      Database db = Database::open(path, true);
      run = db.begin_run(run_info("tc1", 2));
      db.add_ranks(run, {{0, "node-a", "cpu", 0, 5, 0}, {1, "node-b", "cpu", -1500.5, 20, 0.25}});
      written = make_events(db, 2, 40, 0);
      db.add_events(run, std::span<const EventRow>(written).first(30));
      db.add_events(run, std::span<const EventRow>(written).subspan(30));
      db.add_counters(run, {{1, "S1", "fwd", "AlltoAll", "EP", "dispatch", "", 1 << 20, 2}});
      db.set_result(run, R"({"ok":true})");
      db.finish_run(run);
    }
    Database db = Database::open(path, false);
    const auto runs = db.runs();
    QCOMPARE(runs.size(), std::size_t{1});
    QCOMPARE(runs[0].id, run);
    QCOMPARE(runs[0].name, std::string("tc1"));
    QCOMPARE(runs[0].kind, std::string("measured"));
    QCOMPARE(runs[0].started_at, std::string("2025-01-02T03:04:05Z"));
    QCOMPARE(runs[0].ranks, 2);
    QVERIFY(runs[0].complete);
    QCOMPARE(runs[0].config_json, std::string(R"({"name":"tc1"})"));
    QCOMPARE(runs[0].result_json, std::string(R"({"ok":true})"));
    QCOMPARE(runs[0].origin_ns, std::int64_t{123456789});

    const auto ranks = db.ranks(run);
    QCOMPARE(ranks.size(), std::size_t{2});
    QCOMPARE(ranks[1].host, std::string("node-b"));
    QCOMPARE(ranks[1].clock_offset_ns, -1500.5);
    QCOMPARE(ranks[1].clock_uncertainty_ns, 20.0);
    QCOMPARE(ranks[1].clock_drift_ppm, 0.25);

    const auto events = db.events(run);
    QCOMPARE(events.size(), written.size());
    QCOMPARE(db.event_count(run), std::int64_t(written.size()));
    // Ordered by (rank, lane, start): compare against the written rows sorted the same way.
    auto sorted = written;
    std::stable_sort(sorted.begin(), sorted.end(), [](const EventRow& a, const EventRow& b) {
      return std::tie(a.rank, a.lane, a.start_ns) < std::tie(b.rank, b.lane, b.start_ns);
    });
    for (std::size_t i = 0; i < events.size(); ++i) {
      const EventRow &a = events[i], &b = sorted[i];
      QVERIFY(std::tie(a.rank, a.lane, a.schedule, a.iteration, a.phase, a.op, a.group, a.purpose, a.comm,
                       a.chunk, a.bytes, a.seq, a.start_ns, a.end_ns) ==
              std::tie(b.rank, b.lane, b.schedule, b.iteration, b.phase, b.op, b.group, b.purpose, b.comm,
                       b.chunk, b.bytes, b.seq, b.start_ns, b.end_ns));
    }
    QCOMPARE(db.string(events.back().op), std::string("AlltoAll"));

    const auto counters = db.counters(run);
    QCOMPARE(counters.size(), std::size_t{1});
    QCOMPARE(counters[0].rank, 1);
    QCOMPARE(counters[0].purpose, std::string("dispatch"));
    QCOMPARE(counters[0].bytes, std::int64_t{1 << 20});
    QCOMPARE(counters[0].calls, std::int64_t{2});

    // The collectives view holds exactly the events with seq >= 0, one row per rank per collective.
    sqlite3_stmt* s = nullptr;
    QCOMPARE(sqlite3_prepare_v2(db.handle(),
                                "SELECT count(*), count(DISTINCT schedule || '/' || seq || '/' || rank) FROM "
                                "collectives WHERE run = ?",
                                -1, &s, nullptr),
             SQLITE_OK);
    sqlite3_bind_int64(s, 1, run);
    QCOMPARE(sqlite3_step(s), SQLITE_ROW);
    const auto collective_rows =
        std::count_if(written.begin(), written.end(), [](auto& e) { return e.seq >= 0; });
    QCOMPARE(sqlite3_column_int64(s, 0), std::int64_t(collective_rows));
    QCOMPARE(sqlite3_column_int64(s, 1), std::int64_t(collective_rows));
    sqlite3_finalize(s);
  }

  // The timeline's reader (db/timeline_query.h): kinds joined with spans give back every written event, in
  // (rank, start) order, with the same fields the `events` view has.
  void timelineQueryReadsKindsAndSpans() {
    const std::string path = file("timeline.parm");
    Database db = Database::open(path, true);
    const std::int64_t run = db.begin_run(run_info("tl", 3));
    const std::vector<EventRow> written = make_events(db, 3, 25, 1000);
    db.add_events(run, written);
    const std::int64_t other = db.begin_run(run_info("other", 1));
    db.add_events(other, make_events(db, 1, 7, 0));

    std::map<std::int64_t, parm::db::EventKindRow> kinds;
    for (const parm::db::EventKindRow& k : parm::db::event_kinds(db, run)) kinds[k.id] = k;
    std::set<std::tuple<int, int, int, int, int, int, int, int>> distinct;  // what one kind row stands for
    for (const EventRow& e : written)
      distinct.insert({e.lane, e.schedule, e.phase, e.op, e.group, e.purpose, e.comm, e.chunk});
    QCOMPARE(kinds.size(), distinct.size());
    std::vector<EventRow> read;
    parm::db::for_each_event_span(db, run, [&](const parm::db::EventSpanRow& s) {
      const auto it = kinds.find(s.kind);
      QVERIFY(it != kinds.end());
      const parm::db::EventKindRow& k = it->second;
      EventRow e;
      e.rank = s.rank;
      e.lane = k.lane;
      e.schedule = k.schedule;
      e.iteration = s.iteration;
      e.phase = k.phase;
      e.op = k.op;
      e.group = k.group;
      e.purpose = k.purpose;
      e.comm = k.comm;
      e.chunk = k.chunk;
      e.bytes = s.bytes;
      e.seq = s.seq;
      e.start_ns = s.start_ns;
      e.end_ns = s.end_ns;
      read.push_back(e);
    });
    QCOMPARE(read.size(), written.size());
    auto sorted = written;
    std::stable_sort(sorted.begin(), sorted.end(), [](const EventRow& a, const EventRow& b) {
      return std::tie(a.rank, a.start_ns) < std::tie(b.rank, b.start_ns);
    });
    for (std::size_t i = 0; i < read.size(); ++i) {
      const EventRow &a = read[i], &b = sorted[i];
      QVERIFY(std::tie(a.rank, a.lane, a.schedule, a.iteration, a.phase, a.op, a.group, a.purpose, a.comm,
                       a.chunk, a.bytes, a.seq, a.start_ns, a.end_ns) ==
              std::tie(b.rank, b.lane, b.schedule, b.iteration, b.phase, b.op, b.group, b.purpose, b.comm,
                       b.chunk, b.bytes, b.seq, b.start_ns, b.end_ns));
    }
    QVERIFY(parm::db::event_kinds(db, 999).empty());
    int none = 0;
    parm::db::for_each_event_span(db, 999, [&](const parm::db::EventSpanRow&) { ++none; });
    QCOMPARE(none, 0);
  }

  // data_version stays put while nothing changes and moves when another connection commits.
  void dataVersionFollowsOtherConnections() {
    const std::string path = file("version.parm");
    Database writer = Database::open(path, true);
    Database reader = Database::open(path, false);
    const std::int64_t v0 = reader.data_version();
    QVERIFY(v0 >= 0);
    QCOMPARE(reader.data_version(), v0);
    writer.finish_run(writer.begin_run(run_info("v", 1)));
    QVERIFY(reader.data_version() != v0);
    const std::int64_t v1 = reader.data_version();
    QCOMPARE(reader.data_version(), v1);
  }

  // The newest run of a kind, complete or not, answered in SQL.
  void latestRunOfKind() {
    const std::string path = file("latest.parm");
    Database db = Database::open(path, true);
    QVERIFY(!parm::db::latest_run_of_kind(db, "measured", false));
    const std::int64_t a = db.begin_run(run_info("a", 1));
    db.finish_run(a);
    auto validation = run_info("v", 1);
    validation.kind = "validation";
    const std::int64_t v = db.begin_run(validation);
    db.finish_run(v);
    const std::int64_t b = db.begin_run(run_info("b", 1));  // measured, still incomplete
    QCOMPARE(parm::db::latest_run_of_kind(db, "measured", false), std::optional<std::int64_t>(b));
    QCOMPARE(parm::db::latest_run_of_kind(db, "measured", true), std::optional<std::int64_t>(a));
    QCOMPARE(parm::db::latest_run_of_kind(db, "validation", true), std::optional<std::int64_t>(v));
    QVERIFY(!parm::db::latest_run_of_kind(db, "calibration", false));
  }

  void internIsStableAcrossConnections() {
    const std::string path = file("intern.parm");
    std::int32_t a = 0, b = 0;
    {
      Database db = Database::open(path, true);
      a = db.intern("AlltoAll");
      b = db.intern("AllGather");
      QVERIFY(a != b);
      QCOMPARE(db.intern("AlltoAll"), a);
      QCOMPARE(db.intern(std::string_view("AlltoAll, more").substr(0, 8)), a);
    }
    Database db = Database::open(path, false);
    QCOMPARE(db.intern("AllGather"), b);
    QCOMPARE(db.string(a), std::string("AlltoAll"));
    QCOMPARE(db.string(987654), std::string());
  }

  void runIsIncompleteUntilFinished() {
    const std::string path = file("incomplete.parm");
    Database db = Database::open(path, true);
    const std::int64_t run = db.begin_run(run_info("x", 1));
    Database reader = Database::open(path, false);
    QVERIFY(reader.run(run).has_value());
    QVERIFY(!reader.run(run)->complete);
    db.finish_run(run);
    QVERIFY(reader.run(run)->complete);
    QVERIFY(!reader.run(run + 1).has_value());
    QVERIFY_THROWS_EXCEPTION(DbError, db.finish_run(run + 100));
  }

  void missingFileWithoutCreateIsRefused() {
    const std::string path = file("absent.parm");
    try {
      Database::open(path, false);
      QFAIL("opened a missing file");
    } catch (const DbError& e) {
      QVERIFY(std::string(e.what()).find(path) == 0);
    }
    QVERIFY(!std::filesystem::exists(path));
  }

  void randomBytesAreRefused() {
    const std::string path = file("random.parm");
    std::mt19937 rng(7);
    std::string bytes(8192, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    spit(path, bytes);
    expect_refused(path, "not an SQLite database");
  }

  void overwrittenParmFileIsRefused() {
    const std::string path = file("damaged.parm");
    {
      Database db = Database::open(path, true);
      const std::int64_t run = db.begin_run(run_info("big", 4));
      db.add_events(run, make_events(db, 4, 5000));
      db.finish_run(run);
    }  // last connection closed: the WAL is checkpointed into the file
    std::string bytes = slurp(path);
    QVERIFY(bytes.size() > 200'000);
    std::mt19937 rng(11);
    const std::size_t middle =
        bytes.size() / 2 / 16384 * 16384;  // a whole page in the middle of the event data
    for (std::size_t i = 0; i < 16384; ++i) bytes[middle + i] = static_cast<char>(rng());
    spit(path, bytes);
    expect_refused(path, "corrupt database");
  }

  void foreignSqliteFileIsRefused() {
    const std::string path = file("foreign.sqlite");
    sqlite3* other = nullptr;
    QCOMPARE(sqlite3_open(path.c_str(), &other), SQLITE_OK);
    QCOMPARE(
        sqlite3_exec(other,
                     "CREATE TABLE invoices (id INTEGER, total REAL); INSERT INTO invoices VALUES (1, 9.5)",
                     nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(other);
    expect_refused(path, "not a Parm Studio database");
    const std::string before = slurp(path);
    QVERIFY_THROWS_EXCEPTION(DbError, Database::open(path, false));
    QVERIFY(slurp(path) == before);
  }

  void newerSchemaIsRefused() {
    const std::string path = file("newer.parm");
    { Database::open(path, true); }
    sqlite3* raw = nullptr;
    QCOMPARE(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    QCOMPARE(sqlite3_exec(raw, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr),
             SQLITE_OK);
    sqlite3_close(raw);
    expect_refused(path, "schema version 99 is newer");
  }

  void emptyFileBecomesADatabaseOnlyWithCreate() {
    const std::string path = file("empty.parm");
    spit(path, "");
    QVERIFY_THROWS_EXCEPTION(DbError, Database::open(path, false));
    QCOMPARE(slurp(path).size(), std::size_t{0});
    Database db = Database::open(path, true);
    QVERIFY(db.runs().empty());
  }

  // WAL: a second connection sees only committed batches while a writer thread keeps adding them.
  void readerSeesCommittedBatchesOnly() {
    const std::string path = file("wal.parm");
    Database writer = Database::open(path, true);
    const std::int64_t run = writer.begin_run(run_info("wal", 1));
    const auto batch = make_events(writer, 1, 1000);

    // A transaction left open by the writer is invisible to the reader until committed.
    writer.add_events(run, batch);
    QCOMPARE(sqlite3_exec(writer.handle(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    writer.add_events(run, batch);
    Database reader = Database::open(path, false);
    QCOMPARE(reader.event_count(run), std::int64_t{1000});
    QCOMPARE(reader.events(run).size(), std::size_t{1000});
    QCOMPARE(sqlite3_exec(writer.handle(), "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    QCOMPARE(reader.event_count(run), std::int64_t{2000});

    std::atomic<bool> done{false};
    std::thread t([&] {
      for (int i = 0; i < 30; ++i) writer.add_events(run, batch);
      done = true;
    });
    std::int64_t last = 0;
    int reads = 0;
    while (!done || reads == 0) {
      const std::int64_t n = reader.event_count(run);
      QVERIFY2(n % 1000 == 0, qPrintable(QString::number(n)));
      QVERIFY(n >= last);
      last = n;
      ++reads;
    }
    t.join();
    QCOMPARE(reader.event_count(run), std::int64_t{32000});
  }

  // A writer killed with SIGKILL mid-batch leaves a file that opens: its run incomplete, earlier runs intact.
  void killedWriterLeavesReadableFile() {
    const std::string path = file("killed.parm");
    std::int64_t first = 0;
    {
      Database db = Database::open(path, true);
      first = db.begin_run(run_info("before", 2));
      db.add_events(first, make_events(db, 2, 500));
      db.finish_run(first);
    }
    int pipe_fds[2];
    QCOMPARE(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    QVERIFY(child >= 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      try {
        Database db = Database::open(path, false);
        const std::int64_t run = db.begin_run(run_info("killed", 2));
        const auto batch = make_events(db, 2, 5000);
        for (int i = 0;; ++i) {
          db.add_events(run, batch);
          const char c = 'x';
          if (::write(pipe_fds[1], &c, 1) != 1) ::_exit(3);
        }
      } catch (...) {
        ::_exit(2);
      }
    }
    ::close(pipe_fds[1]);
    char c = 0;
    for (int i = 0; i < 3; ++i) QCOMPARE(::read(pipe_fds[0], &c, 1), ssize_t{1});  // three batches committed
    ::kill(child, SIGKILL);
    int status = 0;
    QCOMPARE(::waitpid(child, &status, 0), child);
    QVERIFY(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ::close(pipe_fds[0]);

    Database db = Database::open(path, false);
    const auto runs = db.runs();
    QCOMPARE(runs.size(), std::size_t{2});
    QCOMPARE(runs[0].id, first);
    QVERIFY(runs[0].complete);
    QCOMPARE(db.event_count(first), std::int64_t{1000});
    QVERIFY(!runs[1].complete);
    QCOMPARE(runs[1].name, std::string("killed"));
    const std::int64_t n = db.event_count(runs[1].id);
    QVERIFY2(n >= 30000 && n % 10000 == 0, qPrintable(QString::number(n)));  // whole batches only
    sqlite3_stmt* s = nullptr;
    QCOMPARE(sqlite3_prepare_v2(db.handle(), "PRAGMA integrity_check", -1, &s, nullptr), SQLITE_OK);
    QCOMPARE(sqlite3_step(s), SQLITE_ROW);
    QCOMPARE(QString(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))), QString("ok"));
    sqlite3_finalize(s);
  }
};

QTEST_GUILESS_MAIN(TestDbDatabase)
#include "test_db_database.moc"
