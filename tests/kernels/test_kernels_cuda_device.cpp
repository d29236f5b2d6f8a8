// The CUDA toolchain end to end: a device is found and a kernel computes the host's answer. Exits 77
// (skipped) where no device exists, as on CI.
#include <QtTest>
#include <cstdio>

#include "kernels/cuda/device_info.h"

using namespace parm::kernels::cuda;

class TestCudaDevice : public QObject {
  Q_OBJECT
 private slots:
  void devicePropertiesAreSane() {
    const DeviceProbe probe = probe_devices();
    QVERIFY2(!probe.devices.empty(), probe.error.c_str());
    for (const auto& d : probe.devices) {
      QVERIFY(d.compute_major >= 7);
      QVERIFY(d.memory_bytes > (1ull << 30));
      QVERIFY(d.multiprocessors > 0);
    }
  }
  void saxpyMatchesHost_data() {
    QTest::addColumn<int>("n");
    QTest::newRow("one block") << 200;
    QTest::newRow("ragged tail") << 1000003;
  }
  void saxpyMatchesHost() {
    QFETCH(int, n);
    std::string error;
    const double err = saxpy_self_test(0, n, error);
    QVERIFY2(err >= 0.0, error.c_str());
    QCOMPARE(err, 0.0);
  }
};

int main(int argc, char** argv) {
  const DeviceProbe probe = probe_devices();
  if (probe.devices.empty()) {
    std::printf("SKIP: %s\n", probe.error.c_str());
    return 77;
  }
  TestCudaDevice t;
  return QTest::qExec(&t, argc, argv);
}

#include "test_kernels_cuda_device.moc"
