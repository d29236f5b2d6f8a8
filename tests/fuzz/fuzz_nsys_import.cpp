// libFuzzer target: db::import_nsys on a hostile Nsight Systems export, imported into a Parm project.
// Two kinds of input, told apart by SQLite's 16-byte header:
// - a whole file ("SQLite format 3\0..."): its bytes are the export, so damaged pages and headers are tried;
// - anything else is SQL text run over an empty export (nsys_schema.sql) before the import, so the fuzzer
//   reaches odd values, missing tables and columns, wrong types and many rows without rediscovering the
//   file format. That SQL runs with attaching, pragmas and VACUUM (which could write files elsewhere) refused
//   and a budget of VM steps, pages and value sizes, so one input stays well under a second.
// A refusal (db::DbError, one line) is fine; any other exception, a crash, a leak or a sanitizer report is a
// bug.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "db/database.h"
#include "db/exporters.h"

namespace {

namespace fs = std::filesystem;

constexpr char kEmptyExport[] =
#include "nsys_schema.inc"
    ;
constexpr std::string_view kSqliteHeader("SQLite format 3\0", 16);
constexpr int kStepBudget = 2000;  // progress callbacks of 1000 VM steps each

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_nsys_import: %s\n", what.c_str());
  std::abort();
}

// One folder per process under TMPDIR (scripts/fuzz.sh points it into its scratch folder). The empty export
// is made once and copied for every SQL input. One project takes the imports of kImportsPerProject inputs
// before a fresh one replaces it: opening a project costs more than an import (it prepares every statement),
// and a bounded project keeps each import's work the same. (A finding is replayed on a new project.)
constexpr int kImportsPerProject = 256;

struct Scratch {
  fs::path dir, empty_export, project, source;
  std::optional<parm::db::Database> open_project;
  int imports = 0;

  Scratch() {
    std::string tmpl = (fs::temp_directory_path() / "parm-fuzz-nsys-XXXXXX").string();
    if (!mkdtemp(tmpl.data()))
      fail("cannot create a scratch folder under " + fs::temp_directory_path().string());
    dir = tmpl;
    empty_export = dir / "empty-export.sqlite";
    project = dir / "project.sqlite";
    source = dir / "export.sqlite";
    make_empty_export();
  }
  ~Scratch() {
    open_project.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  parm::db::Database& fresh_enough_project() {
    if (!open_project || imports == kImportsPerProject) {
      open_project.reset();
      remove_database(project);
      open_project.emplace(parm::db::Database::open(project.string(), true));
      imports = 0;
    }
    ++imports;
    return *open_project;
  }

  static void remove_database(const fs::path& path) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path.string() + suffix, ec);
  }

 private:
  void make_empty_export() const {
    sqlite3* db = nullptr;
    char* error = nullptr;
    if (sqlite3_open(empty_export.c_str(), &db) != SQLITE_OK ||
        sqlite3_exec(db, kEmptyExport, nullptr, nullptr, &error) != SQLITE_OK)
      fail(std::string("cannot create the empty export: ") + (error ? error : sqlite3_errmsg(db)));
    sqlite3_close(db);
  }
};

Scratch& scratch() {
  static Scratch s;
  return s;
}

bool mentions(std::string_view text, std::string_view word) {
  return std::search(text.begin(), text.end(), word.begin(), word.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         }) != text.end();
}

int deny_file_access(void*, int action, const char*, const char*, const char*, const char*) {
  return action == SQLITE_ATTACH || action == SQLITE_DETACH || action == SQLITE_PRAGMA ? SQLITE_DENY
                                                                                       : SQLITE_OK;
}

int stop_after_budget(void* calls) {
  return ++*static_cast<int*>(calls) > kStepBudget;
}

// The empty export with `sql` applied as far as it runs (a statement that fails ends it, which is fine: what
// ran so far is the export). False when the input is not worth importing.
bool write_export_from_sql(const Scratch& s, std::string_view sql) {
  if (mentions(sql, "vacuum") || mentions(sql, "attach") || sql.find('\0') != std::string_view::npos)
    return false;
  fs::copy_file(s.empty_export, s.source, fs::copy_options::overwrite_existing);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(s.source.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
    fail(std::string("cannot open the export: ") + sqlite3_errmsg(db));
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  if (sqlite3_exec(db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA max_page_count = 4096;",
                   nullptr, nullptr, nullptr) != SQLITE_OK)
    fail(std::string("cannot set up the export: ") + sqlite3_errmsg(db));
  sqlite3_set_authorizer(db, deny_file_access, nullptr);
  int calls = 0;
  sqlite3_progress_handler(db, 1000, stop_after_budget, &calls);
  sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, nullptr);  // a failure ends the script
  if (sqlite3_close(db) != SQLITE_OK) fail("the export's connection did not close");
  return true;
}

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) fail("cannot write " + path.string());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Scratch& s = scratch();
  s.remove_database(s.source);
  if (input.starts_with(kSqliteHeader)) {
    write_file(s.source, input);
  } else if (!write_export_from_sql(s, input)) {
    return 0;
  }
  try {
    parm::db::import_nsys(s.fresh_enough_project(), s.source.string());
  } catch (const parm::db::DbError& refused) {
    const std::string_view line(refused.what());
    if (line.empty() || line.find('\n') != std::string_view::npos)
      fail("a refusal that is not one line: '" + std::string(line) + "'");
  }
  return 0;
}
