#include "engine/model/prediction_store.h"

#include <string>

namespace parm {

void store_predicted_intervals(db::Database& db, std::int64_t run,
                               const std::vector<TimelinePrediction>& timelines) {
  std::vector<db::EventRow> rows;
  for (const TimelinePrediction& t : timelines) {
    const std::int32_t sched = db.intern(std::string(to_string(t.kind)));
    for (const PredictedInterval& iv : t.intervals) {
      db::EventRow r;
      r.rank = 0;
      r.lane = static_cast<std::int32_t>(iv.lane);
      r.schedule = sched;
      r.iteration = 0;
      r.phase = iv.phase;
      r.op = db.intern(iv.name);
      r.group = db.intern(iv.group);
      r.purpose = db.intern(iv.purpose);
      r.chunk = iv.chunk;
      r.bytes = iv.bytes;
      r.start_ns = static_cast<std::int64_t>(iv.start_ms * 1e6);
      r.end_ns = static_cast<std::int64_t>(iv.end_ms * 1e6);
      rows.push_back(r);
    }
  }
  db.add_predictions(run, rows);
}

}  // namespace parm
