// One run as a standalone Nsight Systems-shaped SQLite file: only nsys' tables and columns (our run, rank and
// event columns left out), the rows of that run, the strings they reference. Times are copied as stored: ns
// relative to the run origin, which is the session start (TARGET_INFO_SESSION_START_TIME), as nsys stores
// them. Each rank becomes its own process: globalPid = pid << 24 with the rank's stored process id, or a free
// number where two ranks shared a process (threads as ranks) or none was stored, so ranks stay apart in nsys'
// model. Written to a temporary file beside the output and renamed into place: never half a file under the
// name.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

#include "db/exporters.h"
#include "db/gpu_activity.h"
#include "db/schema_migration.h"
#include "db/sqlite_stmt.h"

namespace parm::db {
namespace {

constexpr std::int64_t kTidMask = 0xFFFFFF;  // globalTid = (pid << 24) | tid

// nsys' tables, in the order written.
constexpr const char* kNsysTables[] = {
    "TARGET_INFO_SESSION_START_TIME",
    "PROCESSES",
    "TARGET_INFO_GPU",
    "CUPTI_ACTIVITY_KIND_KERNEL",
    "CUPTI_ACTIVITY_KIND_MEMCPY",
    "CUPTI_ACTIVITY_KIND_MEMSET",
    "CUPTI_ACTIVITY_KIND_RUNTIME",
    "NVTX_EVENTS",
};
bool is_ours(const std::string& column) {
  return column == "run" || column == "rank" || column == "event";
}
bool is_string_ref(const std::string& column) {
  return column == "demangledName" || column == "shortName" || column == "mangledName" ||
         column == "nameId" || column == "textId" || column == "jsonTextId";
}

struct Column {
  std::string name, type;
  bool not_null = false, primary_key = false;
};

// Each nsys table's columns as our schema declares them (read back from the DDL), ours left out.
const std::map<std::string, std::vector<Column>>& nsys_columns() {
  static const std::map<std::string, std::vector<Column>> tables = [] {
    sqlite3* memory = nullptr;
    sqlite3_open_v2(":memory:", &memory, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    std::map<std::string, std::vector<Column>> out;
    try {
      create_schema(memory);
      for (const char* table : kNsysTables) {
        Stmt s(memory, "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?)");
        s.bind(1, std::string_view(table));
        while (s.step())
          if (!is_ours(s.text(0))) out[table].push_back({s.text(0), s.text(1), s.i64(2) != 0, s.i64(3) != 0});
      }
    } catch (...) {
      sqlite3_close_v2(memory);
      throw;
    }
    sqlite3_close_v2(memory);
    return out;
  }();
  return tables;
}

std::string create_sql(const std::string& table, const std::vector<Column>& columns) {
  std::string sql = "CREATE TABLE " + table + " (";
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const Column& c = columns[i];
    sql += (i ? ", " : "") + c.name + " " + c.type + (c.primary_key ? " PRIMARY KEY" : "") +
           (c.not_null && !c.primary_key ? " NOT NULL" : "");
  }
  return sql + ")";
}

// The process id each rank is exported under: its stored one unless 0 or taken by another rank.
std::map<int, std::int64_t> pids_of_ranks(const Database& db, std::int64_t run) {
  std::map<int, std::int64_t> stored;
  for (const RankInfo& r : db.ranks(run)) stored[r.rank] = 0;
  Stmt s(db.handle(), "SELECT rank, process_id FROM gpu_captures WHERE run = ?");
  s.bind(1, run);
  while (s.step()) stored[s.i32(0)] = s.i64(1);
  Stmt k(db.handle(),
         "SELECT DISTINCT rank FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE run = ? UNION SELECT DISTINCT rank FROM "
         "NVTX_EVENTS WHERE run = ?");
  k.bind(1, run).bind(2, run);
  while (k.step()) stored.emplace(k.i32(0), 0);
  // A shared process id gives way to a number above every stored one, so ranks keep their order by pid (an
  // import numbers ranks in globalPid order); no stored id at all: rank + 1.
  std::int64_t highest = 0;
  for (const auto& [rank, pid] : stored) highest = std::max(highest, pid);
  std::set<std::int64_t> used;
  std::map<int, std::int64_t> out;
  for (const auto& [rank, pid] : stored) {
    const std::int64_t fallback = (pid > 0 ? highest + 1 : 0) + rank + 1;
    std::int64_t chosen = pid > 0 && pid <= kTidMask && !used.count(pid) ? pid : fallback;
    while (used.count(chosen)) ++chosen;
    used.insert(chosen);
    out[rank] = chosen;
  }
  return out;
}

class NsysWriter {
 public:
  NsysWriter(const Database& db, std::int64_t run, sqlite3* out) : db_(db), run_(run), out_(out) {
    pids_ = pids_of_ranks(db, run);
  }

  void write() {
    exec(out_, "BEGIN");
    const auto& tables = nsys_columns();
    exec(out_,
         create_sql("StringIds", {{"id", "INTEGER", true, true}, {"value", "TEXT", true, false}}).c_str());
    for (const char* table : kNsysTables) exec(out_, create_sql(table, tables.at(table)).c_str());
    for (const char* table : kNsysTables) copy(table, tables.at(table));
    Stmt read(db_.handle(), "SELECT value FROM StringIds WHERE id = ?");
    Stmt write(out_, "INSERT INTO StringIds (id, value) VALUES (?, ?)");
    for (std::int64_t id : strings_) {
      read.bind(1, id);
      if (read.step()) write.bind(1, id).bind(2, read.text_view(0)).run();
      read.reset();
    }
    exec(out_, "COMMIT");
  }

 private:
  std::int64_t pid_of(int rank) const {
    const auto it = pids_.find(rank);
    return it != pids_.end() ? it->second : rank + 1;
  }

  void copy(const std::string& table, const std::vector<Column>& columns) {
    const bool ranked = table != "TARGET_INFO_SESSION_START_TIME";
    std::string select = "SELECT ", insert = "INSERT INTO " + table + " (", params;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      select += (i ? ", " : "") + columns[i].name;
      insert += (i ? ", " : "") + columns[i].name;
      params += i ? ",?" : "?";
    }
    select += std::string(ranked ? ", rank" : ", 0") + " FROM " + table + " WHERE run = ? ORDER BY rowid";
    Stmt from(db_.handle(), select);
    Stmt to(out_, insert + ") VALUES (" + params + ")");
    from.bind(1, run_);
    const int rank_column = static_cast<int>(columns.size());
    while (from.step()) {
      const std::int64_t pid = pid_of(from.i32(rank_column));
      for (int c = 0; c < rank_column; ++c) {
        const std::string& name = columns[c].name;
        sqlite3_value* v = sqlite3_column_value(from.get(), c);
        if (sqlite3_value_type(v) == SQLITE_NULL) {
          sqlite3_bind_null(to.get(), c + 1);
        } else if (name == "globalPid") {
          to.bind(c + 1, pid << 24);
        } else if (name == "pid" && table == "PROCESSES") {
          to.bind(c + 1, pid);
        } else if (name == "globalTid" || name == "endGlobalTid") {
          to.bind(c + 1, (pid << 24) | (from.i64(c) & kTidMask));
        } else {
          if (is_string_ref(name)) strings_.insert(from.i64(c));
          sqlite3_bind_value(to.get(), c + 1, v);
        }
      }
      to.run();
    }
  }

  const Database& db_;
  std::int64_t run_;
  sqlite3* out_;
  std::map<int, std::int64_t> pids_;
  std::set<std::int64_t> strings_;
};

}  // namespace

void export_nsys(const Database& db, std::int64_t run, const std::string& out_path) {
  if (!db.run(run)) throw DbError(db.path() + ": no run " + std::to_string(run));
  if (!has_gpu_tables(db))
    throw DbError(db.path() +
                  ": a project of an older schema (no GPU activity tables): nothing to export as "
                  "nsys; open it once with a writing command to upgrade it");
  std::error_code ec;
  if (out_path.empty()) throw DbError("an empty path is no output file: name the .sqlite file");
  if (std::filesystem::symlink_status(out_path, ec).type() != std::filesystem::file_type::not_found)
    throw DbError(out_path + ": exists; the nsys export writes a new file (remove it or name another)");
  const std::string partial = out_path + ".partial-" + std::to_string(::getpid());
  const auto discard = [&] {
    std::filesystem::remove(partial, ec);
    std::filesystem::remove(partial + "-journal", ec);
  };
  discard();
  sqlite3* out = nullptr;
  if (sqlite3_open_v2(partial.c_str(), &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    const std::string why = out ? sqlite3_errmsg(out) : "out of memory";
    sqlite3_close_v2(out);
    discard();
    throw DbError(one_line(out_path + ": cannot create (" + why + ")"));
  }
  try {
    exec(out, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF");
    NsysWriter(db, run, out).write();
  } catch (...) {
    sqlite3_close_v2(out);
    discard();
    throw;
  }
  const bool closed = sqlite3_close(out) == SQLITE_OK;
  // link() + unlink(): unlike rename, never replaces a file that appeared under the name meanwhile; rename
  // where the file system has no hard links.
  bool placed = closed && ::link(partial.c_str(), out_path.c_str()) == 0;
  if (closed && !placed && (errno == EPERM || errno == EOPNOTSUPP || errno == EMLINK) &&
      !std::filesystem::exists(out_path, ec)) {
    std::filesystem::rename(partial, out_path, ec);
    placed = !ec;
    if (ec) errno = ec.value();
  }
  if (!placed) {
    const std::string why = closed ? std::generic_category().message(errno) : "cannot close the file";
    discard();
    throw DbError(one_line(out_path + ": cannot write the nsys export (" + why + ")"));
  }
  discard();
}

}  // namespace parm::db
