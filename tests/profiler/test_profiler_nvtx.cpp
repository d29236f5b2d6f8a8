// The "Parm" NVTX domain as a tool sees it, without nsys: NVTX_INJECTION64_PATH names the test's recording
// injection library (nvtx_recording_injection.cpp), which NVTX loads on the first call exactly as it loads
// nsys'. The domain is made once with its categories named, each op's string registered once, ranges pushed
// with their category, uint64 payload and registered message, pushes = pops; NvtxRangeLog keeps the same
// ranges.
#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <QtTest>
#include <cstdlib>

#include "profiler/gpu_activity.h"
#include "profiler/nvtx_ranges.h"
#include "profiler/op_tracer.h"
#include "tests/profiler/nvtx_recording_injection.h"

#ifdef PARM_HAVE_NVTX
#include <nvtx3/nvToolsExt.h>
#else
#define PARM_NVTX_INJECTION_PATH ""
#endif

using namespace parm::profiler;
using parm::test::NvtxRecording;

class TestProfilerNvtx : public QObject {
  Q_OBJECT

  const NvtxRecording* recording_ = nullptr;

  // The text a registered handle stands for, as the tool recorded it.
  QString text_of(const void* handle) const {
    for (const auto& [text, h] : recording_->strings)
      if (h == handle) return QString::fromStdString(text);
    return {};
  }

 private slots:
  void initTestCase() {
    QCOMPARE(NvtxRanges::compiled_in(), std::string(PARM_NVTX_INJECTION_PATH).size() > 0);
    // Before the first NVTX call: NVTX reads the variable once, when it initialises.
    if (NvtxRanges::compiled_in())
      QCOMPARE(::setenv("NVTX_INJECTION64_PATH", PARM_NVTX_INJECTION_PATH, 1), 0);
  }

  void domainIsMadeOnceWithItsCategories() {
    if (!NvtxRanges::compiled_in()) QSKIP("built without the NVTX header: no tool can attach");
    const NvtxMessage gate = NvtxRanges::register_message("gate");
    void* lib = ::dlopen(PARM_NVTX_INJECTION_PATH, RTLD_NOW | RTLD_NOLOAD);
    QVERIFY2(lib, "NVTX did not load the injection library");
    const auto get = reinterpret_cast<const NvtxRecording* (*)()>(::dlsym(lib, "parm_nvtx_recording"));
    QVERIFY(get);
    recording_ = get();
    QVERIFY(gate.handle != nullptr);  // a tool is attached: registration returns its handle
    NvtxRanges::register_message("AlltoAll");
    QCOMPARE(recording_->domains.size(), std::size_t(1));
    QCOMPARE(recording_->domains[0].first, std::string("Parm"));
    QCOMPARE(recording_->categories.size(), std::size_t(3));
    const std::pair<std::uint32_t, std::string> expected[] = {
        {1, "compute"}, {2, "intra-node"}, {3, "inter-node"}};
    for (std::size_t i = 0; i < 3; ++i) QCOMPARE(recording_->categories[i], expected[i]);
  }

  void eachStringIsRegisteredOnce() {
    if (!NvtxRanges::compiled_in()) QSKIP("built without the NVTX header: no tool can attach");
    QVERIFY(recording_);
    const NvtxMessage a = NvtxRanges::register_message("gate");
    const NvtxMessage b = NvtxRanges::register_message("gate");
    const NvtxMessage c = NvtxRanges::register_message("AlltoAll");
    QCOMPARE(a.id, b.id);
    QCOMPARE(a.handle, b.handle);
    QVERIFY(a.id != c.id);
    QCOMPARE(NvtxRanges::text_of(a.id), std::string("gate"));
    QCOMPARE(NvtxRanges::text_of(c.id), std::string("AlltoAll"));
    int gates = 0, alltoalls = 0;
    for (const auto& [text, handle] : recording_->strings) {
      gates += text == "gate";
      alltoalls += text == "AlltoAll";
    }
    QCOMPARE(gates, 1);
    QCOMPARE(alltoalls, 1);
    QCOMPARE(text_of(a.handle), QString("gate"));
  }

  void rangesCarryCategoryPayloadAndMessage() {
#ifndef PARM_HAVE_NVTX
    QSKIP("built without the NVTX header: no tool can attach");
#else
    QVERIFY(recording_);
    const NvtxMessage gate = NvtxRanges::register_message("gate");
    const NvtxMessage a2a = NvtxRanges::register_message("AlltoAll");
    const std::size_t before = recording_->pushes.size();
    const int pops_before = recording_->pops;
    NvtxRanges ranges;
    ranges.push(gate, NvtxCategory::Compute, 7, 11);
    ranges.push(a2a, NvtxCategory::InterNode, 7, 12);
    ranges.pop();
    ranges.pop();
    ranges.push(a2a, NvtxCategory::IntraNode, 8, 13);
    ranges.pop();
    QCOMPARE(recording_->pushes.size(), before + 3);
    QCOMPARE(recording_->pops, pops_before + 3);
    QCOMPARE(recording_->depth, 0);
    QVERIFY(recording_->deepest >= 2);
    const struct {
      std::uint32_t category;
      std::uint64_t payload;
      const char* text;
    } expected[] = {{1, 7, "gate"}, {3, 7, "AlltoAll"}, {2, 8, "AlltoAll"}};
    for (std::size_t i = 0; i < 3; ++i) {
      const parm::test::RecordedPush& p = recording_->pushes[before + i];
      QCOMPARE(p.domain, recording_->domains[0].second);
      QCOMPARE(p.version, std::uint16_t(NVTX_VERSION));
      QCOMPARE(p.size, std::uint16_t(NVTX_EVENT_ATTRIB_STRUCT_SIZE));
      QCOMPARE(p.category, expected[i].category);
      QCOMPARE(p.payload_type, std::int32_t(NVTX_PAYLOAD_TYPE_UNSIGNED_INT64));
      QCOMPARE(p.payload, expected[i].payload);
      QCOMPARE(p.message_type, std::int32_t(NVTX_MESSAGE_TYPE_REGISTERED));
      QCOMPARE(text_of(p.message), QString(expected[i].text));
      QCOMPARE(p.color_type, std::uint32_t(NVTX_COLOR_ARGB));
    }
    QVERIFY(recording_->pushes[before].color != recording_->pushes[before + 1].color);  // a colour per lane
#endif
  }

  void logKeepsTheRangesOnTheHostClock() {
    const NvtxMessage pipe = NvtxRanges::register_message("SAA");
    const NvtxMessage step = NvtxRanges::register_message("SAA:AlltoAll");
    NvtxRangeLog log(4);
    NvtxRanges ranges;
    ranges.record_into(&log);
    const std::int64_t t0 = now_ns();
    ranges.push(pipe, NvtxCategory::InterNode, 3, 0);
    ranges.push(step, NvtxCategory::InterNode, 3, 41);
    ranges.pop();
    ranges.push(step, NvtxCategory::InterNode, 3, 42);
    ranges.pop();
    ranges.pop();
    const std::int64_t t1 = now_ns();
    ranges.record_into(nullptr);
    ranges.push(step, NvtxCategory::Compute, 4, 43);  // not kept
    ranges.pop();
    QCOMPARE(log.size(), std::size_t(3));
    QCOMPARE(log.overflow(), std::size_t(0));

    GpuActivity out;
    out.intern("already there");
    log.move_into(out);
    QCOMPARE(log.size(), std::size_t(0));
    QCOMPARE(out.nvtx.size(), std::size_t(3));
    const NvtxRangeRecord& outer = out.nvtx[0];
    QCOMPARE(out.names[static_cast<std::size_t>(outer.text)], std::string("SAA"));
    QCOMPARE(out.names[static_cast<std::size_t>(out.nvtx[1].text)], std::string("SAA:AlltoAll"));
    QCOMPARE(out.nvtx[1].text, out.nvtx[2].text);  // interned once
    QCOMPARE(outer.launch_id, std::int64_t(0));
    QCOMPARE(out.nvtx[1].launch_id, std::int64_t(41));
    QCOMPARE(out.nvtx[2].launch_id, std::int64_t(42));
    for (const NvtxRangeRecord& r : out.nvtx) {
      QCOMPARE(r.category, 3);
      QCOMPARE(r.payload, std::uint64_t(3));
      QCOMPARE(r.thread_id, static_cast<std::uint32_t>(::syscall(SYS_gettid)));
      QVERIFY(r.start_ns >= t0 && r.end_ns <= t1 && r.start_ns <= r.end_ns);
      QVERIFY(r.start_ns >= outer.start_ns && r.end_ns <= outer.end_ns);  // steps nest in the pipeline
    }
    QVERIFY(out.nvtx[1].end_ns <= out.nvtx[2].start_ns);
  }

  void aFullLogCountsWhatItDropsAndStillPairs() {
    const NvtxMessage m = NvtxRanges::register_message("gate");
    NvtxRangeLog log(1);
    NvtxRanges ranges;
    ranges.record_into(&log);
    ranges.push(m, NvtxCategory::Compute, 0, 1);
    ranges.push(m, NvtxCategory::Compute, 0, 2);  // does not fit
    ranges.pop();                                 // closes the one that did not fit: the kept one stays open
    const std::int64_t inner_closed = now_ns();
    ranges.pop();
    QCOMPARE(log.size(), std::size_t(1));
    QCOMPARE(log.overflow(), std::size_t(1));
    QCOMPARE(log[0].launch_id, std::int64_t(1));
    QVERIFY(log[0].end_ns >= inner_closed);
  }
};

QTEST_APPLESS_MAIN(TestProfilerNvtx)
#include "test_profiler_nvtx.moc"
