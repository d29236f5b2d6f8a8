// Small RAII wrappers over the sqlite3 C API shared by the files of db/. Every failure becomes a DbError
// whose one line names the file, so callers never see raw SQLite codes.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "db/database.h"

namespace parm::db {

// "FILE: what (sqlite message)" on one line.
[[noreturn]] void throw_db_error(sqlite3* db, std::string_view what);
std::string one_line(std::string text);
// "file:" URI of `path` (every byte URIs reserve percent-encoded) with `query` ("mode=ro", "immutable=1").
std::string file_uri(const std::string& path, const char* query);

// Runs `sql` (one or more statements, no results); throws DbError naming `what` on failure.
void exec(sqlite3* db, const char* sql, std::string_view what = {});

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, std::string_view sql);
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }

  sqlite3_stmt* get() const { return s_; }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // True while a row is available; throws on error. Resets itself after SQLITE_DONE so it can run again.
  bool step();
  void run() {
    while (step()) {
    }
  }
  void reset() { sqlite3_reset(s_); }

  std::int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  int i32(int col) const { return sqlite3_column_int(s_, col); }
  double f64(int col) const { return sqlite3_column_double(s_, col); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string text(int col) const;
  std::string_view text_view(int col) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
};

// SAVEPOINT-based transaction: nests inside a caller's BEGIN; rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(sqlite3* db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  sqlite3* db_;
  bool done_ = false;
};

}  // namespace parm::db
