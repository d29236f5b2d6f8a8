// Perfetto/Chrome JSON and CSV exports of a small synthetic run, and the Nsight Systems importer on a fixture
// this test builds with nsys's table layout.
#include <sqlite3.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "db/database.h"
#include "db/exporters.h"
#include "tests/db/gpu_run_fixture.h"

using parm::db::Database;
using parm::db::DbError;
using parm::db::EventRow;

namespace {

// 3 ranks; per rank: one compute op on lane 0, an EP AlltoAll (seq 0) on lane 2 on every rank, and an MP
// AllGather (seq 0) on lane 1 on ranks 0 and 1 only. So: 8 X events, 2 collectives with 3 and 2 members.
std::int64_t synthetic_run(Database& db) {
  parm::db::RunInfo info;
  info.name = "tiny";
  info.kind = "measured";
  info.backend = "cpu";
  info.ranks = 3;
  const std::int64_t run = db.begin_run(info);
  db.add_ranks(
      run, {{0, "host-a", "cpu", 0, 0, 0}, {1, "host-a", "cpu", 0, 0, 0}, {2, "host-b", "cpu", 10, 3, 0}});
  const std::int32_t sched = db.intern("S1"), experts = db.intern("experts"), a2a = db.intern("AlltoAll"),
                     ag = db.intern("AllGather"), ep = db.intern("EP"), mp = db.intern("MP"),
                     none = db.intern("-"), dispatch = db.intern("dispatch"),
                     quoted = db.intern("expert \"output\", x");
  std::vector<EventRow> rows;
  for (int r = 0; r < 3; ++r) {
    const std::int64_t t = 1000 * r;
    rows.push_back({r, 0, sched, 0, 0, experts, none, quoted, -1, -1, 0, -1, t, t + 1500});
    rows.push_back({r, 2, sched, 0, 0, a2a, ep, dispatch, 0, 0, 1 << 20, 0, t + 2000, t + 4001});
    if (r < 2) rows.push_back({r, 1, sched, 0, 1, ag, mp, dispatch, 0, -1, 4096, 0, t + 5000, t + 5250});
  }
  db.add_events(run, rows);
  db.finish_run(run);
  return run;
}

QJsonArray trace_events(const std::string& json) {
  QJsonParseError error{};
  const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json), &error);
  if (error.error != QJsonParseError::NoError) qFatal("not JSON: %s", qPrintable(error.errorString()));
  return doc.object()["traceEvents"].toArray();
}

void exec(sqlite3* db, const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) qFatal("%s: %s", sql, msg);
}

// The nsys export layout (column names of Nsight Systems 2024.x), only the columns an export always has.
void build_nsys_fixture(const std::string& path, bool with_kernels = true) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  exec(db, "CREATE TABLE StringIds (id INTEGER NOT NULL PRIMARY KEY, value TEXT NOT NULL)");
  exec(db,
       "INSERT INTO StringIds VALUES (1, 'void gemm<float>(int)'), (2, 'gemm'), (3, 'nccl_alltoall'), "
       "(4, 'layer 0 forward')");
  exec(db,
       "CREATE TABLE TARGET_INFO_GPU (id INTEGER NOT NULL, name TEXT NOT NULL, busLocation TEXT NOT NULL, "
       "totalMemory INTEGER NOT NULL, smCount INTEGER NOT NULL, computeMajor INTEGER, computeMinor INTEGER)");
  exec(db,
       "INSERT INTO TARGET_INFO_GPU VALUES (0, 'NVIDIA H100 80GB HBM3', '0000:01:00.0', 85899345920, 132, 9, "
       "0)");
  if (with_kernels) {
    exec(
        db,
        "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER NOT NULL, end INTEGER NOT NULL, deviceId "
        "INTEGER NOT NULL, contextId INTEGER NOT NULL, streamId INTEGER NOT NULL, correlationId INTEGER, "
        "globalPid INTEGER, demangledName INTEGER NOT NULL, shortName INTEGER NOT NULL, gridX INTEGER, gridY "
        "INTEGER, gridZ INTEGER, blockX INTEGER, blockY INTEGER, blockZ INTEGER, registersPerThread INTEGER, "
        "staticSharedMemory INTEGER, dynamicSharedMemory INTEGER)");
    const std::int64_t pid = std::int64_t{4242} << 24;
    const std::string kernels =
        "INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES "
        "(1000000, 1050000, 0, 1, 7, 10, " +
        std::to_string(pid) +
        ", 1, 2, 1,1,1, 128,1,1, 32, 0, 0),"
        "(1060000, 1090000, 0, 1, 7, 11, " +
        std::to_string(pid) +
        ", 1, 2, 1,1,1, 128,1,1, 32, 0, 0),"
        "(1010000, 1080000, 0, 1, 13, 12, " +
        std::to_string(pid) + ", 3, 3, 1,1,1, 128,1,1, 32, 0, 0)";
    exec(db, kernels.c_str());
    exec(db,
         "CREATE TABLE CUPTI_ACTIVITY_KIND_MEMCPY (start INTEGER NOT NULL, end INTEGER NOT NULL, deviceId "
         "INTEGER NOT NULL, contextId INTEGER NOT NULL, streamId INTEGER NOT NULL, correlationId INTEGER, "
         "globalPid INTEGER, bytes INTEGER NOT NULL, copyKind INTEGER NOT NULL, srcKind INTEGER, dstKind "
         "INTEGER)");
    exec(db, ("INSERT INTO CUPTI_ACTIVITY_KIND_MEMCPY VALUES (900000, 950000, 0, 1, 7, 9, " +
              std::to_string(pid) + ", 65536, 1, 0, 2)")
                 .c_str());
    exec(db,
         "CREATE TABLE NVTX_EVENTS (start INTEGER NOT NULL, end INTEGER, eventType INTEGER NOT NULL, rangeId "
         "INTEGER, category INTEGER, color INTEGER, text TEXT, globalTid INTEGER, endGlobalTid INTEGER, "
         "textId "
         "INTEGER, domainId INTEGER)");
    exec(db, ("INSERT INTO NVTX_EVENTS VALUES (990000, 1100000, 59, NULL, NULL, NULL, NULL, " +
              std::to_string(pid + 4243) + ", NULL, 4, 0), (995000, NULL, 34, NULL, NULL, NULL, 'a mark', " +
              std::to_string(pid + 4243) + ", NULL, NULL, 0)")
                 .c_str());
  }
  sqlite3_close(db);
}

}  // namespace

class TestDbExporters : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  std::string file(const char* name) const { return dir_.filePath(name).toStdString(); }

 private slots:
  void perfettoIsStructurallyValid() {
    Database db = Database::open(file("perfetto.parm"), true);
    const std::int64_t run = synthetic_run(db);
    std::ostringstream out;
    parm::db::export_perfetto(db, run, out);
    const QJsonArray events = trace_events(out.str());

    std::set<qint64> pids, named_pids, sorted_pids;
    std::set<std::pair<qint64, qint64>> tids, named_tids, sorted_tids;
    std::map<qint64, std::vector<QJsonObject>> flows;  // id -> flow events in array order
    int complete = 0, parents = 0;
    for (const QJsonValue& v : events) {
      const QJsonObject e = v.toObject();
      const QString ph = e["ph"].toString();
      const qint64 pid = e["pid"].toInteger(), tid = e["tid"].toInteger();
      if (ph == "X" && (e["cat"] == "schedule" || e["cat"] == "iteration")) {
        ++parents;  // their structure: test_db_perfetto_nesting.cpp
      } else if (ph == "X") {
        ++complete;
        QVERIFY(e["ts"].isDouble());
        QVERIFY(e["dur"].isDouble());
        QVERIFY(e["dur"].toDouble() > 0);
        pids.insert(pid);
        tids.insert({pid, tid});
        const QJsonObject args = e["args"].toObject();
        for (const char* key : {"op", "group", "purpose", "bytes", "chunk", "iteration", "phase", "seq"})
          QVERIFY2(args.contains(key), key);
      } else if (ph == "M") {
        const QString name = e["name"].toString();
        if (name == "process_name") named_pids.insert(pid);
        if (name == "process_sort_index") sorted_pids.insert(pid);
        if (name == "thread_name") named_tids.insert({pid, tid});
        if (name == "thread_sort_index") sorted_tids.insert({pid, tid});
      } else if (ph == "s" || ph == "t" || ph == "f") {
        QVERIFY(e["ts"].isDouble());
        QCOMPARE(e["bp"].toString(), QString("e"));
        flows[e["id"].toInteger()].push_back(e);
      } else {
        QFAIL(qPrintable("unexpected ph " + ph));
      }
    }
    QCOMPARE(complete, 8);
    QCOMPARE(parents, 8 * 2);  // every lane track: one schedule and one iteration slice
    QCOMPARE(pids, (std::set<qint64>{0, 1, 2}));
    QVERIFY(std::includes(named_pids.begin(), named_pids.end(), pids.begin(), pids.end()));
    QVERIFY(std::includes(sorted_pids.begin(), sorted_pids.end(), pids.begin(), pids.end()));
    QCOMPARE(named_tids, tids);
    QCOMPARE(sorted_tids, tids);

    // Microseconds relative to the run start, lanes and ranks named.
    for (const QJsonValue& v : events) {
      const QJsonObject e = v.toObject();
      const bool op = e["ph"] == "X" && e["cat"] != "schedule" && e["cat"] != "iteration";
      if (op && e["pid"].toInteger() == 2 && e["tid"].toInteger() == 2) {
        QCOMPARE(e["ts"].toDouble(), 4.0);
        QCOMPARE(e["dur"].toDouble(), 2.001);
        QCOMPARE(e["name"].toString(), QString("AlltoAll"));
        QCOMPARE(e["args"].toObject()["bytes"].toInteger(), qint64{1 << 20});
      }
      if (op && e["tid"].toInteger() == 0)
        QCOMPARE(e["args"].toObject()["purpose"].toString(), QString("expert \"output\", x"));
      if (e["ph"] == "M" && e["name"] == "process_name" && e["pid"].toInteger() == 2)
        QCOMPARE(e["args"].toObject()["name"].toString(), QString("rank 2 (host-b)"));
      if (e["ph"] == "M" && e["name"] == "thread_name" && e["tid"].toInteger() == 1)
        QCOMPARE(e["args"].toObject()["name"].toString(), QString("intra-node"));
    }

    // One flow per collective: starts with exactly one "s", ends with exactly one "f", members in rank order,
    // each on the pid/tid of that rank's event of the collective.
    QCOMPARE(flows.size(), std::size_t{2});
    std::multiset<std::size_t> sizes;
    for (const auto& [id, chain] : flows) {
      sizes.insert(chain.size());
      QCOMPARE(chain.front()["ph"].toString(), QString("s"));
      QCOMPARE(chain.back()["ph"].toString(), QString("f"));
      QCOMPARE(std::count_if(chain.begin(), chain.end(), [](auto& e) { return e["ph"] == "s"; }), 1);
      QCOMPARE(std::count_if(chain.begin(), chain.end(), [](auto& e) { return e["ph"] == "f"; }), 1);
      const qint64 tid = chain.front()["tid"].toInteger();
      for (std::size_t i = 0; i < chain.size(); ++i) {
        QCOMPARE(chain[i]["pid"].toInteger(), qint64(i));
        QCOMPARE(chain[i]["tid"].toInteger(), tid);  // same collective: same lane on every rank here
        // ts lies inside that rank's slice of the collective.
        const double ts = chain[i]["ts"].toDouble();
        bool inside = false;
        for (const QJsonValue& v : events) {
          const QJsonObject e = v.toObject();
          if (e["ph"] == "X" && e["pid"] == chain[i]["pid"] && e["tid"] == chain[i]["tid"])
            inside = inside || (ts >= e["ts"].toDouble() && ts <= e["ts"].toDouble() + e["dur"].toDouble());
        }
        QVERIFY(inside);
      }
    }
    QCOMPARE(sizes, (std::multiset<std::size_t>{2, 3}));
  }

  void perfettoOfEmptyRunIsValidJson() {
    Database db = Database::open(file("empty-run.parm"), true);
    parm::db::RunInfo info;
    info.name = "nothing";
    const std::int64_t run = db.begin_run(info);
    std::ostringstream out;
    parm::db::export_perfetto(db, run, out);
    QVERIFY(trace_events(out.str()).isEmpty());
    QVERIFY_THROWS_EXCEPTION(DbError, parm::db::export_perfetto(db, run + 7, out));
  }

  void csvHasHeaderAndOneRowPerEvent() {
    Database db = Database::open(file("csv.parm"), true);
    const std::int64_t run = synthetic_run(db);
    std::ostringstream out;
    parm::db::export_csv(db, run, out);
    const QStringList lines = QString::fromStdString(out.str()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 1 + 8);
    QCOMPARE(lines[0], QString("run,rank,lane,schedule,iteration,phase,op,group,purpose,comm,chunk,bytes,seq,"
                               "start_ns,end_ns"));
    QVERIFY(lines.contains(QString("%1,2,2,S1,0,fwd,AlltoAll,EP,dispatch,0,0,1048576,0,4000,6001").arg(run)));
    QVERIFY(lines.contains(
        QString("%1,0,0,S1,0,fwd,experts,-,\"expert \"\"output\"\", x\",-1,-1,0,-1,0,1500").arg(run)));
  }

  void nsysImportMapsStreamsToLanes() {
    const std::string fixture = file("trace.sqlite");
    build_nsys_fixture(fixture);
    const std::string before = [&] {
      std::ifstream in(fixture, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    Database db = Database::open(file("imported.parm"), true);
    const std::int64_t run = parm::db::import_nsys(db, fixture);

    const auto info = db.run(run);
    QVERIFY(info && info->complete);
    QCOMPARE(info->kind, std::string("nsys-import"));
    QCOMPARE(info->ranks, 1);
    QCOMPARE(info->origin_ns, std::int64_t{900000});
    const auto ranks = db.ranks(run);
    QCOMPARE(ranks.size(), std::size_t{1});
    QCOMPARE(ranks[0].device, std::string("NVIDIA H100 80GB HBM3"));

    // 3 kernels + 1 memcpy + 1 NVTX range (the mark is not a range): stream 7 -> lane 0, stream 13 -> lane 1,
    // the NVTX thread -> lane 2.
    const auto events = db.events(run);
    QCOMPARE(events.size(), std::size_t{5});
    std::map<int, std::vector<std::string>> by_lane;
    for (const EventRow& e : events) by_lane[e.lane].push_back(db.string(e.op));
    QCOMPARE(by_lane.size(), std::size_t{3});
    QCOMPARE(by_lane[0], (std::vector<std::string>{"Memcpy HtoD", "gemm", "gemm"}));
    QCOMPARE(by_lane[1], (std::vector<std::string>{"nccl_alltoall"}));
    QCOMPARE(by_lane[2], (std::vector<std::string>{"layer 0 forward"}));
    QCOMPARE(events[0].start_ns, std::int64_t{0});  // the memcpy, relative to the earliest activity
    QCOMPARE(events[0].bytes, std::int64_t{65536});
    const auto lanes = db.lane_names(run);
    QCOMPARE(lanes.size(), std::size_t{3});
    QCOMPARE(lanes[0].name, std::string("stream 7"));
    QCOMPARE(lanes[1].name, std::string("stream 13"));
    QCOMPARE(lanes[2].name, std::string("NVTX thread 4243"));

    // The export names the imported lanes after their streams.
    std::ostringstream out;
    parm::db::export_perfetto(db, run, out);
    bool stream13 = false;
    for (const QJsonValue& v : trace_events(out.str()))
      stream13 = stream13 || (v.toObject()["name"] == "thread_name" &&
                              v.toObject()["args"].toObject()["name"].toString() == "stream 13");
    QVERIFY(stream13);

    std::ifstream in(fixture, std::ios::binary);
    QVERIFY(std::string(std::istreambuf_iterator<char>(in), {}) == before);  // read-only
  }

  // Each rank's GPU tracks (one per device and stream, tids above the lanes, sorted after them), kernels with
  // their args and launching op, a "launch" arrow from the op's slice to each of its kernels, copies and
  // memsets with bytes and kind.
  void perfettoCarriesGpuTracks() {
    Database db = Database::open(file("gpu-perfetto.parm"), true);
    const parm::test::GpuRun g = parm::test::store_gpu_run(db);
    std::ostringstream out;
    parm::db::export_perfetto(db, g.run, out);
    std::map<std::pair<int, int>, QString> thread_names;
    std::map<std::pair<int, int>, int> sort_index;
    std::vector<QJsonObject> kernels, copies, starts, finishes;
    for (const QJsonValue& v : trace_events(out.str())) {
      const QJsonObject e = v.toObject();
      const std::pair key{e["pid"].toInt(), e["tid"].toInt()};
      if (e["name"] == "thread_name") thread_names[key] = e["args"].toObject()["name"].toString();
      if (e["name"] == "thread_sort_index") sort_index[key] = e["args"].toObject()["sort_index"].toInt();
      if (e["ph"] == "X" && e["cat"] == "kernel") kernels.push_back(e);
      if (e["ph"] == "X" && (e["cat"] == "memcpy" || e["cat"] == "memset")) copies.push_back(e);
      if (e["cat"] == "launch") (e["ph"] == "s" ? starts : finishes).push_back(e);
    }
    for (int rank : {0, 1}) {
      const QString device = QString::number(rank);
      const auto at = [rank](int tid) { return std::pair{rank, tid}; };
      QCOMPARE(thread_names[at(1000)], "GPU " + device + " stream 13");
      QCOMPARE(thread_names[at(1001)], "GPU " + device + " stream 14");
      QCOMPARE(thread_names[at(0)], QString("compute"));
      QVERIFY(sort_index[at(1000)] > sort_index[at(2)]);
      QVERIFY(sort_index[at(1001)] > sort_index[at(1000)]);
    }
    QCOMPARE(kernels.size(), std::size_t{8});
    const QJsonObject* first = nullptr;  // rank 0's first kernel: expert_gemm at 11 us on stream 13
    for (const QJsonObject& k : kernels)
      if (k["pid"].toInt() == 0 && k["ts"].toDouble() == 11.0) first = &k;
    QVERIFY(first);
    QCOMPARE((*first)["name"].toString(), QString("expert_gemm"));
    QCOMPARE((*first)["tid"].toInt(), 1000);
    QCOMPARE((*first)["dur"].toDouble(), 1.6);
    const QJsonObject args = (*first)["args"].toObject();
    QCOMPARE(args["kernel"].toString(), QString("void parm::expert_gemm<__half>(int, int)"));
    QCOMPARE(args["grid"].toArray(), (QJsonArray{65, 2, 1}));
    QCOMPARE(args["block"].toArray(), (QJsonArray{256, 1, 1}));
    QCOMPARE(args["static_shared_bytes"].toInt(), 1024);
    QCOMPARE(args["dynamic_shared_bytes"].toInt(), 49152);
    QCOMPARE(args["registers_per_thread"].toInt(), 96);
    QCOMPARE(args["correlation_id"].toInt(), 101);
    const QJsonObject by = args["launched_by"].toObject();
    QCOMPARE(by["op"].toString(), QString("experts"));
    QCOMPARE(by["schedule"].toString(), QString("parm"));
    QCOMPARE(by["iteration"].toInt(), 3);
    QCOMPARE(by["chunk"].toInt(), 1);
    // 3 of each rank's 4 kernels were launched by a traced op: 6 arrows, each from the op's lane and start to
    // its kernel's track and start.
    QCOMPARE(starts.size(), std::size_t{6});
    QCOMPARE(finishes.size(), std::size_t{6});
    std::set<int> ids;
    for (std::size_t i = 0; i < starts.size(); ++i) {
      const QJsonObject &s = starts[i], &f = finishes[i];
      QCOMPARE(s["id"], f["id"]);
      ids.insert(s["id"].toInt());
      QCOMPARE(s["pid"], f["pid"]);
      QVERIFY(f["tid"].toInt() >= 1000);
      const bool alltoall = s["name"].toString() == "ncclDevKernel_AllToAll";
      QCOMPARE(s["tid"].toInt(), alltoall ? 2 : 0);
      QCOMPARE(s["ts"].toDouble(), alltoall ? 20.0 : 10.0);
    }
    QCOMPARE(ids.size(), std::size_t{6});
    QCOMPARE(copies.size(), std::size_t{4});
    for (const QJsonObject& c : copies) {
      const bool memset = c["cat"] == "memset";
      QCOMPARE(c["name"].toString(), QString(memset ? "Memset" : "Memcpy HtoD"));
      QCOMPARE(c["args"].toObject()["bytes"].toInt(), memset ? 512 : 65536);
      QCOMPARE(c["tid"].toInt(), memset ? 1001 : 1000);
    }
  }

  void nsysImportNamesTheMissingTable() {
    const std::string fixture = file("no-kernels.sqlite");
    build_nsys_fixture(fixture, false);
    Database db = Database::open(file("imported2.parm"), true);
    try {
      parm::db::import_nsys(db, fixture);
      QFAIL("imported a file without kernels");
    } catch (const DbError& e) {
      const std::string msg = e.what();
      QVERIFY2(msg.find(fixture) == 0, msg.c_str());
      QVERIFY2(msg.find("CUPTI_ACTIVITY_KIND_KERNEL") != std::string::npos, msg.c_str());
      QVERIFY(msg.find('\n') == std::string::npos);
    }
    QVERIFY(db.runs().empty());
  }
};

QTEST_GUILESS_MAIN(TestDbExporters)
#include "test_db_exporters.moc"
