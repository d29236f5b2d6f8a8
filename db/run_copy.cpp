#include "db/run_copy.h"

#include <filesystem>
#include <set>
#include <string_view>
#include <utility>

#include "db/sqlite_stmt.h"

namespace parm::db {
namespace {

namespace fs = std::filesystem;

std::string sql_name(std::string_view name) {
  std::string out = "\"";
  for (char ch : name) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

// Columns holding StringIds ids: the copy points them at the destination's ids for the same text.
bool is_string_ref(const std::string& table, const std::string& column) {
  static const std::set<std::pair<std::string, std::string>> refs = {
      {"event_kinds", "schedule"},
      {"event_kinds", "op"},
      {"event_kinds", "grp"},
      {"event_kinds", "purpose"},
      {"predictions", "schedule"},
      {"predictions", "op"},
      {"predictions", "grp"},
      {"predictions", "purpose"},
      {"CUPTI_ACTIVITY_KIND_KERNEL", "demangledName"},
      {"CUPTI_ACTIVITY_KIND_KERNEL", "shortName"},
      {"CUPTI_ACTIVITY_KIND_KERNEL", "mangledName"},
      {"CUPTI_ACTIVITY_KIND_RUNTIME", "nameId"},
      {"NVTX_EVENTS", "textId"},
      {"NVTX_EVENTS", "jsonTextId"},
  };
  return refs.count({table, column}) > 0;
}

// Event ids are global in a project (event_ids): the copied ones, and the GPU rows naming them, move past it.
bool is_event_ref(const std::string& table, const std::string& column) {
  return (table == "event_spans" && column == "id") || column == "event";
}

struct Column {
  std::string name;
  bool rowid_alias = false;  // `id INTEGER PRIMARY KEY`: the destination gives a new one
};

std::vector<Column> columns_of(sqlite3* db, const char* schema, const std::string& table) {
  Stmt s(db,
         "SELECT name, upper(type), pk, (SELECT count(*) FROM pragma_table_info(?1, ?2) WHERE pk > 0) "
         "FROM pragma_table_info(?1, ?2) ORDER BY cid");
  s.bind(1, table).bind(2, std::string_view(schema));
  std::vector<Column> out;
  while (s.step()) out.push_back({s.text(0), s.text(1) == "INTEGER" && s.i64(2) == 1 && s.i64(3) == 1});
  return out;
}

std::vector<std::string> tables_of(sqlite3* db, const char* schema) {
  Stmt s(db, std::string("SELECT name FROM ") + schema +
                 ".sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

// The source attached to the destination's connection for the copy's life (ATTACH cannot run inside a
// transaction, so this wraps it).
class Attached {
 public:
  Attached(sqlite3* db, const std::string& path) : db_(db) {
    Stmt(db, "ATTACH DATABASE ? AS src").bind(1, path).run();
  }
  ~Attached() {
    sqlite3_exec(db_, "DROP TABLE IF EXISTS temp.run_map; DROP TABLE IF EXISTS temp.string_map", nullptr,
                 nullptr, nullptr);
    sqlite3_exec(db_, "DETACH DATABASE src", nullptr, nullptr, nullptr);
  }
  Attached(const Attached&) = delete;
  Attached& operator=(const Attached&) = delete;

 private:
  sqlite3* db_;
};

// Every row of `table` under a copied run: the common columns (an older source lacks some; the destination's
// defaults fill them), run ids mapped, event ids shifted, strings re-interned.
void copy_table(sqlite3* db, const std::string& table, std::int64_t event_shift) {
  const std::vector<Column> theirs = columns_of(db, "src", table);
  std::set<std::string> ours;
  for (const Column& c : columns_of(db, "main", table)) ours.insert(c.name);
  std::string names, values;
  bool has_run = false;
  for (const Column& c : theirs) {
    if (c.rowid_alias || !ours.count(c.name)) continue;
    std::string value = "t." + sql_name(c.name);
    if (c.name == "run") {
      has_run = true;
      value = "m.new";
    } else if (is_event_ref(table, c.name)) {
      value += " + " + std::to_string(event_shift);
    } else if (is_string_ref(table, c.name)) {
      value = "coalesce((SELECT new FROM temp.string_map WHERE old = " + value + "), " + value + ")";
    }
    names += (names.empty() ? "" : ", ") + sql_name(c.name);
    values += (values.empty() ? "" : ", ") + value;
  }
  if (!has_run) return;
  exec(db,
       ("INSERT INTO main." + sql_name(table) + " (" + names + ") SELECT " + values + " FROM src." +
        sql_name(table) + " AS t JOIN temp.run_map AS m ON m.old = t.run")
           .c_str(),
       "cannot copy " + table);
}

}  // namespace

void check_copy_source(const std::string& source, const std::string& destination_path) {
  std::error_code ec;
  if (fs::equivalent(source, destination_path, ec))
    throw DbError(source + ": is the project itself: nothing to copy");
  Database::open(source, false);  // refuses what is not a project, a damaged one or a newer parm's
}

std::vector<CopiedRun> copy_runs(Database& destination, const std::string& source) {
  check_copy_source(source, destination.path());
  sqlite3* db = destination.handle();
  Attached attached(db, source);
  Transaction tx(db);
  exec(db,
       "CREATE TEMP TABLE run_map (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);"
       "CREATE TEMP TABLE string_map (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);"
       "INSERT OR IGNORE INTO main.StringIds (value) SELECT value FROM src.StringIds;"
       "INSERT INTO temp.string_map SELECT s.id, m.id FROM src.StringIds AS s JOIN main.StringIds AS m "
       "ON m.value = s.value",
       "cannot copy the strings");

  // The runs first (their new ids are what every other row maps to), in the source's order.
  std::string names;
  for (const Column& c : columns_of(db, "src", "runs"))
    if (!c.rowid_alias) names += (names.empty() ? "" : ", ") + sql_name(c.name);
  Stmt insert_run(db,
                  "INSERT INTO main.runs (" + names + ") SELECT " + names + " FROM src.runs WHERE id = ?");
  Stmt map_run(db, "INSERT INTO temp.run_map (old, new) VALUES (?, ?)");
  std::vector<CopiedRun> copied;
  for (Stmt s(db, "SELECT id, name, complete FROM src.runs ORDER BY id"); s.step();) {
    CopiedRun r{s.i64(0), 0, s.text(1), s.i64(2) != 0};
    insert_run.bind(1, r.source_id).run();
    r.id = sqlite3_last_insert_rowid(db);
    map_run.bind(1, r.source_id).bind(2, r.id).run();
    copied.push_back(std::move(r));
  }

  std::int64_t shift = 0, last = -1;
  {
    Stmt next(db, "SELECT next FROM main.event_ids");
    Stmt range(db, "SELECT min(id), max(id) FROM src.event_spans");
    if (next.step() && range.step() && !range.is_null(0)) {
      shift = next.i64(0) - range.i64(0);
      last = range.i64(1) + shift;
    }
  }
  for (const std::string& table : tables_of(db, "src"))
    if (table != "runs") copy_table(db, table, shift);
  if (last >= 0) Stmt(db, "UPDATE main.event_ids SET next = ?").bind(1, last + 1).run();
  tx.commit();
  return copied;
}

}  // namespace parm::db
