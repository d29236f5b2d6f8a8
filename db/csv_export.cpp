// One CSV row per event, strings resolved, in the order of Database::events.
#include <unordered_map>

#include "db/exporters.h"
#include "db/sqlite_stmt.h"
#include "db/text_writer.h"

namespace parm::db {

void export_csv(const Database& db, std::int64_t run, std::ostream& out) {
  if (!db.run(run)) throw DbError(db.path() + ": no run " + std::to_string(run));
  std::unordered_map<std::int32_t, std::string> fields;
  auto field = [&](std::int32_t id) -> const std::string& {
    auto it = fields.find(id);
    if (it == fields.end()) it = fields.emplace(id, csv_field(db.string(id))).first;
    return it->second;
  };
  TextWriter w(out);
  w << "run,rank,lane,schedule,iteration,phase,op,group,purpose,comm,chunk,bytes,seq,start_ns,end_ns\n";
  Stmt s(db.handle(),
         "SELECT rank, lane, schedule, iteration, phase, op, grp, purpose, comm, chunk, bytes, seq, "
         "start_ns, end_ns "
         "FROM events WHERE run = ? ORDER BY rank, lane, start_ns, id");
  s.bind(1, run);
  while (s.step()) {
    w << run << ',' << s.i32(0) << ',' << s.i32(1) << ',' << field(s.i32(2)) << ',' << s.i32(3) << ','
      << (s.i32(4) == 0 ? "fwd" : "bwd") << ',' << field(s.i32(5)) << ',' << field(s.i32(6)) << ','
      << field(s.i32(7)) << ',' << s.i32(8) << ',' << s.i32(9) << ',' << s.i64(10) << ',' << s.i64(11) << ','
      << s.i64(12) << ',' << s.i64(13) << '\n';
  }
  w.flush();
  if (!out) throw DbError("cannot write the CSV export of run " + std::to_string(run));
}

}  // namespace parm::db
