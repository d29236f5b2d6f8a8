// Device records of a run (issue 14): each rank's RankDevice survives the worker's JSON round trip, results
// written before it read as the cpu default, bad fields are named, and `parm run` groups ranks by device.
#include <QtTest>

#include "engine/core/device_memory_check.h"
#include "engine/core/rank_devices.h"
#include "engine/core/run_result.h"
#include "engine/core/sizes.h"

using namespace parm;

namespace {

RankRunResult rank_on(int rank, const std::string& name, std::int64_t memory, const std::string& driver) {
  RankRunResult r;
  r.rank = rank;
  r.host = "node";
  r.device.name = name;
  r.device.ordinal = name == "cpu" ? -1 : 0;
  r.device.memory_bytes = memory;
  r.device.driver = driver;
  return r;
}

constexpr std::int64_t kH200 = 150'109'880'320;  // 139.8 GiB

}  // namespace

class TestEngineRankDevices : public QObject {
  Q_OBJECT
 private slots:
  void deviceRoundTripsThroughTheWorkerJson() {
    RankRunResult r = rank_on(3, "NVIDIA H200", kH200, "CUDA driver 13.0, runtime 13.0");
    r.device.ordinal = 2;
    r.device.peak_bytes = 987'654'321;
    r.device.allocations = 5;
    const RankRunResult back = rank_run_result_from_json(nlohmann::json::parse(to_json(r).dump()));
    QCOMPARE(back.rank, 3);
    QCOMPARE(back.device.name, r.device.name);
    QCOMPARE(back.device.ordinal, 2);
    QCOMPARE(back.device.memory_bytes, kH200);
    QCOMPARE(back.device.driver, r.device.driver);
    QCOMPARE(back.device.peak_bytes, std::int64_t{987'654'321});
    QCOMPARE(back.device.allocations, std::int64_t{5});
  }

  void resultsWithoutADeviceReadAsCpu() {
    nlohmann::json j = to_json(rank_on(0, "NVIDIA H100", 1, ""));
    j.erase("device");  // a result stored before issue 14
    const RankRunResult back = rank_run_result_from_json(j);
    QCOMPARE(back.device.name, std::string("cpu"));
    QCOMPARE(back.device.ordinal, -1);
    QCOMPARE(back.device.memory_bytes, std::int64_t{0});
  }

  void badDeviceFieldsAreNamed() {
    nlohmann::json j = to_json(rank_on(0, "cpu", 0, ""));
    j["device"]["ordinal"] = -7;
    try {
      rank_run_result_from_json(j);
      QFAIL("accepted ordinal -7");
    } catch (const std::runtime_error& e) {
      QVERIFY2(std::string(e.what()).find("device.ordinal") != std::string::npos, e.what());
    }
    j["device"]["ordinal"] = 0;
    j["device"].erase("driver");
    try {
      rank_run_result_from_json(j);
      QFAIL("accepted a device without a driver");
    } catch (const std::runtime_error& e) {
      QVERIFY2(std::string(e.what()).find("device.driver: missing") != std::string::npos, e.what());
    }
  }

  void linesGroupRanksByDevice() {
    QCOMPARE(rank_ranges({3, 0, 1, 2}), std::string("0-3"));
    QCOMPARE(rank_ranges({0, 2, 5, 6, 7}), std::string("0,2,5-7"));
    QCOMPARE(describe_device(RankDevice{}), std::string("cpu"));
    const std::string h200 = "NVIDIA H200 (139.8 GiB), CUDA driver 13.0";
    QCOMPARE(describe_device(rank_on(0, "NVIDIA H200", kH200, "CUDA driver 13.0").device), h200);
    std::vector<RankRunResult> ranks;
    for (int r = 0; r < 4; ++r) ranks.push_back(rank_on(r, "NVIDIA H200", kH200, "CUDA driver 13.0"));
    QCOMPARE(device_lines(ranks), std::vector<std::string>{"rank 0-3: " + h200});
    ranks[2] = rank_on(2, "NVIDIA H100 80GB HBM3", 85'520'809'984, "CUDA driver 13.0");
    const std::vector<std::string> expected{"rank 0-1,3: " + h200,
                                            "rank 2: NVIDIA H100 80GB HBM3 (79.6 GiB), CUDA driver 13.0"};
    QCOMPARE(device_lines(ranks), expected);
    QCOMPARE(device_lines({rank_on(0, "cpu", 0, ""), rank_on(1, "cpu", 0, "")}),
             std::vector<std::string>{"rank 0-1: cpu"});
  }

  // The documented formula (rank_memory.h), and the refusal of a rank that does not fit its device share.
  void deviceMemoryFollowsTheFormula() {
    Config c;
    c.layer.batch = 4;
    c.layer.seq_len = 256;
    c.layer.hidden = 1024;
    c.layer.ffn_hidden = 4096;
    c.layer.num_experts = 8;
    c.layer.top_k = 2;
    c.parallel.ranks = 4;
    c.parallel.gpus_per_node = 4;
    c.parallel.mp = 1;
    c.parallel.esp = 1;
    c.run.schedules = {ScheduleKind::B_DS};
    c.run.backend = Backend::CudaMpi;
    const DerivedSizes d = derive_sizes(c);
    const RankMemory m = *estimate_rank_memory(c, d);
    QCOMPARE(m.dispatched, 3 * m.widest);
    const DeviceRankMemory g = *estimate_device_memory(c, d, m);
    QCOMPARE(g.buffers, m.total);
    QCOMPARE(g.saved_for_backward, 2 * d.S * 8 * 4 + 3 * d.S * 2 * 4);
    QCOMPARE(g.pass_buffers, 2 * m.widest);
    QCOMPARE(g.total,
             g.buffers + g.saved_for_backward + g.pass_buffers + kCublasWorkspaceBytes + kCudaContextBytes);
    QCOMPARE(g.host_staging, 4 * m.widest);
    c.run.backend = Backend::Cuda;
    QCOMPARE(estimate_device_memory(c, d, m)->host_staging, std::int64_t{0});

    // 4 cuda+mpi ranks share one device: each gets a quarter.
    c.run.backend = Backend::CudaMpi;
    DeviceLimit device{"NVIDIA H200", 4 * g.total, 1, 4};
    QCOMPARE(ranks_per_device(Backend::CudaMpi, device), std::int64_t{4});
    QCOMPARE(ranks_per_device(Backend::Cuda, device), std::int64_t{1});
    QVERIFY(!device_memory_issue(c, d, device));  // exactly fits
    device.memory_bytes = 4 * g.total - 4;
    auto issue = device_memory_issue(c, d, device);
    QVERIFY(issue);
    QCOMPARE(issue->field, std::string("parallel.ranks"));  // it would fit a device of its own
    QVERIFY2(issue->line().find("each of the 4 ranks sharing one NVIDIA H200") != std::string::npos,
             issue->line().c_str());
    QVERIFY2(issue->line().find("use fewer ranks per device") != std::string::npos, issue->line().c_str());
    device.devices = 2;  // two devices: two ranks on each
    QVERIFY(!device_memory_issue(c, d, device));
    device = DeviceLimit{"Small GPU", g.total - 1, 1, 4};
    c.run.backend = Backend::Cuda;  // one device per rank, and it is too small
    issue = device_memory_issue(c, d, device);
    QVERIFY(issue);
    QVERIFY2(issue->field.rfind("layer.", 0) == 0, issue->line().c_str());
    QVERIFY2(issue->line().find("above the memory of one Small GPU") != std::string::npos,
             issue->line().c_str());
    c.run.backend = Backend::Cpu;  // no device rule for the cpu backend
    QVERIFY(!device_memory_issue(c, d, device));
  }
};

QTEST_GUILESS_MAIN(TestEngineRankDevices)
#include "test_engine_rank_devices.moc"
