// Database::open: deciding what a file is and connecting to it. Every refusal is one line naming the file,
// the file is never modified before it is known to be ours, and no descriptor of the file is opened outside
// SQLite (see file_probe.h): a second descriptor closed in a process that holds a connection drops its locks.
#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "db/database.h"
#include "db/file_probe.h"
#include "db/schema_migration.h"
#include "db/sqlite_stmt.h"

namespace parm::db {
namespace {

// Closes the handle unless released: every refusal in open() must leave no connection behind.
struct HandleGuard {
  sqlite3* db = nullptr;
  ~HandleGuard() { sqlite3_close_v2(db); }
  sqlite3* release() { return std::exchange(db, nullptr); }
};

std::string read_only_line(const std::string& path) {
  return path + ": read-only (the file, its folder or its file system is not writable): cannot store the run";
}

void check_open(int rc, sqlite3* db, const std::string& path) {
  if (rc != SQLITE_OK)
    throw DbError(one_line(path + ": cannot open (" + (db ? sqlite3_errmsg(db) : "out of memory") + ")"));
}

// How long a connection waits for another process's lock (a writer's commit, the last connection's checkpoint
// as it closes) before giving up.
constexpr int kBusyTimeoutMs = 10'000;

// A lock held past the timeout is another process at work, never damage: said as such.
[[noreturn]] void refuse_locked(const std::string& path) {
  throw DbError(path + ": locked by another process for over " + std::to_string(kBusyTimeoutMs / 1000) +
                " s (database is locked); try again when it is done");
}

bool locked(sqlite3* db) {
  const int code = sqlite3_extended_errcode(db) & 0xff;
  return code == SQLITE_BUSY || code == SQLITE_LOCKED;
}

// Quick check of what SQLite can read; empty when the file is sound, else SQLite's first finding. Called with
// the busy timeout set: a connection opened while another process checkpoints waits for it instead of
// reading "database is locked" as a damaged file.
std::string integrity_problem(sqlite3* db, const std::string& path) {
  sqlite3_stmt* s = nullptr;
  std::string problem;
  if (sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &s, nullptr) != SQLITE_OK) {
    problem = sqlite3_errmsg(db);
  } else if (sqlite3_step(s) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    if (!text || std::strcmp(text, "ok") != 0) problem = text ? text : "quick_check failed";
  } else {
    problem = sqlite3_errmsg(db);
  }
  const bool busy = !problem.empty() && locked(db);
  sqlite3_finalize(s);
  if (busy) refuse_locked(path);
  return problem;
}

[[noreturn]] void refuse_damaged(const std::string& path, const FileProbe& probe,
                                 const std::string& problem) {
  if (probe.header_bytes > probe.size)
    throw DbError(path + ": truncated database (" + std::to_string(probe.size) + " of the " +
                  std::to_string(probe.header_bytes) + " bytes its header states; the file was cut short)");
  throw DbError(one_line(path + ": corrupt database (" + problem + ")"));
}

// A read-only connection that creates nothing beside the file: mode=ro while a -wal exists (it may hold
// commits the file lacks), immutable=1 otherwise (no -shm can be made in a read-only folder). Returns the
// connection and SQLite's finding when even that cannot read the file.
sqlite3* connect_read_only(const std::string& path, std::string& problem) {
  const bool wal_beside = probe_file(path + "-wal").kind != FileKind::Missing;
  for (const char* query : {"mode=ro", "immutable=1"}) {
    if (std::strcmp(query, "mode=ro") == 0 && !wal_beside) continue;
    HandleGuard guard;
    const int rc = sqlite3_open_v2(file_uri(path, query).c_str(), &guard.db,
                                   SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
    check_open(rc, guard.db, path);
    sqlite3_extended_result_codes(guard.db, 1);
    sqlite3_busy_timeout(guard.db, kBusyTimeoutMs);
    problem = integrity_problem(guard.db, path);
    if (problem.empty()) return guard.release();
  }
  return nullptr;
}

std::vector<std::string> column_names(sqlite3* db, const std::string& table) {
  Stmt s(db, "SELECT name FROM pragma_table_info(?)");
  s.bind(1, table);
  std::vector<std::string> names;
  while (s.step()) names.push_back(s.text(0));
  return names;
}

std::string join(const std::vector<std::string>& names, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < max; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > max) out += ", ...";
  return out;
}

// The file's schema version; refuses a missing or newer one.
int check_schema_version(sqlite3* db, const std::string& path) {
  sqlite3_stmt* s = nullptr;
  std::int64_t version = -1;
  if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &s, nullptr) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
    version = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  if (version < 1)
    throw DbError(path + ": not a Parm Studio database (schema_version table without a valid version)");
  if (version > kSchemaVersion)
    throw DbError(path + ": schema version " + std::to_string(version) +
                  " is newer than this parm supports (" + std::to_string(kSchemaVersion) +
                  "); use a newer parm");
  return static_cast<int>(version);
}

// Every table (with every column) and view of the schema (current_schema(): read back from the DDL, so the
// check never drifts from it): a file missing one is named for what it misses, before a query would fail on
// it with raw SQL. What a later schema step adds may be missing from an older file (`version`).
void check_complete(sqlite3* db, const std::string& path, const std::vector<std::string>& tables,
                    const std::vector<std::string>& views, int version) {
  const auto has = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  const std::string incomplete = path + ": an incomplete Parm Studio database (missing ";
  for (const SchemaObject& o : current_schema()) {
    if (o.since > version) continue;
    if (o.view) {
      if (!has(views, o.name)) throw DbError(incomplete + "view " + o.name + ")");
      continue;
    }
    if (!has(tables, o.name)) throw DbError(incomplete + "table " + o.name + ")");
    const std::vector<std::string> columns = column_names(db, o.name);
    for (const auto& [c, since] : o.columns)
      if (since <= version && !has(columns, c))
        throw DbError(incomplete + "column " + o.name + "." + c + ")");
  }
}

// The file's tables and views; a file SQLite cannot list is damaged.
void list_schema(sqlite3* db, const std::string& path, const FileProbe& probe,
                 std::vector<std::string>& tables, std::vector<std::string>& views) {
  try {
    Stmt s(db, "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name");
    while (s.step()) (s.text(0) == "view" ? views : tables).push_back(s.text(1));
  } catch (const DbError&) {
    if (locked(db)) refuse_locked(path);
    refuse_damaged(path, probe, sqlite3_errmsg(db));
  }
}

// What the path holds, refused in one line unless it may be (or, with `create`, become) a project.
FileProbe probe_or_refuse(const std::string& path, bool create) {
  if (path.empty()) throw DbError("an empty path is not a project file: name the .sqlite file");
  FileProbe probe = probe_file(path);
  switch (probe.kind) {
    case FileKind::Missing:
      if (!create) throw DbError(path + ": no such file");
      if (!can_create_beside(path))
        throw DbError(path + ": read-only folder (or no such folder): cannot create the project");
      break;
    case FileKind::Directory:
      throw DbError(path + ": is a directory, not a database file");
    case FileKind::NotRegular:
      throw DbError(path + ": not a regular file (a pipe or a device), not a database file");
    case FileKind::Unreadable:
      throw DbError(path + ": cannot read the file (" + probe.error + ")");
    case FileKind::Empty:
      if (!create) throw DbError(path + ": empty file, not a Parm Studio database");
      break;
    case FileKind::NotSqlite:
      throw DbError(path + ": not an SQLite database");
    case FileKind::Sqlite:
      if (probe.size < 100)
        throw DbError(path + ": truncated database (" + std::to_string(probe.size) + " bytes)");
      break;
  }
  return probe;
}

}  // namespace

Database Database::open(const std::string& path, bool create) {
  const FileProbe probe = probe_or_refuse(path, create);
  const bool exists = probe.kind != FileKind::Missing;
  const bool writable = !exists || (can_write_file(path) && can_create_beside(path));
  if (create && !writable) throw DbError(read_only_line(path));

  HandleGuard guard;
  if (writable) {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    check_open(sqlite3_open_v2(path.c_str(), &guard.db, flags, nullptr), guard.db, path);
    sqlite3_extended_result_codes(guard.db, 1);
    sqlite3_busy_timeout(guard.db, kBusyTimeoutMs);
    if (probe.size > 0)
      if (const std::string problem = integrity_problem(guard.db, path); !problem.empty())
        refuse_damaged(path, probe, problem);
  } else {
    std::string problem;
    guard.db = connect_read_only(path, problem);
    if (!guard.db) refuse_damaged(path, probe, problem);
  }

  std::vector<std::string> tables, views;
  list_schema(guard.db, path, probe, tables, views);
  const bool ours = std::find(tables.begin(), tables.end(), "schema_version") != tables.end();
  int version = kSchemaVersion;
  if (ours) {
    version = check_schema_version(guard.db, path);
    check_complete(guard.db, path, tables, views, version);
  } else if (!tables.empty()) {
    throw DbError(path + ": not a Parm Studio database (no schema_version table; has " + join(tables, 5) +
                  ")");
  } else if (!create) {
    throw DbError(path + ": empty SQLite database, not a Parm Studio database");
  }

  if (!writable) return Database(guard.release(), path, true);
  // Only now that the file is known to be ours (or new) may anything write to it.
  // Larger pages: fewer b-tree splits and page writes per event row; only settable before the first table.
  if (!ours) exec(guard.db, "PRAGMA page_size = 16384");
  exec(guard.db, "PRAGMA journal_mode = WAL", "cannot switch to WAL");
  exec(guard.db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536");
  if (!ours) {
    Transaction tx(guard.db);
    create_schema(guard.db);
    Stmt v(guard.db, "INSERT INTO schema_version (version, created_by) VALUES (?, 'parm 0.1.0')");
    v.bind(1, std::int64_t{kSchemaVersion}).run();
    tx.commit();
  } else if (version < kSchemaVersion) {  // an older parm's project: upgraded in place, its rows kept
    Transaction tx(guard.db);
    migrate_schema(guard.db, version);
    tx.commit();
  }
  return Database(guard.release(), path, false);
}

void Database::check_can_store(const std::string& path) {
  if (path.empty()) throw DbError("an empty path is not a project file: name the .sqlite file");
  const FileProbe probe = probe_or_refuse(path, true);
  if (probe.kind == FileKind::Missing) return;  // created when the run is stored
  if (!can_write_file(path) || !can_create_beside(path)) throw DbError(read_only_line(path));
  Database::open(path, true);  // refuses what is not (or cannot become) a project; closed at once
}

}  // namespace parm::db
