// What the GPU did, as the timeline draws it: kernels, copies and memsets of each rank in compact records
// (names in TimelineData::strings()), each tied to the measured op that launched it, on rows of their own
// (one per rank, device and stream) placed right under the rank's lanes. GPU rows are TimelineRows whose lane
// is kGpuLaneBase + the stream's slot on that rank, so grouping, ordering, collapsing and side-by-side
// columns treat them like any lane; their TimelineRow::event entries index TimelineData::gpuItems().
#pragma once

#include <QString>
#include <cstdint>

namespace parm::app {

inline constexpr int kGpuLaneBase = 1000;  // above every host lane (imports name a few dozen at most)
inline bool isGpuLane(int lane) {
  return lane >= kGpuLaneBase;
}

enum class GpuKind : std::uint8_t { Kernel, Memcpy, Memset };

// One kernel, copy or memset. Times are stored run-origin ns (rank 0's clock), like measured events.
struct TimelineGpuItem {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::int64_t bytes = 0;    // copies and memsets
  std::int32_t name = -1;    // strings(): demangled kernel name
  std::int32_t label = -1;   // strings(): what the bar says (the short name)
  std::int32_t op = -1;      // measured() index of the launching op, -1: outside any traced op
  std::int32_t stream = -1;  // gpuStreams() index
  std::int32_t iteration = -1;
  std::int32_t row = -1;    // row of the current build, -1 when the mode hides it
  std::int32_t entry = -1;  // its index in that row
  std::int32_t grid[3] = {0, 0, 0};
  std::int32_t block[3] = {0, 0, 0};
  std::int32_t staticShared = 0, dynamicShared = 0, registers = 0;
  std::int32_t copyKind = 0;  // CUpti_ActivityMemcpyKind (copies); memset value (memsets)
  std::int16_t section = 0;
  std::int16_t rank = 0;
  GpuKind kind = GpuKind::Kernel;
};

// One (rank, device, stream) that ran something: one row per section it appears in.
struct TimelineGpuStream {
  int rank = 0;
  std::int64_t device = 0;
  std::int64_t stream = 0;
  int lane = kGpuLaneBase;  // kGpuLaneBase + slot, slots in (device, stream) order per rank
};

// A rank's capture status: "" when CUPTI ran, else "CUPTI unavailable: <reason>"; what CUPTI dropped.
struct TimelineGpuCapture {
  int rank = 0;
  QString status;
  std::int64_t droppedRecords = 0;
  std::int64_t overheadNs = 0;
};

// "HtoD", "DtoH", "DtoD", "PtoP", ... for CUpti_ActivityMemcpyKind.
QString memcpyKindName(int copyKind);

}  // namespace parm::app
