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

}  // namespace parm::db
