// The cuda backend where no device answers (CI, the development machines): made for cuda or cuda+mpi it
// refuses with one line naming the runtime's answer and pointing to backend cpu, and never crashes; made
// through make_backend it comes from the module libparm_cuda.so, which must load with every symbol resolved.
#include <QtTest>
#include <string>

#include "engine/backend/cuda/cuda_backend.h"
#include "kernels/cuda/device_info.h"

using namespace parm::backend;

class TestCudaBackendRefusal : public QObject {
  Q_OBJECT
 private slots:
  void refusesWithOneLine_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("head");
    QTest::newRow("cuda") << int(parm::Backend::Cuda) << "backend cuda: no CUDA device answers";
    QTest::newRow("cuda+mpi") << int(parm::Backend::CudaMpi) << "backend cuda+mpi: no CUDA device answers";
  }
  void refusesWithOneLine() {
    if (!parm::kernels::cuda::probe_devices().devices.empty())
      QSKIP("a CUDA device answers here: tests/gpu/engine/backend covers the backend on it");
    QFETCH(int, kind);
    QFETCH(QString, head);
    BackendOptions options;
    options.kind = static_cast<parm::Backend>(kind);
    for (bool through_module : {false, true}) {
      try {
        if (through_module)
          make_backend(options);
        else
          cuda::make_cuda_backend(options);
        QFAIL("a cuda backend was made without a device");
      } catch (const std::runtime_error& e) {
        const QString what = e.what();
        QVERIFY2(what.startsWith(head) && what.endsWith("; use backend cpu") && !what.contains('\n'),
                 e.what());
      }
    }
  }
};

QTEST_GUILESS_MAIN(TestCudaBackendRefusal)
#include "test_engine_cuda_backend_refusal.moc"
