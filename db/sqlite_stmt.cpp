#include "db/sqlite_stmt.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace parm::db {

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  return text;
}

std::string file_uri(const std::string& path, const char* query) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string uri = "file:";
  for (const unsigned char c : path) {
    if (std::isalnum(c) || std::strchr("/-._~", c)) {
      uri += static_cast<char>(c);
    } else {
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 15];
    }
  }
  return uri + "?" + query;
}

void throw_db_error(sqlite3* db, std::string_view what) {
  const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
  std::string line = (file && *file) ? std::string(file) + ": " : std::string();
  // A write refused by a read-only connection (or file system) says so, whatever the statement was.
  if (db && (sqlite3_extended_errcode(db) & 0xff) == SQLITE_READONLY)
    throw DbError(one_line(line + "read-only: cannot store the run"));
  if (db && (sqlite3_extended_errcode(db) & 0xff) == SQLITE_CORRUPT)
    throw DbError(one_line(line + "corrupt database (" + sqlite3_errmsg(db) + ")"));
  line += what;
  if (db) line += std::string(" (") + sqlite3_errmsg(db) + ")";
  throw DbError(one_line(std::move(line)));
}

void exec(sqlite3* db, const char* sql, std::string_view what) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    sqlite3_free(msg);
    throw_db_error(db, what.empty() ? std::string_view(sql) : what);
  }
}

Stmt::Stmt(sqlite3* db, std::string_view sql) : db_(db) {
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s_,
                         nullptr) != SQLITE_OK)
    throw_db_error(db, "cannot query the database");
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(s_);
    db_ = o.db_;
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

bool Stmt::step() {
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  sqlite3_reset(s_);
  if (rc == SQLITE_DONE) return false;
  throw_db_error(db_, sqlite3_stmt_readonly(s_) ? "cannot read the database" : "cannot write the database");
}

std::string Stmt::text(int col) const {
  return std::string(text_view(col));
}

std::string_view Stmt::text_view(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
           : std::string_view();
}

Transaction::Transaction(sqlite3* db) : db_(db) {
  exec(db, "SAVEPOINT parm_tx", "cannot begin a transaction");
}

Transaction::~Transaction() {
  if (!done_) {
    sqlite3_exec(db_, "ROLLBACK TO parm_tx", nullptr, nullptr, nullptr);
    sqlite3_exec(db_, "RELEASE parm_tx", nullptr, nullptr, nullptr);
  }
}

void Transaction::commit() {
  exec(db_, "RELEASE parm_tx", "cannot commit");
  done_ = true;
}

}  // namespace parm::db
