// The cuda backend's activity capture (CUPTI) where it cannot start: one line in unavailable(), push/pop
// and collect do nothing and never throw, the run goes on. On a machine whose device answers, the same
// suite checks the opposite: the capture is live, a second one in the process says it cannot be.
#include <cuda_runtime_api.h>

#include <QtTest>
#include <memory>
#include <string>

#include "engine/backend/cuda/cupti_capture.h"
#include "profiler/cupti/cupti_collector.h"

using namespace parm;

namespace {

bool device_answers() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

}  // namespace

class TestCuptiUnavailable : public QObject {
  Q_OBJECT
 private slots:
  void captureSaysWhyInOneLine() {
    const std::unique_ptr<backend::ActivityCapture> capture = backend::cuda::make_cupti_capture();
    QVERIFY(capture);
    const std::string& why = capture->unavailable();
    if (device_answers()) {
      QVERIFY2(why.empty(), why.c_str());
      return;
    }
    QVERIFY2(why.starts_with("CUPTI unavailable: cupti"), why.c_str());  // names the CUPTI call
    QVERIFY2(why.find(" returned CUPTI_ERROR") != std::string::npos, why.c_str());
    QVERIFY2(why.find('\n') == std::string::npos, why.c_str());
    // Measured without a driver: cuptiActivityEnable answers 999, and cudaGetDeviceCount says why.
    if (why.starts_with("CUPTI unavailable: cuptiActivityEnable(")) {
      QVERIFY2(why.find("no CUDA driver or no device") != std::string::npos, why.c_str());
    }
    qInfo("%s", why.c_str());
  }

  void unavailableCaptureDoesNothing() {
    if (device_answers()) QSKIP("a device answers: the capture is live (tests/gpu/profiler checks it)");
    const std::unique_ptr<backend::ActivityCapture> capture = backend::cuda::make_cupti_capture();
    capture->push_launch(7);
    capture->push_launch(8);
    capture->pop_launch();
    capture->pop_launch();
    capture->pop_launch();  // one pop too many: still nothing
    profiler::GpuActivity out;
    capture->collect(out);
    capture->collect(out);
    QVERIFY(out.empty());
    QCOMPARE(out.dropped_records, std::int64_t{0});
    QCOMPARE(out.unavailable, capture->unavailable());
  }

  void failedStartLetsTheNextOneTry() {
    if (device_answers()) {
      profiler::cupti::CuptiCollector live;
      QVERIFY2(live.unavailable().empty(), live.unavailable().c_str());
      profiler::cupti::CuptiCollector second;
      QCOMPARE(second.unavailable(),
               std::string("CUPTI unavailable: another capture is live in this process (CUPTI activity is "
                           "process-wide)"));
      return;
    }
    profiler::cupti::CuptiCollector first;
    profiler::cupti::CuptiCollector second;  // the first one gave CUPTI back when it failed
    QCOMPARE(second.unavailable(), first.unavailable());
    QVERIFY(second.unavailable().find("another capture") == std::string::npos);
  }

  void collectorsComeAndGo() {
    for (int i = 0; i < 3; ++i) {
      profiler::cupti::CuptiCollector c;
      profiler::GpuActivity out;
      c.collect(out);
      QCOMPARE(c.unavailable().empty(), device_answers());
    }
  }

  void failureTextNamesCallAndCode() {
    QCOMPARE(
        profiler::cupti::cupti_failure_text("cuptiActivityEnable(CONCURRENT_KERNEL)", 999,
                                            "no CUDA driver or no device"),
        std::string("CUPTI unavailable: cuptiActivityEnable(CONCURRENT_KERNEL) returned CUPTI_ERROR_UNKNOWN "
                    "(999): no CUDA driver or no device"));
    QCOMPARE(
        profiler::cupti::cupti_failure_text("cuptiActivityFlushAll", 1, ""),
        std::string("CUPTI unavailable: cuptiActivityFlushAll returned CUPTI_ERROR_INVALID_PARAMETER (1)"));
  }
};

QTEST_GUILESS_MAIN(TestCuptiUnavailable)
#include "test_profiler_cupti_unavailable.moc"
