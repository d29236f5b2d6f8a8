#include "db/schema.h"

namespace parm::db {

// Schema step 3: GPU activity in Nsight Systems' tables. Our columns (run, rank, event) are appended, so nsys
// scripts that select columns by name keep working on our files; `event` is the events.id of the op that
// launched the row (NULL: launched outside any traced op). The tables nsys has and version 2 lacked are
// created with nsys' columns first, ours last. Indexes on (run, rank, start): a timeline reads one run by
// rank and time.
const char* const kGpuSchemaSql = R"sql(
ALTER TABLE CUPTI_ACTIVITY_KIND_KERNEL ADD COLUMN run INTEGER;
ALTER TABLE CUPTI_ACTIVITY_KIND_KERNEL ADD COLUMN rank INTEGER;
ALTER TABLE CUPTI_ACTIVITY_KIND_KERNEL ADD COLUMN event INTEGER;
ALTER TABLE CUPTI_ACTIVITY_KIND_MEMCPY ADD COLUMN run INTEGER;
ALTER TABLE CUPTI_ACTIVITY_KIND_MEMCPY ADD COLUMN rank INTEGER;
ALTER TABLE CUPTI_ACTIVITY_KIND_MEMCPY ADD COLUMN event INTEGER;
ALTER TABLE NVTX_EVENTS ADD COLUMN run INTEGER;
ALTER TABLE NVTX_EVENTS ADD COLUMN rank INTEGER;
ALTER TABLE NVTX_EVENTS ADD COLUMN event INTEGER;
ALTER TABLE TARGET_INFO_GPU ADD COLUMN run INTEGER;
ALTER TABLE TARGET_INFO_GPU ADD COLUMN rank INTEGER;

CREATE TABLE CUPTI_ACTIVITY_KIND_MEMSET (
  start INTEGER NOT NULL,
  end INTEGER NOT NULL,
  deviceId INTEGER NOT NULL,
  contextId INTEGER NOT NULL,
  greenContextId INTEGER,
  streamId INTEGER NOT NULL,
  correlationId INTEGER,
  globalPid INTEGER,
  value INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  graphNodeId INTEGER,
  memKind INTEGER,
  run INTEGER,
  rank INTEGER,
  event INTEGER
);

CREATE TABLE CUPTI_ACTIVITY_KIND_RUNTIME (
  start INTEGER NOT NULL,
  end INTEGER NOT NULL,
  eventClass INTEGER NOT NULL,
  globalTid INTEGER,
  correlationId INTEGER,
  nameId INTEGER NOT NULL REFERENCES StringIds(id),
  returnValue INTEGER NOT NULL,
  callchainId INTEGER,
  run INTEGER,
  rank INTEGER
);

CREATE TABLE PROCESSES (
  globalPid INTEGER,
  pid INTEGER,
  name TEXT,
  run INTEGER,
  rank INTEGER
);

CREATE TABLE TARGET_INFO_SESSION_START_TIME (
  utcEpochNs INTEGER,
  utcTime TEXT,
  localTime TEXT,
  run INTEGER
);

-- Per rank of a run: whether CUPTI captured ('' = yes, else 'CUPTI unavailable: <reason>') and what it lost.
CREATE TABLE gpu_captures (
  run INTEGER NOT NULL REFERENCES runs(id),
  rank INTEGER NOT NULL,
  status TEXT NOT NULL,
  dropped_records INTEGER NOT NULL,
  overhead_records INTEGER NOT NULL,
  overhead_ns INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  PRIMARY KEY (run, rank)
);

CREATE INDEX kernels_by_time ON CUPTI_ACTIVITY_KIND_KERNEL (run, rank, start);
CREATE INDEX memcpys_by_time ON CUPTI_ACTIVITY_KIND_MEMCPY (run, rank, start);
CREATE INDEX memsets_by_time ON CUPTI_ACTIVITY_KIND_MEMSET (run, rank, start);
CREATE INDEX runtime_by_time ON CUPTI_ACTIVITY_KIND_RUNTIME (run, rank, start);
CREATE INDEX nvtx_by_time ON NVTX_EVENTS (run, rank, start);

-- Each kernel with the op that launched it (NULL op columns: launched outside a traced op) and its names
-- resolved. event_spans has no index on id: SQLite builds a transient one for the join (automatic indexing).
CREATE VIEW kernel_ops AS
  SELECT k.run AS run, k.rank AS rank, k.start AS start, k.end AS end, k.deviceId AS deviceId,
         k.streamId AS streamId, k.correlationId AS correlationId, dn.value AS demangledName,
         sn.value AS shortName, k.gridX AS gridX, k.gridY AS gridY, k.gridZ AS gridZ, k.blockX AS blockX,
         k.blockY AS blockY, k.blockZ AS blockZ, k.staticSharedMemory AS staticSharedMemory,
         k.dynamicSharedMemory AS dynamicSharedMemory, k.registersPerThread AS registersPerThread,
         k.event AS event, e.schedule AS schedule, e.iteration AS iteration, e.phase AS phase, e.op AS op,
         e.grp AS grp, e.purpose AS purpose, e.chunk AS chunk, e.lane AS lane, es.value AS schedule_name,
         eo.value AS op_name
  FROM CUPTI_ACTIVITY_KIND_KERNEL k
  LEFT JOIN events e ON e.run = k.run AND e.id = k.event
  LEFT JOIN StringIds dn ON dn.id = k.demangledName
  LEFT JOIN StringIds sn ON sn.id = k.shortName
  LEFT JOIN StringIds es ON es.id = e.schedule
  LEFT JOIN StringIds eo ON eo.id = e.op;

-- Every GPU operation of a run in one relation: kind 'kernel' (name = short name), 'memcpy' (name = copyKind)
-- or 'memset'.
CREATE VIEW gpu_ops AS
  SELECT k.run AS run, k.rank AS rank, 'kernel' AS kind, k.start AS start, k.end AS end, k.deviceId AS deviceId,
         k.streamId AS streamId, k.correlationId AS correlationId, s.value AS name, 0 AS bytes, k.event AS event
  FROM CUPTI_ACTIVITY_KIND_KERNEL k LEFT JOIN StringIds s ON s.id = k.shortName
  UNION ALL
  SELECT run, rank, 'memcpy', start, end, deviceId, streamId, correlationId, CAST(copyKind AS TEXT), bytes, event
  FROM CUPTI_ACTIVITY_KIND_MEMCPY
  UNION ALL
  SELECT run, rank, 'memset', start, end, deviceId, streamId, correlationId, CAST(value AS TEXT), bytes, event
  FROM CUPTI_ACTIVITY_KIND_MEMSET;
)sql";

}  // namespace parm::db
