// One Parm Studio project = one SQLite file (WAL). Our tables (schema_version, runs, configs, ranks,
// schedules, events, collectives, counters, calibrations, predictions) and Nsight Systems' (StringIds,
// CUPTI_ACTIVITY_KIND_KERNEL, CUPTI_ACTIVITY_KIND_MEMCPY, NVTX_EVENTS, TARGET_INFO_GPU) so nsys users'
// scripts read our files. Writes go through prepared statements inside transactions; a run is inserted
// incomplete first and marked complete at the end, so a killed run leaves a readable file with that run
// marked incomplete.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace parm::db {

// One line, naming the file and what is wrong ("x.sqlite: not a Parm Studio database (no schema_version
// table)").
class DbError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// 3: GPU activity (db/gpu_activity.h). 2: ranks gain device_ordinal, device_memory_bytes, device_driver,
// peak_device_bytes, device_allocations
// (schema_migration.h upgrades older files when they are opened for writing).
inline constexpr int kSchemaVersion = 3;

struct RunInfo {
  std::int64_t id = 0;
  std::string name;        // config name
  std::string kind;        // "measured" or "nsys-import"
  std::string started_at;  // ISO 8601 UTC
  std::string backend;     // "cpu", ...
  int ranks = 0;
  bool complete = false;
  std::string config_json;  // the configuration that ran
  std::string
      result_json;  // engine RunResult JSON (per rank/schedule/iteration times, counters), when complete
  std::int64_t origin_ns = 0;  // aligned clock value of the run start: event times are relative to it
};

struct RankInfo {
  int rank = 0;
  std::string host;
  std::string device;          // "cpu" or the GPU name
  double clock_offset_ns = 0;  // add to this rank's clock to get rank 0's (start of run)
  double clock_uncertainty_ns = 0;
  double clock_drift_ppm = 0;            // offset change between the start and the end of the run
  int device_ordinal = -1;               // CUDA ordinal; -1 for the host
  std::int64_t device_memory_bytes = 0;  // the device's memory; 0 for the host
  std::string device_driver{};           // "CUDA driver 13.0, runtime 13.0"; empty for the host
  std::int64_t peak_device_bytes = 0;    // the most the rank's backend held at once
  std::int64_t device_allocations = 0;   // allocator calls during the measured iterations
};

// A measured (or predicted) op interval. String-valued fields are StringIds ids from Database::intern.
struct EventRow {
  std::int32_t rank = 0;
  std::int32_t lane = 0;       // 0 compute, 1 intra, 2 inter
  std::int32_t schedule = 0;   // StringIds id of the schedule name
  std::int32_t iteration = 0;  // -1 for warm-up iterations if stored
  std::int32_t phase = 0;      // 0 forward, 1 backward
  std::int32_t op = 0;         // StringIds id: "AlltoAll", "experts", "SAA/AlltoAll", ...
  std::int32_t group = 0;      // StringIds id: "EP", "MP", "ESP", "-"
  std::int32_t purpose = 0;    // StringIds id: "dispatch", "combine", ...
  std::int32_t comm =
      -1;  // which communicator of that group (MP: the MP group index, EP: the MP-local index)
  std::int32_t chunk = -1;  // pipeline step, -1 outside pipelines
  std::int64_t bytes = 0;
  std::int64_t seq = -1;  // per (rank, group, comm) collective sequence number; -1 for local ops. One
                          // collective = the events with equal (schedule, iteration, phase, group, comm, seq)
  std::int64_t start_ns = 0;  // aligned to rank 0's clock, relative to RunInfo::origin_ns
  std::int64_t end_ns = 0;
};

// Display name of one lane of one rank, for lanes beyond the default three (imports: GPU streams, NVTX
// threads).
struct LaneName {
  int rank = 0;
  int lane = 0;
  std::string name;
};

// One fitted operation of a calibration (`parm calibrate`): t = alpha + beta * n in seconds, n in the op's
// unit (bytes for collectives, multiply-adds or elements for compute kernels).
struct CalibrationRow {
  std::string op;
  std::string communicator;
  double alpha_s = 0;
  double beta_s_per_byte = 0;
  double r2 = 0;
  std::int64_t samples = 0;
};

struct CounterRow {
  int rank = 0;
  std::string schedule, pass, op, group, purpose, fused;
  std::int64_t bytes = 0;
  std::int64_t calls = 0;
};

class Database {
 public:
  // Opens (and with `create`, creates) a project file. Throws DbError, one line naming the file, on a missing
  // file (without `create`), a directory, an empty, text, foreign, truncated or corrupt file, a project
  // missing one of its tables or columns ("an incomplete Parm Studio database") or a newer schema, never
  // modifying such a file. A project in a read-only place (file, folder or mount) opens read-only without
  // `create` (read_only(); nothing is created beside it) and is refused with `create` ("read-only: cannot
  // store the run").
  static Database open(const std::string& path, bool create);
  // For commands that store a run, before they do the work: throws the DbError that storing into `path`
  // would end in (read-only, not a project, ...). A missing file in a writable folder passes, uncreated; an
  // existing empty file becomes a project, as storing would make it.
  static void check_can_store(const std::string& path);
  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  ~Database();

  const std::string& path() const { return path_; }
  bool read_only() const { return read_only_; }

  std::int64_t begin_run(const RunInfo& run);  // inserted with complete = 0, committed at once
  void set_result(std::int64_t run, const std::string& result_json);
  void finish_run(std::int64_t run);           // complete = 1
  std::int32_t intern(std::string_view text);  // StringIds: same text, same id
  void add_ranks(std::int64_t run, const std::vector<RankInfo>& ranks);
  // One transaction per call. The rows get consecutive events.id values in their order; returns the first
  // (0 when `events` is empty), so a caller can point GPU activity rows at the op that launched them.
  std::int64_t add_events(std::int64_t run, std::span<const EventRow> events);
  void add_counters(std::int64_t run, const std::vector<CounterRow>& counters);
  void add_calibration(std::int64_t run, const std::vector<CalibrationRow>& fits);  // one transaction
  std::vector<CalibrationRow> calibrations(std::int64_t run) const;                 // in insertion order

  std::vector<RunInfo> runs() const;
  std::optional<RunInfo> run(std::int64_t id) const;
  std::vector<RankInfo> ranks(std::int64_t run) const;
  std::vector<EventRow> events(std::int64_t run) const;  // ordered by (rank, lane, start_ns)
  std::string string(std::int32_t id) const;             // StringIds lookup ("" if unknown)
  std::vector<CounterRow> counters(std::int64_t run) const;
  std::int64_t event_count(std::int64_t run) const;
  void add_lane_names(std::int64_t run, const std::vector<LaneName>& lanes);
  // Predicted op intervals (a run of kind "prediction"): rank, lane, schedule, iteration, phase, op, group,
  // purpose, start_ns and end_ns of each row are stored; one transaction per call.
  void add_predictions(std::int64_t run, std::span<const EventRow> rows);
  std::vector<EventRow> predictions(std::int64_t run) const;  // ordered by (schedule, rank, start_ns)
  std::vector<LaneName> lane_names(std::int64_t run) const;   // ordered by (rank, lane)
  // PRAGMA data_version: changes when another connection commits to the file (a viewer polls it to re-read
  // only after a change); -1 when it cannot be read.
  std::int64_t data_version() const noexcept;

  sqlite3* handle() const { return db_; }  // for importers/exporters in db/

 private:
  Database(sqlite3* db, std::string path, bool read_only);
  sqlite3* db_ = nullptr;
  std::string path_;
  bool read_only_ = false;
  struct Cache;
  std::unique_ptr<Cache> cache_;  // prepared statements, interned strings
};

}  // namespace parm::db
