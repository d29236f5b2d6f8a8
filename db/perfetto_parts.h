// Pieces of the Chrome trace JSON writer shared by perfetto_export.cpp (ops, collectives) and
// perfetto_gpu.cpp (GPU tracks); internal to db/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "db/database.h"
#include "db/text_writer.h"

namespace parm::db {

// A lane's track name when the run stored none: compute, intra-node, inter-node, else "lane N".
std::string perfetto_lane_name(int lane);

// Separates array elements: the first gets no comma.
struct Separator {
  bool first = true;
  const char* operator()() { return std::exchange(first, false) ? "\n" : ",\n"; }
};

inline void write_metadata(TextWriter& w, Separator& sep, const char* name, int pid, const int* tid,
                           std::string_view arg_key, std::string_view arg_json) {
  w << sep() << "{\"ph\":\"M\",\"name\":\"" << name << "\",\"pid\":" << pid;
  if (tid) w << ",\"tid\":" << *tid;
  w << ",\"args\":{\"" << arg_key << "\":" << arg_json << "}}";
}

// StringIds ids as quoted JSON strings, each looked up once.
class QuotedNames {
 public:
  explicit QuotedNames(const Database& db) : db_(db) {}
  const std::string& quoted(std::int32_t id) {
    auto it = cache_.find(id);
    if (it == cache_.end()) it = cache_.emplace(id, json_quote(db_.string(id))).first;
    return it->second;
  }

 private:
  const Database& db_;
  std::unordered_map<std::int32_t, std::string> cache_;
};

// The op slice a GPU operation was launched from: where its flow arrow starts, and what its args name.
struct LaunchingOp {
  std::int32_t lane = 0, schedule = 0, op = 0, iteration = 0, chunk = -1;
  std::int64_t start_ns = 0;
};

// The events.id values the run's GPU rows point at (empty for a project without GPU tables): the export keeps
// only these ops' slices in memory.
std::unordered_set<std::int64_t> launching_event_ids(const Database& db, std::int64_t run);

// The run's GPU tracks per rank, one per (device, stream) ("GPU 0 stream 13", tid 1000 + index, sorted after
// the rank's lanes): kernels, copies and memsets as "X" slices with their args, a "launch" flow arrow from
// the launching op's slice to each of its kernels. Streams the rows; writes the tracks' metadata too.
void write_gpu_tracks(const Database& db, std::int64_t run, TextWriter& w, Separator& sep, QuotedNames& names,
                      const std::unordered_map<std::int64_t, LaunchingOp>& ops);

// Per schedule (StringIds id): the run-origin start of its first measured iteration, earliest over every rank
// and lane (where its predicted tracks are placed).
using ScheduleStarts = std::unordered_map<std::int32_t, std::int64_t>;

// The parents of the ops on each rank's lane track: one slice per schedule and one per iteration ("S1
// iteration 3", args schedule and iteration), spanning that lane's own ops (earliest start, latest end), so
// a child never crosses its parent. A level whose slices would overlap on a track (ops of two iterations
// interleaved on one lane, as an import may have) is left out there. Written before the ops: Perfetto nests
// complete events of equal start in file order. Returns each schedule's measured start.
ScheduleStarts write_parent_slices(const Database& db, std::int64_t run, TextWriter& w, Separator& sep,
                                   QuotedNames& names);

// The run's stored predicted intervals as process "Predicted" (pid kPredictedPid), one thread per (schedule,
// lane) ("S1 compute"), each schedule shifted to its measured start (`starts`) so measured and predicted
// line up on one time axis; a schedule without measured ops (a prediction run) keeps the model's own time
// base (0 = the predicted layer's start). Writes the process and thread metadata too.
inline constexpr int kPredictedPid = 1000000;  // above every rank
void write_predicted_tracks(const Database& db, std::int64_t run, TextWriter& w, Separator& sep,
                            QuotedNames& names, const ScheduleStarts& starts);

}  // namespace parm::db
