// The measured events of one run read the way a timeline draws them: each op kind of the run once
// (event_kinds), then the narrow per-occurrence table (event_spans) in its clustered (rank, start) order, the
// order rows need and half the columns of the `events` view. Plain structs, no Qt: the GUI's timeline loads
// through it on a worker thread (one connection per load).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "db/database.h"

namespace parm::db {

// One op of a run (what every occurrence shares). Name fields are StringIds ids (Database::string).
struct EventKindRow {
  std::int64_t id = 0;
  std::int32_t lane = 0;
  std::int32_t schedule = 0;
  std::int32_t phase = 0;
  std::int32_t op = 0;
  std::int32_t group = 0;
  std::int32_t purpose = 0;
  std::int32_t comm = -1;
  std::int32_t chunk = -1;
};

// One occurrence of an op kind: times as stored (run-origin ns).
struct EventSpanRow {
  std::int32_t rank = 0;
  std::int64_t kind = 0;  // EventKindRow::id
  std::int32_t iteration = 0;
  std::int64_t bytes = 0;
  std::int64_t seq = -1;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::int64_t id = 0;  // events.id: what GPU activity rows name as their launching op
};

// Every op kind of `run`, in no particular order. Throws DbError naming the file.
std::vector<EventKindRow> event_kinds(const Database& db, std::int64_t run);

// Calls `visit` for every span of `run` in (rank, start_ns) order, without building a vector of them (a run
// can hold millions). A span may name a kind not committed yet while the run is being written. Throws
// DbError.
void for_each_event_span(const Database& db, std::int64_t run,
                         const std::function<void(const EventSpanRow&)>& visit);

}  // namespace parm::db
