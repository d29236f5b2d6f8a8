// What a calibration records about where it ran (engine/model/calibration.h: transport, comm_library,
// devices, nccl_env, nccl_topology, a compute fit's shape): written to JSON and read back the same; a file
// made before these were recorded still loads with them empty; and the strict reader refuses a wrong value
// of each in one line naming the field.
#include <QTemporaryDir>
#include <QtTest>

#include "engine/model/calibration.h"

using namespace parm;

namespace {

// A calibration file as `parm calibrate` wrote it before the environment was recorded.
nlohmann::json old_file() {
  return {
      {"id", "calib-old"},
      {"created_at", "2026-11-27T23:10:00Z"},
      {"host", "h"},
      {"layout", {{"ranks", 4}, {"gpus_per_node", 2}, {"mp", 2}, {"esp", 2}}},
      {"dtype", "fp32"},
      {"backend", "cpu"},
      {"cluster", ""},
      {"interference", 1.1},
      {"fits",
       {{{"op", "alltoall"}, {"communicator", "EP"}, {"group_size", 2}, {"alpha", 0.01}, {"beta", 1e-6}},
        {{"op", "gemm"}, {"communicator", "local"}, {"group_size", 1}, {"alpha", 0.001}, {"beta", 1e-9}}}}};
}

void expect_refused(const nlohmann::json& j, const char* fragment) {
  try {
    calibration_from_json(j);
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    QVERIFY2(what.find(fragment) != std::string::npos, what.c_str());
    QVERIFY2(what.find('\n') == std::string::npos, what.c_str());
    return;
  }
  QFAIL(qPrintable(QString("no error for a file needing '%1'").arg(fragment)));
}

}  // namespace

class TestCalibrationFile : public QObject {
  Q_OBJECT
 private slots:
  void oldFileLoadsWithTheEnvironmentEmpty() {
    const Calibration c = calibration_from_json(old_file());
    QCOMPARE(c.fits.size(), std::size_t{2});
    QCOMPARE(c.backend, std::string("cpu"));
    QVERIFY(c.transport.empty() && c.comm_library.empty() && c.nccl_topology.empty());
    QVERIFY(c.devices.empty());
    QVERIFY(c.nccl_env.empty());
    QVERIFY(c.fits[1].shape.empty());
  }

  void environmentAndShapeRoundTripThroughAFile() {
    Calibration c = calibration_from_json(old_file());
    c.backend = "cuda";
    c.transport = "NCCL 2.28.9";
    c.comm_library = "NCCL 2.28.9";
    c.devices = {"NVIDIA H200 (0000:1b:00.0)", "NVIDIA H200 (0000:2c:00.0)"};
    c.nccl_env = {{"NCCL_DEBUG", "INFO"}, {"NCCL_ALGO", "Ring"}};
    c.nccl_topology = "NCCL_DEBUG=INFO: NCCL printed its topology to each rank's stderr";
    c.fits[1].shape = "M 1024, H 2048";
    QTemporaryDir dir;
    const std::string path = dir.filePath("c.json").toStdString();
    save_calibration_file(c, path);
    const Calibration back = load_calibration_file(path);
    QCOMPARE(back.backend, c.backend);
    QCOMPARE(back.transport, c.transport);
    QCOMPARE(back.comm_library, c.comm_library);
    QCOMPARE(back.devices, c.devices);
    QCOMPARE(back.nccl_env, c.nccl_env);
    QCOMPARE(back.nccl_topology, c.nccl_topology);
    QCOMPARE(back.fits[1].shape, std::string("M 1024, H 2048"));
    QVERIFY(!to_json(back)["fits"][0].contains("shape"));  // collectives carry no shape
  }

  // The same op on two communicators: find(op) is the first (the one the cost model reads).
  void findPrefersTheFirstCommunicatorOfAnOp() {
    nlohmann::json j = old_file();
    j["layout"]["mp"] = j["layout"]["esp"] = 1;  // EP 4: the model needs alltoall and p2p only
    j["fits"].push_back(
        {{"op", "p2p"}, {"communicator", "EP"}, {"group_size", 4}, {"alpha", 0.02}, {"beta", 0}});
    j["fits"].push_back({{"op", "alltoall"},
                         {"communicator", "EP#fused"},
                         {"group_size", 2},
                         {"alpha", 0.5},
                         {"beta", 1e-3}});
    const Calibration c = calibration_from_json(j);
    QCOMPARE(c.find("alltoall")->communicator, std::string("EP"));
    QCOMPARE(c.find("alltoall", "EP#fused")->fit.alpha, 0.5);
    QVERIFY(c.find("alltoall", "MP") == nullptr);
    QCOMPARE(c.comm_params().alltoall.alpha_ms, 0.01);
  }

  void wrongEnvironmentValuesAreRefused() {
    nlohmann::json j = old_file();
    j["devices"] = "NVIDIA H200";
    expect_refused(j, "devices");
    j = old_file();
    j["devices"] = {"cpu", 3};
    expect_refused(j, "devices[1]");
    j = old_file();
    j["nccl_env"] = {{"PATH", "/bin"}};
    expect_refused(j, "nccl_env.PATH");
    j = old_file();
    j["nccl_env"] = {{"NCCL_DEBUG", 1}};
    expect_refused(j, "nccl_env.NCCL_DEBUG");
    j = old_file();
    j["nccl_env"] = {"NCCL_DEBUG"};
    expect_refused(j, "nccl_env");
    j = old_file();
    j["transport"] = 2;
    expect_refused(j, "transport");
    j = old_file();
    j["nccl_topology"] = "two\nlines";
    expect_refused(j, "control characters");
    j = old_file();
    j["fits"][1]["shape"] = 7;
    expect_refused(j, "fits[1].shape");
  }
};

QTEST_GUILESS_MAIN(TestCalibrationFile)
#include "test_engine_calibration_file.moc"
