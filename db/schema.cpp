#include "db/schema.h"

namespace parm::db {

// Our tables first. String-valued event fields are StringIds ids so a million events stay small and the nsys
// tables that reference StringIds share one string pool. Times are int64 ns relative to runs.origin_ns.
//
// The Nsight Systems tables follow the names and columns of `nsys export --type sqlite` as of Nsight Systems
// 2024.x (the subset users' scripts read). This is the schema of version kBaseSchemaVersion; a fresh file is
// it plus the later steps of schema_migration.cpp (create_schema), so an upgraded file and a new one are the
// same.
const char* const kBaseSchemaSql = R"sql(
CREATE TABLE schema_version (
  version INTEGER NOT NULL,
  created_by TEXT NOT NULL
);

CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  started_at TEXT NOT NULL,
  backend TEXT NOT NULL,
  ranks INTEGER NOT NULL,
  complete INTEGER NOT NULL DEFAULT 0,
  config_json TEXT NOT NULL DEFAULT '',
  result_json TEXT NOT NULL DEFAULT '',
  origin_ns INTEGER NOT NULL DEFAULT 0
);

-- The configuration lives once, in runs.config_json; configs names it per run for readers of product.md.
CREATE VIEW configs AS SELECT id AS run, name, config_json FROM runs;

-- device_*: where the rank computed (schema version 2; schema_migration.cpp adds them to older files).
-- peak_device_bytes and device_allocations are the backend allocator's peak and its calls during the measured
-- iterations (0 on a GPU: no cudaMalloc inside the loop).
CREATE TABLE ranks (
  run INTEGER NOT NULL REFERENCES runs(id),
  rank INTEGER NOT NULL,
  host TEXT NOT NULL,
  device TEXT NOT NULL,
  clock_offset_ns REAL NOT NULL,
  clock_uncertainty_ns REAL NOT NULL,
  clock_drift_ppm REAL NOT NULL,
  device_ordinal INTEGER NOT NULL DEFAULT -1,
  device_memory_bytes INTEGER NOT NULL DEFAULT 0,
  device_driver TEXT NOT NULL DEFAULT '',
  peak_device_bytes INTEGER NOT NULL DEFAULT 0,
  device_allocations INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run, rank)
);

-- Display names of lanes other than the default three (imports: one lane per GPU stream or NVTX thread).
CREATE TABLE lanes (
  run INTEGER NOT NULL REFERENCES runs(id),
  rank INTEGER NOT NULL,
  lane INTEGER NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (run, rank, lane)
);

CREATE TABLE schedules (
  run INTEGER NOT NULL REFERENCES runs(id),
  name TEXT NOT NULL,
  forward_ms REAL,
  backward_ms REAL,
  total_ms REAL,
  PRIMARY KEY (run, name)
);

CREATE TABLE calibrations (
  id INTEGER PRIMARY KEY,
  run INTEGER REFERENCES runs(id),
  op TEXT NOT NULL,
  communicator TEXT NOT NULL,
  alpha_s REAL NOT NULL,
  beta_s_per_byte REAL NOT NULL,
  r2 REAL NOT NULL,
  samples INTEGER NOT NULL
);

CREATE TABLE predictions (
  id INTEGER PRIMARY KEY,
  run INTEGER NOT NULL REFERENCES runs(id),
  schedule INTEGER NOT NULL,
  rank INTEGER NOT NULL,
  lane INTEGER NOT NULL,
  op INTEGER NOT NULL,
  grp INTEGER NOT NULL,
  purpose INTEGER NOT NULL,
  iteration INTEGER NOT NULL,
  phase INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL
);
CREATE INDEX predictions_by_time ON predictions (run, rank, start_ns);

-- Events are stored normalised: what an op is (lane, schedule, phase, op, group, purpose, communicator, chunk)
-- repeats every iteration, so it lives once per run in event_kinds; event_spans holds the per-occurrence part.
-- Nine columns per row instead of sixteen is what lets ingest pass 1,000,000 rows/s (SQLite's per-row cost grows
-- with the column count). The `events` view joins them back with every column named, for readers and scripts.
-- event_spans is clustered on (run, rank, start_ns): the order time-range queries and exporters need, one b-tree
-- instead of table + index. ids come from event_ids, one UPDATE per batch. No foreign key on run: the per-row
-- parent lookup costs ~15% of ingest; Database writes only existing runs.
CREATE TABLE event_kinds (
  run INTEGER NOT NULL,
  id INTEGER NOT NULL,
  lane INTEGER NOT NULL,
  schedule INTEGER NOT NULL,
  phase INTEGER NOT NULL,
  op INTEGER NOT NULL,
  grp INTEGER NOT NULL,
  purpose INTEGER NOT NULL,
  comm INTEGER NOT NULL,
  chunk INTEGER NOT NULL,
  PRIMARY KEY (run, id)
) WITHOUT ROWID;
CREATE TABLE event_spans (
  id INTEGER NOT NULL,
  run INTEGER NOT NULL,
  rank INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  iteration INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL,
  PRIMARY KEY (run, rank, start_ns, id)
) WITHOUT ROWID;
CREATE VIEW events AS
  SELECT s.id AS id, s.run AS run, s.rank AS rank, k.lane AS lane, k.schedule AS schedule, s.iteration AS iteration,
         k.phase AS phase, k.op AS op, k.grp AS grp, k.purpose AS purpose, k.comm AS comm, k.chunk AS chunk,
         s.bytes AS bytes, s.seq AS seq, s.start_ns AS start_ns, s.end_ns AS end_ns
  FROM event_spans s JOIN event_kinds k ON k.run = s.run AND k.id = s.kind;
CREATE TABLE event_ids (next INTEGER NOT NULL);
INSERT INTO event_ids (next) VALUES (1);

-- One row per member rank of a collective: the events with seq >= 0. A view rather than a copy, since a second
-- insert per event would halve ingest speed; the identity columns match one collective across ranks.
CREATE VIEW collectives AS
  SELECT run, schedule, iteration, phase, grp, comm, seq, rank, id AS event FROM events WHERE seq >= 0;

CREATE TABLE counters (
  run INTEGER NOT NULL REFERENCES runs(id),
  rank INTEGER NOT NULL,
  schedule TEXT NOT NULL,
  pass TEXT NOT NULL,
  op TEXT NOT NULL,
  grp TEXT NOT NULL,
  purpose TEXT NOT NULL,
  fused TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  calls INTEGER NOT NULL
);
CREATE INDEX counters_by_run ON counters (run, rank);

-- Nsight Systems tables (nsys 2024.x export names).
CREATE TABLE StringIds (
  id INTEGER NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE UNIQUE INDEX StringIds_value ON StringIds (value);

CREATE TABLE TARGET_INFO_GPU (
  vmId INTEGER,
  id INTEGER NOT NULL,
  name TEXT,
  busLocation TEXT,
  isPrimary INTEGER,
  uuid TEXT,
  vendorId INTEGER,
  pciDeviceId INTEGER,
  pciSubsystemId INTEGER,
  pciSubsystemVendorId INTEGER,
  totalMemory INTEGER,
  memoryBandwidth INTEGER,
  l2CacheSize INTEGER,
  clockRate INTEGER,
  smCount INTEGER,
  threadsPerWarp INTEGER,
  maxThreadsPerBlock INTEGER,
  maxBlocksPerSm INTEGER,
  maxRegistersPerBlock INTEGER,
  maxShmemPerBlock INTEGER,
  computeMajor INTEGER,
  computeMinor INTEGER,
  chipName TEXT
);

CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (
  start INTEGER NOT NULL,
  end INTEGER NOT NULL,
  deviceId INTEGER NOT NULL,
  contextId INTEGER NOT NULL,
  greenContextId INTEGER,
  streamId INTEGER NOT NULL,
  correlationId INTEGER,
  globalPid INTEGER,
  demangledName INTEGER NOT NULL REFERENCES StringIds(id),
  shortName INTEGER NOT NULL REFERENCES StringIds(id),
  mangledName INTEGER REFERENCES StringIds(id),
  launchType INTEGER,
  cacheConfig INTEGER,
  registersPerThread INTEGER NOT NULL,
  gridX INTEGER NOT NULL,
  gridY INTEGER NOT NULL,
  gridZ INTEGER NOT NULL,
  blockX INTEGER NOT NULL,
  blockY INTEGER NOT NULL,
  blockZ INTEGER NOT NULL,
  staticSharedMemory INTEGER NOT NULL,
  dynamicSharedMemory INTEGER NOT NULL,
  localMemoryPerThread INTEGER,
  localMemoryTotal INTEGER,
  gridId INTEGER,
  sharedMemoryExecuted INTEGER,
  graphNodeId INTEGER,
  sharedMemoryLimitConfig INTEGER
);

CREATE TABLE CUPTI_ACTIVITY_KIND_MEMCPY (
  start INTEGER NOT NULL,
  end INTEGER NOT NULL,
  deviceId INTEGER NOT NULL,
  contextId INTEGER NOT NULL,
  greenContextId INTEGER,
  streamId INTEGER NOT NULL,
  correlationId INTEGER,
  globalPid INTEGER,
  bytes INTEGER NOT NULL,
  copyKind INTEGER NOT NULL,
  deprecatedSrcId INTEGER,
  srcKind INTEGER,
  dstKind INTEGER,
  srcDeviceId INTEGER,
  srcContextId INTEGER,
  dstDeviceId INTEGER,
  dstContextId INTEGER,
  migrationCause INTEGER,
  graphNodeId INTEGER,
  virtualAddress INTEGER
);

CREATE TABLE NVTX_EVENTS (
  start INTEGER NOT NULL,
  end INTEGER,
  eventType INTEGER NOT NULL,
  rangeId INTEGER,
  category INTEGER,
  color INTEGER,
  text TEXT,
  globalTid INTEGER,
  endGlobalTid INTEGER,
  textId INTEGER REFERENCES StringIds(id),
  domainId INTEGER,
  uint64Value INTEGER,
  int64Value INTEGER,
  doubleValue REAL,
  uint32Value INTEGER,
  int32Value INTEGER,
  floatValue REAL,
  jsonTextId INTEGER,
  jsonText TEXT,
  binaryData TEXT
);
)sql";

}  // namespace parm::db
