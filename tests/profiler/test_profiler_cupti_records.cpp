// CUPTI's CUDA 13 activity records, built by hand as CUPTI lays them out, through the collector's real
// conversion (profiler/cupti/cupti_records.h): every field lands in its GpuActivity record, kernels join the
// op that launched them through the external correlation record in either order, and CLOCK_REALTIME
// timestamps land on profiler::now_ns's clock.
#include <cupti_runtime_cbid.h>

#include <QtTest>
#include <chrono>
#include <cstring>
#include <string>

#include "profiler/cupti/cupti_records.h"
#include "profiler/cupti/realtime_clock.h"
#include "profiler/op_tracer.h"

using namespace parm::profiler;
using namespace parm::profiler::cupti;

namespace {

// Anchors with a constant offset: realtime = steady + 1'000'000.
constexpr ClockAnchor kEarlier{0, 1'000'000};
constexpr ClockAnchor kLater{1'000'000'000'000, 1'000'000};

std::string fake_runtime_name(std::uint32_t cbid) {
  return "runtime " + std::to_string(cbid);
}

template <typename Record>
Record zeroed(CUpti_ActivityKind kind) {
  Record r;
  std::memset(&r, 0, sizeof r);
  r.kind = kind;
  return r;
}

CUpti_ActivityKernel10 kernel(std::uint32_t correlation, const char* name) {
  auto k = zeroed<CUpti_ActivityKernel10>(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  k.start = 5'000'000;
  k.end = 5'004'000;
  k.completed = 5'004'100;
  k.deviceId = 3;
  k.contextId = 1;
  k.streamId = 14;
  k.gridX = 128;
  k.gridY = 2;
  k.gridZ = 1;
  k.blockX = 256;
  k.blockY = 1;
  k.blockZ = 4;
  k.staticSharedMemory = 4096;
  k.dynamicSharedMemory = 8192;
  k.registersPerThread = 40;
  k.launchType = CUPTI_ACTIVITY_LAUNCH_TYPE_REGULAR;
  k.localMemoryTotal_v2 = 1ull << 33;
  k.gridId = 77;
  k.correlationId = correlation;
  k.name = name;
  return k;
}

CUpti_ActivityExternalCorrelation external(
    std::uint32_t correlation, std::uint64_t id,
    CUpti_ExternalCorrelationKind kind = CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0) {
  auto e = zeroed<CUpti_ActivityExternalCorrelation>(CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION);
  e.externalKind = kind;
  e.externalId = id;
  e.correlationId = correlation;
  return e;
}

template <typename Record>
const CUpti_Activity& as_activity(const Record& r) {
  return reinterpret_cast<const CUpti_Activity&>(r);
}

}  // namespace

class TestCuptiRecords : public QObject {
  Q_OBJECT
 private slots:
  void kernelFieldsLandInTheirRecord() {
    ActivityRecords records(&fake_runtime_name);
    // The kernel's name buffer is CUPTI's: the converter must copy it before the buffer goes.
    char name[] = "_Z5scaleIfEvPT_lS0_";
    records.add(as_activity(kernel(42, name)));
    std::memset(name, 'x', sizeof name - 1);
    GpuActivity out;
    out.names = {"already here"};
    records.finish(out, kEarlier, kLater);
    QCOMPARE(out.kernels.size(), std::size_t{1});
    const GpuKernelRecord& k = out.kernels[0];
    QCOMPARE(k.start_ns, std::int64_t{4'000'000});  // realtime 5'000'000 - offset
    QCOMPARE(k.end_ns, std::int64_t{4'004'000});
    QCOMPARE(k.device_id, 3u);
    QCOMPARE(k.context_id, 1u);
    QCOMPARE(k.stream_id, 14u);
    QCOMPARE(k.correlation_id, 42u);
    QCOMPARE(out.names.at(static_cast<std::size_t>(k.name)), std::string("_Z5scaleIfEvPT_lS0_"));
    QCOMPARE(out.names.front(), std::string("already here"));
    QCOMPARE(k.grid_x, 128);
    QCOMPARE(k.grid_y, 2);
    QCOMPARE(k.grid_z, 1);
    QCOMPARE(k.block_x, 256);
    QCOMPARE(k.block_y, 1);
    QCOMPARE(k.block_z, 4);
    QCOMPARE(k.static_shared_bytes, 4096);
    QCOMPARE(k.dynamic_shared_bytes, 8192);
    QCOMPARE(k.registers_per_thread, 40);
    QCOMPARE(k.launch_type, static_cast<int>(CUPTI_ACTIVITY_LAUNCH_TYPE_REGULAR));
    QCOMPARE(k.local_memory_total, std::int64_t{1} << 33);
    QCOMPARE(k.grid_id, std::int64_t{77});
    QCOMPARE(k.launch_id, std::int64_t{0});  // no external correlation: launched outside any traced op
  }

  void copiesAndMemsetsLandInTheirRecords() {
    ActivityRecords records(&fake_runtime_name);
    auto m = zeroed<CUpti_ActivityMemcpy6>(CUPTI_ACTIVITY_KIND_MEMCPY);
    m.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_HTOD;
    m.srcKind = CUPTI_ACTIVITY_MEMORY_KIND_PINNED;
    m.dstKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
    m.bytes = 1 << 20;
    m.start = 2'000'000;
    m.end = 2'500'000;
    m.deviceId = 1;
    m.contextId = 2;
    m.streamId = 13;
    m.correlationId = 9;
    records.add(as_activity(m));
    auto p = zeroed<CUpti_ActivityMemcpyPtoP4>(CUPTI_ACTIVITY_KIND_MEMCPY2);
    p.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_PTOP;
    p.srcKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
    p.dstKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
    p.bytes = 3 << 20;
    p.start = 3'000'000;
    p.end = 3'100'000;
    p.deviceId = 0;
    p.streamId = 15;
    p.srcDeviceId = 0;
    p.dstDeviceId = 5;
    p.correlationId = 10;
    records.add(as_activity(p));
    auto s = zeroed<CUpti_ActivityMemset4>(CUPTI_ACTIVITY_KIND_MEMSET);
    s.value = 0xab;
    s.bytes = 4096;
    s.start = 4'000'000;
    s.end = 4'000'500;
    s.deviceId = 2;
    s.contextId = 3;
    s.streamId = 16;
    s.correlationId = 11;
    s.memoryKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
    records.add(as_activity(s));
    records.add(as_activity(external(11, 5)));
    GpuActivity out;
    records.finish(out, kEarlier, kLater);
    QCOMPARE(out.memcpys.size(), std::size_t{2});
    const GpuMemcpyRecord& c = out.memcpys[0];
    QCOMPARE(c.start_ns, std::int64_t{1'000'000});
    QCOMPARE(c.end_ns, std::int64_t{1'500'000});
    QCOMPARE(c.bytes, std::int64_t{1} << 20);
    QCOMPARE(c.copy_kind, static_cast<int>(CUPTI_ACTIVITY_MEMCPY_KIND_HTOD));
    QCOMPARE(c.src_kind, static_cast<int>(CUPTI_ACTIVITY_MEMORY_KIND_PINNED));
    QCOMPARE(c.dst_kind, static_cast<int>(CUPTI_ACTIVITY_MEMORY_KIND_DEVICE));
    QCOMPARE(c.device_id, 1u);
    QCOMPARE(c.context_id, 2u);
    QCOMPARE(c.stream_id, 13u);
    QCOMPARE(c.correlation_id, 9u);
    QCOMPARE(c.src_device_id, -1);  // not a peer copy
    const GpuMemcpyRecord& peer = out.memcpys[1];
    QCOMPARE(peer.copy_kind, 10);  // nsys copyKind PtoP
    QCOMPARE(peer.bytes, std::int64_t{3} << 20);
    QCOMPARE(peer.src_device_id, 0);
    QCOMPARE(peer.dst_device_id, 5);
    QCOMPARE(peer.stream_id, 15u);
    QCOMPARE(peer.start_ns, std::int64_t{2'000'000});
    QCOMPARE(out.memsets.size(), std::size_t{1});
    const GpuMemsetRecord& ms = out.memsets[0];
    QCOMPARE(ms.value, 0xab);
    QCOMPARE(ms.bytes, std::int64_t{4096});
    QCOMPARE(ms.memory_kind, static_cast<int>(CUPTI_ACTIVITY_MEMORY_KIND_DEVICE));
    QCOMPARE(ms.device_id, 2u);
    QCOMPARE(ms.context_id, 3u);
    QCOMPARE(ms.stream_id, 16u);
    QCOMPARE(ms.end_ns, std::int64_t{3'000'500});
    QCOMPARE(ms.launch_id, std::int64_t{5});
    QCOMPARE(c.launch_id, std::int64_t{0});
  }

  void runtimeCallsAndOverheadsLandInTheirRecords() {
    ActivityRecords records(&fake_runtime_name);
    auto a = zeroed<CUpti_ActivityAPI>(CUPTI_ACTIVITY_KIND_RUNTIME);
    a.cbid = CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000;
    a.start = 1'200'000;
    a.end = 1'203'000;
    a.processId = 99;
    a.threadId = 1234;
    a.correlationId = 42;
    a.returnValue = 0;
    records.add(as_activity(a));
    a.start = 1'300'000;
    a.end = 1'300'100;
    a.correlationId = 43;
    a.returnValue = 700;
    records.add(as_activity(a));  // the same call again: the name is looked up once and shared
    auto o = zeroed<CUpti_ActivityOverhead3>(CUPTI_ACTIVITY_KIND_OVERHEAD);
    o.overheadKind = CUPTI_ACTIVITY_OVERHEAD_CUPTI_BUFFER_FLUSH;
    o.start = 1'500'000;
    o.end = 1'600'000;
    records.add(as_activity(o));
    auto device = zeroed<CUpti_ActivityExternalCorrelation>(CUPTI_ACTIVITY_KIND_DEVICE);
    records.add(as_activity(device));  // a kind the converter does not use
    GpuActivity out;
    records.finish(out, kEarlier, kLater);
    QCOMPARE(records.skipped(), std::int64_t{1});
    QCOMPARE(out.runtime.size(), std::size_t{2});
    const GpuRuntimeRecord& r = out.runtime[0];
    QCOMPARE(r.start_ns, std::int64_t{200'000});
    QCOMPARE(r.end_ns, std::int64_t{203'000});
    QCOMPARE(r.correlation_id, 42u);
    QCOMPARE(r.thread_id, 1234u);
    QCOMPARE(r.callback_id, static_cast<int>(CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000));
    QCOMPARE(out.names.at(static_cast<std::size_t>(r.name)), std::string("runtime 211"));
    QCOMPARE(out.runtime[1].name, r.name);
    QCOMPARE(out.runtime[1].return_value, 700);
    QCOMPARE(out.overheads.size(), std::size_t{1});
    QCOMPARE(out.overheads[0].kind, static_cast<int>(CUPTI_ACTIVITY_OVERHEAD_CUPTI_BUFFER_FLUSH));
    QCOMPARE(out.names.at(static_cast<std::size_t>(out.overheads[0].name)),
             std::string("CUPTI buffer flush"));
    QCOMPARE(out.overheads[0].start_ns, std::int64_t{500'000});
    QCOMPARE(out.overheads[0].end_ns, std::int64_t{600'000});
  }

  void runtimeNamesComeFromCupti() {
    // cuptiGetCallbackName needs no driver.
    QVERIFY(
        runtime_api_name(CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000).starts_with("cudaLaunchKernel"));
    QVERIFY(runtime_api_name(CUPTI_RUNTIME_TRACE_CBID_cudaMemcpyAsync_v3020).starts_with("cudaMemcpyAsync"));
    QCOMPARE(runtime_api_name(0x7ffffff0), std::string("runtime cbid 2147483632"));
    QCOMPARE(overhead_name(12345), std::string("CUPTI overhead 12345"));
  }

  void externalCorrelationJoinsInEitherOrder() {
    ActivityRecords records(&fake_runtime_name);
    records.add(as_activity(external(1, 7)));  // before its kernel
    records.add(as_activity(kernel(1, "a")));
    records.add(as_activity(kernel(2, "b")));
    records.add(as_activity(external(2, 8)));  // after its kernel
    records.add(as_activity(kernel(3, "c")));
    records.add(as_activity(external(3, 9, CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM1)));  // not ours
    GpuActivity out;
    records.finish(out, kEarlier, kLater);
    QCOMPARE(out.kernels.size(), std::size_t{3});
    QCOMPARE(out.kernels[0].launch_id, std::int64_t{7});
    QCOMPARE(out.kernels[1].launch_id, std::int64_t{8});
    QCOMPARE(out.kernels[2].launch_id, std::int64_t{0});
    QCOMPARE(records.waiting_correlations(), std::size_t{0});  // joined ones are forgotten
  }

  void externalCorrelationWaitsOneCollectForItsKernel() {
    ActivityRecords records(&fake_runtime_name);
    records.add(as_activity(external(20, 70)));  // its kernel lands in the next buffer
    records.add(as_activity(external(21, 71)));  // a call that launched nothing (cudaStreamSynchronize)
    GpuActivity first;
    records.finish(first, kEarlier, kLater);
    QVERIFY(first.kernels.empty());
    QCOMPARE(records.waiting_correlations(), std::size_t{2});
    records.add(as_activity(kernel(20, "late")));
    GpuActivity second;
    records.finish(second, kEarlier, kLater);
    QCOMPARE(second.kernels.size(), std::size_t{1});
    QCOMPARE(second.kernels[0].launch_id, std::int64_t{70});
    // 21 had its one more collect: dropped now, so memory stays bounded.
    QCOMPARE(records.waiting_correlations(), std::size_t{0});
    records.add(as_activity(kernel(21, "too late")));
    GpuActivity third;
    records.finish(third, kEarlier, kLater);
    QCOMPARE(third.kernels.at(0).launch_id, std::int64_t{0});
  }

  void finishEmptiesTheRecords() {
    ActivityRecords records(&fake_runtime_name);
    records.add(as_activity(kernel(1, "a")));
    GpuActivity out;
    records.finish(out, kEarlier, kLater);
    records.finish(out, kEarlier, kLater);
    QCOMPARE(out.kernels.size(), std::size_t{1});  // appended once, not twice
  }

  void realtimeInterpolatesBetweenAnchors() {
    const ClockAnchor a{1000, 5000}, b{2000, 5100};
    QCOMPARE(realtime_to_steady_ns(6500, a, b), std::int64_t{1450});  // halfway: offset 5050
    QCOMPARE(realtime_to_steady_ns(6000, a, b), std::int64_t{1000});  // at a
    QCOMPARE(realtime_to_steady_ns(5500, a, b), std::int64_t{500});   // before a: a's offset
    QCOMPARE(realtime_to_steady_ns(8000, a, b), std::int64_t{2900});  // after b: b's offset
    QCOMPARE(realtime_to_steady_ns(6500, b, b), std::int64_t{1400});  // one anchor
    // Large real values (ns since 1970) do not overflow the interpolation.
    const ClockAnchor c{1'000'000'000'000, 1'764'000'000'000'000'000},
        d{2'000'000'000'000, c.offset_ns + 20'000};
    QCOMPARE(realtime_to_steady_ns(c.offset_ns + 1'500'000'000'000, c, d),
             std::int64_t{1'500'000'000'000 - 10'000});
  }

  void measuredAnchorMatchesTheClocks() {
    const std::int64_t before = now_ns();
    const ClockAnchor anchor = measure_clock_anchor();
    const std::int64_t after = now_ns();
    QVERIFY(anchor.steady_ns >= before && anchor.steady_ns <= after);
    const std::int64_t real = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
    const std::int64_t steady = now_ns();
    // A fresh reading agrees within a millisecond (no NTP step in between).
    QVERIFY2(std::llabs((real - steady) - anchor.offset_ns) < 1'000'000,
             qPrintable(QString::number((real - steady) - anchor.offset_ns)));
    // A realtime stamp taken now converts to within a millisecond of now on the steady clock.
    QVERIFY(std::llabs(realtime_to_steady_ns(real, anchor, anchor) - steady) < 1'000'000);
  }
};

QTEST_GUILESS_MAIN(TestCuptiRecords)
#include "test_profiler_cupti_records.moc"
