#include "db/run_queries.h"

#include "db/sqlite_stmt.h"

namespace parm::db {

std::optional<std::int64_t> latest_run_of_kind(const Database& db, std::string_view kind,
                                               bool complete_only) {
  Stmt s(db.handle(), "SELECT max(id) FROM runs WHERE kind = ?1 AND (complete = 1 OR ?2 = 0)");
  s.bind(1, kind).bind(2, std::int64_t{complete_only ? 1 : 0});
  std::optional<std::int64_t> id;
  if (s.step() && !s.is_null(0)) id = s.i64(0);
  s.reset();
  return id;
}

}  // namespace parm::db
