#include "db/timeline_query.h"

#include "db/sqlite_stmt.h"

namespace parm::db {

std::vector<EventKindRow> event_kinds(const Database& db, std::int64_t run) {
  Stmt s(db.handle(),
         "SELECT id, lane, schedule, phase, op, grp, purpose, comm, chunk FROM event_kinds WHERE run = ?1");
  s.bind(1, run);
  std::vector<EventKindRow> out;
  while (s.step())
    out.push_back({s.i64(0), s.i32(1), s.i32(2), s.i32(3), s.i32(4), s.i32(5), s.i32(6), s.i32(7), s.i32(8)});
  return out;
}

void for_each_event_span(const Database& db, std::int64_t run,
                         const std::function<void(const EventSpanRow&)>& visit) {
  Stmt s(db.handle(),
         "SELECT rank, kind, iteration, bytes, seq, start_ns, end_ns, id FROM event_spans WHERE run = ?1 "
         "ORDER BY rank, start_ns");
  s.bind(1, run);
  EventSpanRow row;
  while (s.step()) {
    row.rank = s.i32(0);
    row.kind = s.i64(1);
    row.iteration = s.i32(2);
    row.bytes = s.i64(3);
    row.seq = s.i64(4);
    row.start_ns = s.i64(5);
    row.end_ns = s.i64(6);
    row.id = s.i64(7);
    visit(row);
  }
}

}  // namespace parm::db
