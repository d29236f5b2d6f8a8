// One run of a project file loaded for drawing: every measured event (and the predicted intervals) in compact
// arrays, regrouped into rows (schedule section, rank, lane) or (schedule section, predicted lane), each
// sorted by start with a running maximum of ends so that a time window is found by binary search and painting
// touches O(pixels) entries per row at any zoom (the level of detail comes from skipping to the next pixel,
// see TimelineView). Qt-light on purpose: no widgets, so the benchmark and the tests drive it directly.
#pragma once

#include <QString>
#include <QStringList>
#include <cstdint>
#include <functional>
#include <vector>

#include "app/timeline/timeline_gpu.h"

namespace parm::db {
class Database;
}

namespace parm::app {

// Colour class of an op, chosen once at load (the palette lives in timeline_view.cpp).
enum class OpClass : std::uint8_t {
  Compute,
  Local,  // Split/Copy: bookkeeping, no math
  AlltoAll,
  AllGather,
  ReduceScatter,
  AllReduce,
  PipelineSaa,  // fused pipelines: SAA:*, RSA:*, RS>A2A>AG:*
  PipelineRsa,
  PipelineRag,
  Other,
  GpuKernel,  // GPU rows: kernels, and copies and memsets in their own tones
  GpuMemcpy,
  GpuMemset,
  Count
};

enum class TimelineMode {
  Aligned,  // each schedule's chosen iteration shifted to 0, predicted rows under its measured rows
  WholeRun  // run-origin times, every iteration
};

// Which iteration the aligned mode shows: an explicit index (>= 0) or one of these.
inline constexpr int kIterationMedian = -1;
inline constexpr int kIterationFastest = -2;
inline constexpr int kIterationSlowest = -3;

// One event, measured (rank >= 0) or predicted (rank -1). Times are the stored ones: run-origin ns for
// measured events, ns from the start of the schedule's iteration for predicted ones.
struct TimelineEvent {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::int64_t bytes = 0;
  std::int64_t seq = -1;
  std::int32_t op = 0;  // indexes TimelineData::strings()
  std::int32_t group = 0;
  std::int32_t purpose = 0;
  std::int32_t flow = -1;   // collective index (measured events with seq >= 0)
  std::int32_t match = -1;  // measured: the matching predicted event; predicted: -1
  std::int32_t row = -1;    // row of the current build, -1 when the mode hides it
  std::int32_t iteration = 0;
  std::int16_t section = 0;
  std::int16_t rank = -1;
  std::int16_t lane = 0;
  std::int16_t chunk = -1;
  std::int16_t comm = -1;
  std::int8_t phase = 0;
  OpClass cls = OpClass::Other;
};

// A row of the current build: the events of one (section, rank, lane) or (section, predicted lane), or the
// GPU items of one (section, rank, stream) (lane >= kGpuLaneBase).
struct TimelineRow {
  int section = 0;
  int rank = -1;  // -1: predicted
  int lane = 0;
  bool predicted() const { return rank < 0; }
  bool gpu() const { return isGpuLane(lane); }
  std::vector<std::int64_t> start;   // display ns, ascending
  std::vector<std::int64_t> end;     // display ns
  std::vector<std::int64_t> endMax;  // running maximum of end: first visible entry by binary search
  std::vector<std::int32_t> event;   // index into measured(), predicted() or gpuItems() (GPU rows)
  std::vector<OpClass> cls;
  // First entry that can intersect [t0, ...), and the entry after the last that starts before t1.
  std::size_t firstVisible(std::int64_t t0) const;
  std::size_t endVisible(std::int64_t t1) const;
};

struct TimelineSection {
  QString schedule;
  std::vector<std::int64_t> iterationStart;  // run-origin ns per measured iteration (index = iteration)
  std::vector<std::int64_t> iterationEnd;
  std::int64_t firstStart = 0;       // earliest measured event of the schedule
  int chosenIteration = -1;          // of the current build (-1: none measured)
  std::int64_t offset = 0;           // display ns = run-origin ns - offset for measured events
  std::int64_t predictedOffset = 0;  // display ns = predicted ns + predictedOffset
};

class TimelineData {
 public:
  // Loads the measured events of `run` and the predictions stored against `predictionRun` (-1: against
  // `run`). Returns false with a one-line message naming the file on a corrupt, foreign or newer file or a
  // missing run. Safe on a worker thread: opens its own connection. `progress` (optional) is called on the
  // loading thread with (events read, events stored) every few thousand events and once at the end.
  using LoadProgress = std::function<void(std::int64_t done, std::int64_t total)>;
  bool load(const QString& path, std::int64_t run, std::int64_t predictionRun, QString* error,
            const LoadProgress& progress = {});

  // Regroups into rows for a mode; `relative`: side-by-side columns share an axis, so whole-run times start
  // at each schedule's first event.
  void build(TimelineMode mode, int iterationChoice, bool relative);

  const std::vector<TimelineEvent>& measured() const { return measured_; }
  const std::vector<TimelineEvent>& predicted() const { return predicted_; }
  const std::vector<TimelineSection>& sections() const { return sections_; }
  const std::vector<TimelineRow>& rows() const { return rows_; }
  const QStringList& strings() const { return strings_; }
  QString laneName(int rank, int lane) const;  // GPU lanes: "GPU 0 · stream 13"

  // GPU activity (db/gpu_activity.h), each kind by (rank, start); empty for runs without a capture.
  const std::vector<TimelineGpuItem>& gpuItems() const { return gpu_; }
  const std::vector<TimelineGpuStream>& gpuStreams() const { return gpuStreams_; }
  const std::vector<TimelineGpuCapture>& gpuCaptures() const { return gpuCaptures_; }
  // gpuItems() indices launched by measured event `op`, in start order.
  std::vector<std::int32_t> gpuItemsOf(std::int32_t op) const;
  // Where a rank is labelled: a short note ("CUPTI unavailable", "12 dropped") and the full status, both
  // empty when the rank was captured completely or not at all.
  QString gpuCaptureNote(int rank) const;
  QString gpuCaptureTip(int rank) const;
  int ranks() const { return ranks_; }
  bool complete() const { return complete_; }
  std::int64_t runId() const { return run_; }
  QString runName() const { return runName_; }
  TimelineMode mode() const { return mode_; }

  // The member events of a collective (one per rank), ascending by rank.
  std::vector<std::int32_t> flowMembers(std::int32_t flow) const;
  std::size_t flowCount() const { return flowOffsets_.empty() ? 0 : flowOffsets_.size() - 1; }
  // Display-time span of every row of the build.
  std::int64_t displayStart() const { return displayStart_; }
  std::int64_t displayEnd() const { return displayEnd_; }
  // Display start/end of an event of the current build.
  std::int64_t displayStart(const TimelineEvent& e) const;
  std::int64_t displayEnd(const TimelineEvent& e) const;
  // Row of the build for (section, rank or -1, lane), -1 if none.
  int findRow(int section, int rank, int lane) const;

 private:
  void classify();
  void matchPredictions();
  void groupFlows();
  // Reads the stored GPU rows into items tied to their ops; `eventIds` are the events.id of measured() (same
  // order). placeGpu() then gives each item its section, once sections are in their final order.
  void readGpu(const db::Database& db, const std::vector<std::int64_t>& eventIds);
  void placeGpu();

  std::vector<TimelineEvent> measured_;
  std::vector<TimelineEvent> predicted_;
  std::vector<TimelineSection> sections_;
  std::vector<TimelineRow> rows_;
  QStringList strings_;  // local string table (op/group/purpose names)
  std::vector<std::int32_t> flowOffsets_, flowEvents_;
  struct LaneLabel {
    int rank, lane;
    QString name;
  };
  std::vector<LaneLabel> laneNames_;
  std::vector<TimelineGpuItem> gpu_;
  std::vector<TimelineGpuStream> gpuStreams_;
  std::vector<TimelineGpuCapture> gpuCaptures_;
  std::vector<std::int32_t> gpuByOp_;  // gpu_ indices of items with an op, ordered by (op, start)
  std::int64_t run_ = 0;
  QString runName_;
  int ranks_ = 0;
  bool complete_ = true;
  TimelineMode mode_ = TimelineMode::Aligned;
  std::int64_t displayStart_ = 0, displayEnd_ = 1;
};

QString opClassName(OpClass c);

}  // namespace parm::app
