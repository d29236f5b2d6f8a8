#include "db/database.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <ctime>
#include <unordered_map>
#include <utility>

#include "db/sqlite_stmt.h"

namespace parm::db {
namespace {

constexpr char kRunColumns[] =
    "id, name, kind, started_at, backend, ranks, complete, config_json, result_json, origin_ns";

RunInfo read_run(const Stmt& s) {
  RunInfo r;
  r.id = s.i64(0);
  r.name = s.text(1);
  r.kind = s.text(2);
  r.started_at = s.text(3);
  r.backend = s.text(4);
  r.ranks = s.i32(5);
  r.complete = s.i64(6) != 0;
  r.config_json = s.text(7);
  r.result_json = s.text(8);
  r.origin_ns = s.i64(9);
  return r;
}

constexpr int kEventColumns = 9;
constexpr std::size_t kEventsPerInsert = 256;  // 2304 parameters: SQLite >= 3.32 allows 32766

std::string insert_events_sql(std::size_t rows) {
  std::string sql =
      "INSERT INTO event_spans (id, run, rank, kind, iteration, bytes, seq, start_ns, end_ns) VALUES ";
  for (std::size_t r = 0; r < rows; ++r) sql += r ? ",(?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?)";
  return sql;
}

// The per-op part of an event, stored once per run in event_kinds.
using KindKey = std::array<std::int32_t, 8>;
struct KindKeyHash {
  std::size_t operator()(const KindKey& k) const {
    std::size_t h = 0;
    for (std::int32_t v : k) h = h * 1000003u ^ static_cast<std::uint32_t>(v);
    return h;
  }
};
KindKey kind_of(const EventRow& e) {
  return {e.lane, e.schedule, e.phase, e.op, e.group, e.purpose, e.comm, e.chunk};
}

std::string utc_now_iso() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

struct Database::Cache {
  Stmt insert_event, insert_events, reserve_ids, find_string, insert_string, string_by_id;
  Stmt insert_kind, load_kinds;
  std::int64_t kinds_run = -1;  // the run whose kinds are in `kinds`
  std::unordered_map<KindKey, std::int32_t, KindKeyHash> kinds;
  std::unordered_map<std::string, std::int32_t> ids;
  std::unordered_map<std::int32_t, std::string> texts;
};

Database::Database(sqlite3* db, std::string path, bool read_only)
    : db_(db), path_(std::move(path)), read_only_(read_only), cache_(std::make_unique<Cache>()) {
  Cache& c = *cache_;
  c.insert_event = Stmt(db_, insert_events_sql(1));
  c.insert_events = Stmt(db_, insert_events_sql(kEventsPerInsert));
  // UPDATE first: it takes the write lock, so no other writer can reserve the same ids in between.
  c.reserve_ids = Stmt(db_, "UPDATE event_ids SET next = next + ? RETURNING next - ?");
  c.find_string = Stmt(db_, "SELECT id FROM StringIds WHERE value = ?");
  c.insert_string = Stmt(db_, "INSERT OR IGNORE INTO StringIds (value) VALUES (?)");
  c.string_by_id = Stmt(db_, "SELECT value FROM StringIds WHERE id = ?");
  c.insert_kind =
      Stmt(db_,
           "INSERT INTO event_kinds (run, id, lane, schedule, phase, op, grp, purpose, comm, chunk) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  c.load_kinds = Stmt(
      db_, "SELECT id, lane, schedule, phase, op, grp, purpose, comm, chunk FROM event_kinds WHERE run = ?");
}

Database::Database(Database&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)),
      path_(std::move(o.path_)),
      read_only_(o.read_only_),
      cache_(std::move(o.cache_)) {}

Database& Database::operator=(Database&& o) noexcept {
  if (this != &o) {
    cache_.reset();
    sqlite3_close_v2(db_);
    db_ = std::exchange(o.db_, nullptr);
    path_ = std::move(o.path_);
    read_only_ = o.read_only_;
    cache_ = std::move(o.cache_);
  }
  return *this;
}

Database::~Database() {
  cache_.reset();  // statements first, or the close would be deferred
  sqlite3_close_v2(db_);
}

std::int64_t Database::begin_run(const RunInfo& run) {
  Stmt s(db_,
         "INSERT INTO runs (name, kind, started_at, backend, ranks, complete, config_json, result_json, "
         "origin_ns) "
         "VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)");
  s.bind(1, run.name)
      .bind(2, run.kind.empty() ? std::string_view("measured") : std::string_view(run.kind))
      .bind(3, run.started_at.empty() ? utc_now_iso() : run.started_at)
      .bind(4, run.backend)
      .bind(5, std::int64_t{run.ranks})
      .bind(6, run.config_json)
      .bind(7, run.result_json)
      .bind(8, run.origin_ns)
      .run();
  return sqlite3_last_insert_rowid(db_);
}

void Database::set_result(std::int64_t run, const std::string& result_json) {
  Stmt s(db_, "UPDATE runs SET result_json = ? WHERE id = ?");
  s.bind(1, result_json).bind(2, run).run();
  if (sqlite3_changes(db_) != 1) throw DbError(path_ + ": no run " + std::to_string(run));
}

void Database::finish_run(std::int64_t run) {
  Stmt s(db_, "UPDATE runs SET complete = 1 WHERE id = ?");
  s.bind(1, run).run();
  if (sqlite3_changes(db_) != 1) throw DbError(path_ + ": no run " + std::to_string(run));
}

std::int32_t Database::intern(std::string_view text) {
  Cache& c = *cache_;
  const std::string key(text);
  if (auto it = c.ids.find(key); it != c.ids.end()) return it->second;
  c.find_string.reset();
  c.find_string.bind(1, text);
  if (!c.find_string.step()) {
    c.insert_string.reset();
    c.insert_string.bind(1, text).run();
    c.find_string.reset();
    c.find_string.bind(1, text);
    if (!c.find_string.step()) throw_db_error(db_, "cannot intern a string");
  }
  const auto id = static_cast<std::int32_t>(c.find_string.i64(0));
  c.find_string.reset();
  c.ids.emplace(key, id);
  c.texts.emplace(id, key);
  return id;
}

std::string Database::string(std::int32_t id) const {
  Cache& c = *cache_;
  if (auto it = c.texts.find(id); it != c.texts.end()) return it->second;
  c.string_by_id.reset();
  c.string_by_id.bind(1, std::int64_t{id});
  std::string text;
  if (c.string_by_id.step()) {
    text = c.string_by_id.text(0);
    c.string_by_id.reset();
    c.texts.emplace(id, text);
  }
  return text;
}

void Database::add_ranks(std::int64_t run, const std::vector<RankInfo>& ranks) {
  Transaction tx(db_);
  Stmt s(db_,
         "INSERT OR REPLACE INTO ranks (run, rank, host, device, clock_offset_ns, clock_uncertainty_ns, "
         "clock_drift_ppm, device_ordinal, device_memory_bytes, device_driver, peak_device_bytes, "
         "device_allocations) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const RankInfo& r : ranks) {
    s.reset();
    s.bind(1, run)
        .bind(2, std::int64_t{r.rank})
        .bind(3, r.host)
        .bind(4, r.device)
        .bind(5, r.clock_offset_ns)
        .bind(6, r.clock_uncertainty_ns)
        .bind(7, r.clock_drift_ppm)
        .bind(8, std::int64_t{r.device_ordinal})
        .bind(9, r.device_memory_bytes)
        .bind(10, r.device_driver)
        .bind(11, r.peak_device_bytes)
        .bind(12, r.device_allocations)
        .run();
  }
  tx.commit();
}

std::int64_t Database::add_events(std::int64_t run, std::span<const EventRow> events) {
  if (events.empty()) return 0;
  Cache& c = *cache_;
  Transaction tx(db_);
  c.reserve_ids.reset();
  c.reserve_ids.bind(1, static_cast<std::int64_t>(events.size()))
      .bind(2, static_cast<std::int64_t>(events.size()));
  if (!c.reserve_ids.step()) throw_db_error(db_, "cannot reserve event ids");
  const std::int64_t first_id = c.reserve_ids.i64(0);
  c.reserve_ids.run();  // finish the UPDATE
  // The cached kinds are trusted only after a committed batch of this run: a failed batch rolls its kinds
  // back.
  const bool cached = c.kinds_run == run;
  c.kinds_run = -1;
  if (!cached) {  // another run, or events added to a run written before: start from what is stored
    c.kinds.clear();
    c.load_kinds.reset();
    c.load_kinds.bind(1, run);
    while (c.load_kinds.step()) {
      KindKey k;
      for (int j = 0; j < 8; ++j) k[static_cast<std::size_t>(j)] = c.load_kinds.i32(j + 1);
      c.kinds.emplace(k, c.load_kinds.i32(0));
    }
  }
  const auto kind_id = [&](const EventRow& e) {
    const KindKey k = kind_of(e);
    const auto it = c.kinds.find(k);
    if (it != c.kinds.end()) return it->second;
    const auto id = static_cast<std::int32_t>(c.kinds.size());
    c.insert_kind.reset();
    c.insert_kind.bind(1, run).bind(2, std::int64_t{id});
    for (int j = 0; j < 8; ++j) c.insert_kind.bind(j + 3, std::int64_t{k[static_cast<std::size_t>(j)]});
    c.insert_kind.run();
    c.kinds.emplace(k, id);
    return id;
  };
  // Multi-row INSERTs cut the per-row VM dispatch roughly in half; the remainder goes through the 1-row form.
  std::size_t i = 0;
  const auto bind_rows = [&](sqlite3_stmt* s, std::size_t rows) {
    sqlite3_reset(s);
    for (std::size_t k = 0; k < rows; ++k) {
      const EventRow& e = events[i + k];
      const int b = static_cast<int>(k) * kEventColumns;
      sqlite3_bind_int64(s, b + 1, first_id + static_cast<std::int64_t>(i + k));
      sqlite3_bind_int64(s, b + 2, run);
      sqlite3_bind_int(s, b + 3, e.rank);
      sqlite3_bind_int(s, b + 4, kind_id(e));
      sqlite3_bind_int(s, b + 5, e.iteration);
      sqlite3_bind_int64(s, b + 6, e.bytes);
      sqlite3_bind_int64(s, b + 7, e.seq);
      sqlite3_bind_int64(s, b + 8, e.start_ns);
      sqlite3_bind_int64(s, b + 9, e.end_ns);
    }
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) throw_db_error(db_, "cannot insert events of run " + std::to_string(run));
    i += rows;
  };
  while (events.size() - i >= kEventsPerInsert) bind_rows(c.insert_events.get(), kEventsPerInsert);
  while (i < events.size()) bind_rows(c.insert_event.get(), 1);
  tx.commit();
  c.kinds_run = run;
  return first_id;
}

void Database::add_counters(std::int64_t run, const std::vector<CounterRow>& counters) {
  Transaction tx(db_);
  Stmt s(db_,
         "INSERT INTO counters (run, rank, schedule, pass, op, grp, purpose, fused, bytes, calls) VALUES (?, "
         "?, ?, "
         "?, ?, ?, ?, ?, ?, ?)");
  for (const CounterRow& r : counters) {
    s.reset();
    s.bind(1, run)
        .bind(2, std::int64_t{r.rank})
        .bind(3, r.schedule)
        .bind(4, r.pass)
        .bind(5, r.op)
        .bind(6, r.group)
        .bind(7, r.purpose)
        .bind(8, r.fused)
        .bind(9, r.bytes)
        .bind(10, r.calls)
        .run();
  }
  tx.commit();
}

void Database::add_predictions(std::int64_t run, std::span<const EventRow> rows) {
  Transaction tx(db_);
  Stmt s(db_,
         "INSERT INTO predictions (run, schedule, rank, lane, op, grp, purpose, iteration, phase, start_ns, "
         "end_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const EventRow& r : rows) {
    s.reset();
    s.bind(1, run)
        .bind(2, std::int64_t{r.schedule})
        .bind(3, std::int64_t{r.rank})
        .bind(4, std::int64_t{r.lane})
        .bind(5, std::int64_t{r.op})
        .bind(6, std::int64_t{r.group})
        .bind(7, std::int64_t{r.purpose})
        .bind(8, std::int64_t{r.iteration})
        .bind(9, std::int64_t{r.phase})
        .bind(10, r.start_ns)
        .bind(11, r.end_ns)
        .run();
  }
  tx.commit();
}

std::vector<EventRow> Database::predictions(std::int64_t run) const {
  Stmt s(db_,
         "SELECT rank, lane, schedule, iteration, phase, op, grp, purpose, start_ns, end_ns FROM predictions "
         "WHERE run = ? ORDER BY schedule, rank, start_ns, id");
  s.bind(1, run);
  std::vector<EventRow> out;
  while (s.step()) {
    EventRow e;
    e.rank = s.i32(0);
    e.lane = s.i32(1);
    e.schedule = s.i32(2);
    e.iteration = s.i32(3);
    e.phase = s.i32(4);
    e.op = s.i32(5);
    e.group = s.i32(6);
    e.purpose = s.i32(7);
    e.start_ns = s.i64(8);
    e.end_ns = s.i64(9);
    out.push_back(e);
  }
  return out;
}

void Database::add_lane_names(std::int64_t run, const std::vector<LaneName>& lanes) {
  Transaction tx(db_);
  Stmt s(db_, "INSERT OR REPLACE INTO lanes (run, rank, lane, name) VALUES (?, ?, ?, ?)");
  for (const LaneName& l : lanes) {
    s.reset();
    s.bind(1, run).bind(2, std::int64_t{l.rank}).bind(3, std::int64_t{l.lane}).bind(4, l.name).run();
  }
  tx.commit();
}

std::vector<RunInfo> Database::runs() const {
  Stmt s(db_, std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY id");
  std::vector<RunInfo> out;
  while (s.step()) out.push_back(read_run(s));
  return out;
}

std::optional<RunInfo> Database::run(std::int64_t id) const {
  Stmt s(db_, std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  RunInfo r = read_run(s);
  s.reset();
  return r;
}

std::vector<RankInfo> Database::ranks(std::int64_t run) const {
  // A read-only file of schema version 1 cannot be upgraded: its ranks read with the device columns'
  // defaults.
  Stmt has(db_, "SELECT count(*) FROM pragma_table_info('ranks') WHERE name = 'device_ordinal'");
  const bool device_columns = has.step() && has.i64(0) > 0;
  has.reset();
  Stmt s(
      db_,
      device_columns
          ? "SELECT rank, host, device, clock_offset_ns, clock_uncertainty_ns, clock_drift_ppm, "
            "device_ordinal, device_memory_bytes, device_driver, peak_device_bytes, device_allocations "
            "FROM ranks WHERE run = ? ORDER BY rank"
          : "SELECT rank, host, device, clock_offset_ns, clock_uncertainty_ns, clock_drift_ppm, -1, 0, '', "
            "0, 0 FROM ranks WHERE run = ? ORDER BY rank");
  s.bind(1, run);
  std::vector<RankInfo> out;
  while (s.step()) {
    RankInfo r;
    r.rank = s.i32(0);
    r.host = s.text(1);
    r.device = s.text(2);
    r.clock_offset_ns = s.f64(3);
    r.clock_uncertainty_ns = s.f64(4);
    r.clock_drift_ppm = s.f64(5);
    r.device_ordinal = s.i32(6);
    r.device_memory_bytes = s.i64(7);
    r.device_driver = s.text(8);
    r.peak_device_bytes = s.i64(9);
    r.device_allocations = s.i64(10);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<EventRow> Database::events(std::int64_t run) const {
  Stmt s(db_,
         "SELECT rank, lane, schedule, iteration, phase, op, grp, purpose, comm, chunk, bytes, seq, "
         "start_ns, end_ns "
         "FROM events WHERE run = ? ORDER BY rank, lane, start_ns, id");
  s.bind(1, run);
  std::vector<EventRow> out;
  while (s.step()) {
    EventRow e;
    e.rank = s.i32(0);
    e.lane = s.i32(1);
    e.schedule = s.i32(2);
    e.iteration = s.i32(3);
    e.phase = s.i32(4);
    e.op = s.i32(5);
    e.group = s.i32(6);
    e.purpose = s.i32(7);
    e.comm = s.i32(8);
    e.chunk = s.i32(9);
    e.bytes = s.i64(10);
    e.seq = s.i64(11);
    e.start_ns = s.i64(12);
    e.end_ns = s.i64(13);
    out.push_back(e);
  }
  return out;
}

std::int64_t Database::event_count(std::int64_t run) const {
  Stmt s(db_, "SELECT count(*) FROM events WHERE run = ?");
  s.bind(1, run);
  const std::int64_t n = s.step() ? s.i64(0) : 0;
  s.reset();
  return n;
}

std::vector<CounterRow> Database::counters(std::int64_t run) const {
  Stmt s(db_,
         "SELECT rank, schedule, pass, op, grp, purpose, fused, bytes, calls FROM counters WHERE run = ? "
         "ORDER BY "
         "rowid");
  s.bind(1, run);
  std::vector<CounterRow> out;
  while (s.step())
    out.push_back(
        {s.i32(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.i64(7), s.i64(8)});
  return out;
}

std::vector<LaneName> Database::lane_names(std::int64_t run) const {
  Stmt s(db_, "SELECT rank, lane, name FROM lanes WHERE run = ? ORDER BY rank, lane");
  s.bind(1, run);
  std::vector<LaneName> out;
  while (s.step()) out.push_back({s.i32(0), s.i32(1), s.text(2)});
  return out;
}

std::int64_t Database::data_version() const noexcept {
  try {
    Stmt s(db_, "PRAGMA data_version");
    const std::int64_t version = s.step() ? s.i64(0) : -1;
    s.reset();
    return version;
  } catch (const std::exception&) {
    return -1;
  }
}

void Database::add_calibration(std::int64_t run, const std::vector<CalibrationRow>& fits) {
  Transaction tx(db_);
  Stmt s(
      db_,
      "INSERT INTO calibrations (run, op, communicator, alpha_s, beta_s_per_byte, r2, samples) VALUES (?, ?, "
      "?, ?, ?, ?, ?)");
  for (const CalibrationRow& f : fits) {
    s.reset();
    s.bind(1, run)
        .bind(2, f.op)
        .bind(3, f.communicator)
        .bind(4, f.alpha_s)
        .bind(5, f.beta_s_per_byte)
        .bind(6, f.r2)
        .bind(7, f.samples)
        .run();
  }
  tx.commit();
}

std::vector<CalibrationRow> Database::calibrations(std::int64_t run) const {
  Stmt s(
      db_,
      "SELECT op, communicator, alpha_s, beta_s_per_byte, r2, samples FROM calibrations WHERE run = ? ORDER "
      "BY id");
  s.bind(1, run);
  std::vector<CalibrationRow> out;
  while (s.step()) out.push_back({s.text(0), s.text(1), s.f64(2), s.f64(3), s.f64(4), s.i64(5)});
  return out;
}

}  // namespace parm::db
