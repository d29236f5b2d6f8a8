// run.backend against what this build and machine offer: cpu always runs; cuda and cuda+mpi are refused with
// one line saying what is missing and what to use instead.
#include <QtTest>

#include "engine/backend/backend_availability.h"

using namespace parm;

class TestBackendAvailability : public QObject {
  Q_OBJECT
 private slots:
  void verdicts_data() {
    QTest::addColumn<int>("backend");
    QTest::addColumn<bool>("built");
    QTest::addColumn<int>("devices");
    QTest::addColumn<QString>("probe_error");
    QTest::addColumn<bool>("engine");
    QTest::addColumn<QString>("expected");  // empty: it runs
    const QString insufficient =
        "cudaGetDeviceCount: CUDA driver version is insufficient for CUDA runtime version";
    QTest::newRow("cpu without cuda") << int(Backend::Cpu) << false << 0 << QString() << false << QString();
    QTest::newRow("cuda, build without cuda") << int(Backend::Cuda) << false << 0 << QString() << false
                                              << "backend cuda: this build has no CUDA support (configured "
                                                 "without PARM_WITH_CUDA); use backend cpu";
    QTest::newRow("cuda+mpi, no driver")
        << int(Backend::CudaMpi) << true << 0 << insufficient << false
        << "backend cuda+mpi: no CUDA device answers (" + insufficient + "); use backend cpu";
    QTest::newRow("cuda, no device, no error text")
        << int(Backend::Cuda) << true << 0 << QString() << false
        << "backend cuda: no CUDA device answers; use backend cpu";
    QTest::newRow("cuda, device but no engine") << int(Backend::Cuda) << true << 1 << QString() << false
                                                << "backend cuda: this build has no CUDA layer engine yet "
                                                   "(only the cpu engine runs layers); use backend "
                                                   "cpu";
    QTest::newRow("cuda, device and engine")
        << int(Backend::Cuda) << true << 2 << QString() << true << QString();
  }

  void verdicts() {
    QFETCH(int, backend);
    QFETCH(bool, built);
    QFETCH(int, devices);
    QFETCH(QString, probe_error);
    QFETCH(bool, engine);
    QFETCH(QString, expected);
    const CudaAvailability cuda{built, devices, probe_error.toStdString(), engine};
    const auto why = backend_unavailable(static_cast<Backend>(backend), cuda);
    QCOMPARE(QString::fromStdString(why.value_or("")), expected);
  }

  // On this machine: cpu runs; cuda runs only where the engine is built and a device answers.
  void thisMachine() {
    QVERIFY(!backend_unavailable(Backend::Cpu));
    const auto why = backend_unavailable(Backend::Cuda);
    const CudaAvailability here = probe_cuda();
    if (here.engine_built && here.devices > 0) {
      QVERIFY2(!why, why.value_or("").c_str());
      return;
    }
    QVERIFY(why);
    QVERIFY2(why->rfind("backend cuda: ", 0) == 0 && why->find("; use backend cpu") != std::string::npos,
             why->c_str());
    const CudaAvailability probe = probe_cuda();
    QVERIFY(probe.devices > 0 || !probe.built || !probe.probe_error.empty());
  }
};

QTEST_GUILESS_MAIN(TestBackendAvailability)
#include "test_engine_backend_availability.moc"
