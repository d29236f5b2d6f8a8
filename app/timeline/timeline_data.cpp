#include "app/timeline/timeline_data.h"

#include <QHash>
#include <algorithm>
#include <exception>
#include <limits>
#include <map>
#include <numeric>
#include <tuple>
#include <unordered_map>

#include "db/database.h"
#include "db/timeline_query.h"

namespace parm::app {
namespace {

OpClass classOf(const QString& op) {
  if (op.startsWith(QLatin1String("SAA"))) return OpClass::PipelineSaa;
  if (op.startsWith(QLatin1String("RSA"))) return OpClass::PipelineRsa;
  if (op.startsWith(QLatin1String("RS>A2A>AG"))) return OpClass::PipelineRag;
  if (op.contains(QLatin1String("AlltoAll"))) return OpClass::AlltoAll;
  if (op.contains(QLatin1String("AllGather"))) return OpClass::AllGather;
  if (op.contains(QLatin1String("ReduceScatter"))) return OpClass::ReduceScatter;
  if (op.contains(QLatin1String("AllReduce"))) return OpClass::AllReduce;
  if (op.startsWith(QLatin1String("Split")) || op.startsWith(QLatin1String("Copy"))) return OpClass::Local;
  if (op.isEmpty()) return OpClass::Other;
  return OpClass::Compute;
}

// Predictions name ops "AlltoAll(EP)" / "SAA/AlltoAll" where traces say "AlltoAll" / "SAA:AlltoAll".
QString normalisedOp(QString op) {
  op.replace(QLatin1Char('/'), QLatin1Char(':'));
  const qsizetype paren = op.indexOf(QLatin1Char('('));
  return paren > 0 ? op.left(paren) : op;
}

}  // namespace

QString opClassName(OpClass c) {
  switch (c) {
    case OpClass::Compute:
      return QStringLiteral("compute");
    case OpClass::Local:
      return QStringLiteral("split/copy");
    case OpClass::AlltoAll:
      return QStringLiteral("AlltoAll");
    case OpClass::AllGather:
      return QStringLiteral("AllGather");
    case OpClass::ReduceScatter:
      return QStringLiteral("ReduceScatter");
    case OpClass::AllReduce:
      return QStringLiteral("AllReduce");
    case OpClass::PipelineSaa:
      return QStringLiteral("SAA pipeline");
    case OpClass::PipelineRsa:
      return QStringLiteral("RSA pipeline");
    case OpClass::PipelineRag:
      return QStringLiteral("RS>A2A>AG pipeline");
    case OpClass::GpuKernel:
      return QStringLiteral("kernel");
    case OpClass::GpuMemcpy:
      return QStringLiteral("memcpy");
    case OpClass::GpuMemset:
      return QStringLiteral("memset");
    default:
      return QStringLiteral("other");
  }
}

std::size_t TimelineRow::firstVisible(std::int64_t t0) const {
  return static_cast<std::size_t>(std::lower_bound(endMax.begin(), endMax.end(), t0) - endMax.begin());
}

std::size_t TimelineRow::endVisible(std::int64_t t1) const {
  return static_cast<std::size_t>(std::lower_bound(start.begin(), start.end(), t1) - start.begin());
}

bool TimelineData::load(const QString& path, std::int64_t run, std::int64_t predictionRun, QString* error,
                        const LoadProgress& progress) {
  std::vector<std::int64_t> eventIds;  // events.id of measured_, for the GPU rows' launching ops
  try {
    db::Database db = db::Database::open(path.toStdString(), false);
    const std::optional<db::RunInfo> info = db.run(run);
    if (!info) throw db::DbError(path.toStdString() + ": no run " + std::to_string(run));
    run_ = run;
    runName_ = QString::fromStdString(info->name);
    ranks_ = info->ranks;
    complete_ = info->complete;
    for (const db::LaneName& l : db.lane_names(run))
      laneNames_.push_back({l.rank, l.lane, QString::fromStdString(l.name)});

    // Local string table: only the ids events use, in first-use order.
    std::unordered_map<std::int32_t, std::int32_t> local;
    auto str = [&](std::int32_t id) {
      auto [it, added] = local.try_emplace(id, static_cast<std::int32_t>(strings_.size()));
      if (added) strings_.push_back(QString::fromStdString(db.string(id)));
      return it->second;
    };
    std::unordered_map<std::int32_t, int> sectionOf;  // schedule string id -> section
    auto section = [&](std::int32_t scheduleId) {
      auto [it, added] = sectionOf.try_emplace(scheduleId, static_cast<int>(sections_.size()));
      if (added) {
        TimelineSection s;
        s.schedule = QString::fromStdString(db.string(scheduleId));
        s.firstStart = std::numeric_limits<std::int64_t>::max();
        sections_.push_back(std::move(s));
      }
      return it->second;
    };

    // Each op kind once, then the spans in (rank, start) order (db/timeline_query.h).
    struct Kind {
      std::int32_t lane, schedule, phase, op, group, purpose, comm, chunk;
    };
    // Names are resolved in the kinds map's order, as before the reader moved to db/ (same string table).
    std::unordered_map<std::int64_t, db::EventKindRow> kinds;
    for (const db::EventKindRow& k : db::event_kinds(db, run)) kinds[k.id] = k;
    std::unordered_map<std::int64_t, Kind> resolved;
    for (const auto& [id, k] : kinds)
      resolved[id] = {k.lane,       section(k.schedule), k.phase, str(k.op),
                      str(k.group), str(k.purpose),      k.comm,  k.chunk};
    const std::int64_t stored = std::max<std::int64_t>(db.event_count(run), 0);
    measured_.reserve(static_cast<std::size_t>(stored));
    std::int64_t read = 0;
    db::for_each_event_span(db, run, [&](const db::EventSpanRow& s) {
      if (progress && ++read % 16384 == 0) progress(read, stored);
      const auto it = resolved.find(s.kind);
      if (it == resolved.end()) return;  // a span whose kind was not committed yet (run being written)
      const Kind& kd = it->second;
      TimelineEvent e;
      e.rank = static_cast<std::int16_t>(s.rank);
      e.iteration = s.iteration;
      e.bytes = s.bytes;
      e.seq = s.seq;
      e.start_ns = s.start_ns;
      e.end_ns = std::max(s.end_ns, e.start_ns);
      e.section = static_cast<std::int16_t>(kd.schedule);
      e.lane = static_cast<std::int16_t>(kd.lane);
      e.phase = static_cast<std::int8_t>(kd.phase);
      e.op = kd.op;
      e.group = kd.group;
      e.purpose = kd.purpose;
      e.comm = static_cast<std::int16_t>(kd.comm);
      e.chunk = static_cast<std::int16_t>(kd.chunk);
      measured_.push_back(e);
      eventIds.push_back(s.id);
    });
    if (progress) progress(stored, stored);
    readGpu(db, eventIds);
    for (const db::EventRow& p : db.predictions(predictionRun >= 0 ? predictionRun : run)) {
      TimelineEvent e;
      e.rank = -1;
      e.section = static_cast<std::int16_t>(section(p.schedule));
      e.lane = static_cast<std::int16_t>(p.lane);
      e.iteration = p.iteration;
      e.phase = static_cast<std::int8_t>(p.phase);
      e.op = str(p.op);
      e.group = str(p.group);
      e.purpose = str(p.purpose);
      e.start_ns = p.start_ns;
      e.end_ns = std::max(p.end_ns, p.start_ns);
      predicted_.push_back(e);
    }
  } catch (const std::exception& e) {
    if (error) {
      const QString what = QString::fromStdString(e.what());
      *error = what.startsWith(path) ? what : path + ": " + what;
    }
    return false;
  }

  // Sections in time order of their first measured event (predicted-only schedules last, in load order).
  for (const TimelineEvent& e : measured_) {
    TimelineSection& s = sections_[static_cast<std::size_t>(e.section)];
    s.firstStart = std::min(s.firstStart, e.start_ns);
    if (e.iteration < 0) continue;
    const auto it = static_cast<std::size_t>(e.iteration);
    if (s.iterationStart.size() <= it) {
      s.iterationStart.resize(it + 1, std::numeric_limits<std::int64_t>::max());
      s.iterationEnd.resize(it + 1, std::numeric_limits<std::int64_t>::min());
    }
    s.iterationStart[it] = std::min(s.iterationStart[it], e.start_ns);
    s.iterationEnd[it] = std::max(s.iterationEnd[it], e.end_ns);
  }
  // Viewing a measured run, schedules that were predicted but not run have nothing to compare with: dropped.
  std::size_t keep = sections_.size();
  if (!measured_.empty()) {
    std::erase_if(predicted_, [&](const TimelineEvent& e) {
      return sections_[static_cast<std::size_t>(e.section)].firstStart ==
             std::numeric_limits<std::int64_t>::max();
    });
    keep = static_cast<std::size_t>(std::count_if(
        sections_.begin(), sections_.end(),
        [](const TimelineSection& s) { return s.firstStart != std::numeric_limits<std::int64_t>::max(); }));
  }
  std::vector<int> order(sections_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return sections_[static_cast<std::size_t>(a)].firstStart <
           sections_[static_cast<std::size_t>(b)].firstStart;
  });
  std::vector<std::int16_t> remap(sections_.size());
  std::vector<TimelineSection> sorted;
  for (std::size_t i = 0; i < order.size(); ++i) {
    remap[static_cast<std::size_t>(order[i])] = static_cast<std::int16_t>(i);
    sorted.push_back(std::move(sections_[static_cast<std::size_t>(order[i])]));
  }
  sorted.resize(keep);  // unmeasured sections sort last
  sections_ = std::move(sorted);
  for (TimelineEvent& e : measured_) e.section = remap[static_cast<std::size_t>(e.section)];
  for (TimelineEvent& e : predicted_) e.section = remap[static_cast<std::size_t>(e.section)];
  for (TimelineSection& s : sections_)
    if (s.firstStart == std::numeric_limits<std::int64_t>::max()) s.firstStart = 0;

  classify();
  matchPredictions();
  groupFlows();
  placeGpu();
  return true;
}

void TimelineData::classify() {
  std::vector<OpClass> byString(static_cast<std::size_t>(strings_.size()));
  for (qsizetype i = 0; i < strings_.size(); ++i)
    byString[static_cast<std::size_t>(i)] = classOf(strings_[i]);
  for (TimelineEvent& e : measured_) e.cls = byString[static_cast<std::size_t>(e.op)];
  for (TimelineEvent& e : predicted_) e.cls = byString[static_cast<std::size_t>(e.op)];
}

// The k-th occurrence of an op (by normalised name) in one phase of a rank's iteration is matched with the
// k-th predicted occurrence in that phase of the schedule: names differ between traces and predictions only
// in decoration, and pipelines repeat the same name per chunk in the same order.
void TimelineData::matchPredictions() {
  if (predicted_.empty()) return;
  QHash<QString, std::int32_t> normIds;
  std::vector<std::int32_t> norm(static_cast<std::size_t>(strings_.size()));
  for (qsizetype i = 0; i < strings_.size(); ++i) {
    const QString n = normalisedOp(strings_[i]);
    auto it = normIds.find(n);
    if (it == normIds.end()) it = normIds.insert(n, static_cast<std::int32_t>(normIds.size()));
    norm[static_cast<std::size_t>(i)] = it.value();
  }
  using Key = std::tuple<int, int, int, int, int>;  // section, rank/iteration, phase, op, ordinal
  std::map<Key, std::int32_t> predictedAt;
  std::map<std::tuple<int, int, int>, int> predictedCount;  // (section, phase, op) -> occurrences so far
  std::vector<std::int32_t> byTime(predicted_.size());
  std::iota(byTime.begin(), byTime.end(), 0);
  std::stable_sort(byTime.begin(), byTime.end(), [&](std::int32_t a, std::int32_t b) {
    const TimelineEvent &x = predicted_[static_cast<std::size_t>(a)],
                        &y = predicted_[static_cast<std::size_t>(b)];
    return std::tie(x.section, x.start_ns, x.end_ns) < std::tie(y.section, y.start_ns, y.end_ns);
  });
  for (std::int32_t i : byTime) {
    const TimelineEvent& p = predicted_[static_cast<std::size_t>(i)];
    const int n = norm[static_cast<std::size_t>(p.op)];
    const int k = predictedCount[{p.section, p.phase, n}]++;
    predictedAt[{p.section, 0, p.phase, n, k}] = i;
  }
  // Measured events come in (rank, start) order, so counting per (section, rank, iteration, phase, op) is
  // counting in time order.
  std::unordered_map<std::uint64_t, int> seen;
  for (TimelineEvent& e : measured_) {
    const int n = norm[static_cast<std::size_t>(e.op)];
    const std::uint64_t key = (static_cast<std::uint64_t>(static_cast<std::uint16_t>(e.section)) << 48) |
                              (static_cast<std::uint64_t>(static_cast<std::uint16_t>(e.rank)) << 32) |
                              (static_cast<std::uint64_t>(static_cast<std::uint16_t>(e.iteration)) << 16) |
                              (static_cast<std::uint64_t>(e.phase & 1) << 15) |
                              static_cast<std::uint64_t>(n & 0x7fff);
    const int k = seen[key]++;
    const auto it = predictedAt.find({e.section, 0, e.phase, n, k});
    if (it != predictedAt.end()) e.match = it->second;
  }
}

void TimelineData::groupFlows() {
  std::vector<std::int32_t> members;
  for (std::size_t i = 0; i < measured_.size(); ++i)
    if (measured_[i].seq >= 0) members.push_back(static_cast<std::int32_t>(i));
  auto key = [&](std::int32_t i) {
    const TimelineEvent& e = measured_[static_cast<std::size_t>(i)];
    return std::make_tuple(e.section, e.iteration, e.phase, e.group, e.comm, e.seq, e.rank);
  };
  std::sort(members.begin(), members.end(), [&](std::int32_t a, std::int32_t b) { return key(a) < key(b); });
  flowOffsets_.assign(1, 0);
  for (std::size_t b = 0; b < members.size();) {
    std::size_t e = b + 1;
    auto id = [&](std::size_t i) {
      auto k = key(members[i]);
      return std::make_tuple(std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k), std::get<4>(k),
                             std::get<5>(k));
    };
    while (e < members.size() && id(e) == id(b)) ++e;
    if (e - b >= 2) {  // a collective of one rank has nothing to join
      const auto flow = static_cast<std::int32_t>(flowOffsets_.size() - 1);
      for (std::size_t i = b; i < e; ++i) {
        flowEvents_.push_back(members[i]);
        measured_[static_cast<std::size_t>(members[i])].flow = flow;
      }
      flowOffsets_.push_back(static_cast<std::int32_t>(flowEvents_.size()));
    }
    b = e;
  }
}

std::vector<std::int32_t> TimelineData::flowMembers(std::int32_t flow) const {
  if (flow < 0 || static_cast<std::size_t>(flow) + 1 >= flowOffsets_.size()) return {};
  return {flowEvents_.begin() + flowOffsets_[static_cast<std::size_t>(flow)],
          flowEvents_.begin() + flowOffsets_[static_cast<std::size_t>(flow) + 1]};
}

void TimelineData::build(TimelineMode mode, int iterationChoice, bool relative) {
  mode_ = mode;
  for (TimelineSection& s : sections_) {
    std::vector<int> valid;
    for (std::size_t i = 0; i < s.iterationStart.size(); ++i)
      if (s.iterationStart[i] <= s.iterationEnd[i]) valid.push_back(static_cast<int>(i));
    auto length = [&](int i) {
      return s.iterationEnd[static_cast<std::size_t>(i)] - s.iterationStart[static_cast<std::size_t>(i)];
    };
    std::stable_sort(valid.begin(), valid.end(), [&](int a, int b) { return length(a) < length(b); });
    s.chosenIteration = -1;
    if (!valid.empty()) {
      if (iterationChoice >= 0 && std::find(valid.begin(), valid.end(), iterationChoice) != valid.end())
        s.chosenIteration = iterationChoice;
      else if (iterationChoice == kIterationFastest)
        s.chosenIteration = valid.front();
      else if (iterationChoice == kIterationSlowest)
        s.chosenIteration = valid.back();
      else
        s.chosenIteration = valid[(valid.size() - 1) / 2];
    }
    const std::int64_t iterationStart =
        s.chosenIteration >= 0 ? s.iterationStart[static_cast<std::size_t>(s.chosenIteration)] : s.firstStart;
    if (mode == TimelineMode::Aligned) {
      s.offset = iterationStart;
      s.predictedOffset = 0;
    } else {
      s.offset = relative ? s.firstStart : 0;
      s.predictedOffset = iterationStart - s.offset;
    }
  }

  auto shows = [&](const TimelineEvent& e) {
    return mode == TimelineMode::WholeRun ||
           e.iteration == sections_[static_cast<std::size_t>(e.section)].chosenIteration;
  };
  // Pass 1: which rows exist (ordered: section, ranks ascending, predicted last, lane) and their sizes.
  std::map<std::tuple<int, int, int>, std::size_t> sizes;
  for (const TimelineEvent& e : measured_)
    if (shows(e)) ++sizes[{e.section, e.rank, e.lane}];
  for (const TimelineEvent& e : predicted_) ++sizes[{e.section, std::numeric_limits<int>::max(), e.lane}];
  auto showsGpu = [&](const TimelineGpuItem& g) {
    return mode == TimelineMode::WholeRun ||
           (g.iteration >= 0 &&
            g.iteration == sections_[static_cast<std::size_t>(g.section)].chosenIteration);
  };
  for (const TimelineGpuItem& g : gpu_)  // GPU lanes sort after the rank's host lanes: right under them
    if (showsGpu(g)) ++sizes[{g.section, g.rank, gpuStreams_[static_cast<std::size_t>(g.stream)].lane}];
  rows_.clear();
  std::map<std::tuple<int, int, int>, int> rowOf;
  for (const auto& [key, n] : sizes) {
    TimelineRow r;
    r.section = std::get<0>(key);
    r.rank = std::get<1>(key) == std::numeric_limits<int>::max() ? -1 : std::get<1>(key);
    r.lane = std::get<2>(key);
    r.start.reserve(n);
    r.end.reserve(n);
    r.event.reserve(n);
    r.cls.reserve(n);
    rowOf[key] = static_cast<int>(rows_.size());
    rows_.push_back(std::move(r));
  }
  // Pass 2: fill; consecutive events mostly share a row, so the map is consulted on row changes only.
  std::tuple<int, int, int> lastKey{-1, -1, -1};
  int lastRow = -1;
  auto add = [&](TimelineEvent& e, std::int32_t index, int rankKey, std::int64_t shift) {
    const std::tuple<int, int, int> key{e.section, rankKey, e.lane};
    if (key != lastKey) {
      lastKey = key;
      lastRow = rowOf.at(key);
    }
    TimelineRow& r = rows_[static_cast<std::size_t>(lastRow)];
    e.row = lastRow;
    r.start.push_back(e.start_ns + shift);
    r.end.push_back(e.end_ns + shift);
    r.event.push_back(index);
    r.cls.push_back(e.cls);
  };
  for (std::size_t i = 0; i < measured_.size(); ++i) {
    TimelineEvent& e = measured_[i];
    e.row = -1;
    if (shows(e))
      add(e, static_cast<std::int32_t>(i), e.rank, -sections_[static_cast<std::size_t>(e.section)].offset);
  }
  for (std::size_t i = 0; i < predicted_.size(); ++i) {
    TimelineEvent& e = predicted_[i];
    add(e, static_cast<std::int32_t>(i), std::numeric_limits<int>::max(),
        sections_[static_cast<std::size_t>(e.section)].predictedOffset);
  }
  for (std::size_t i = 0; i < gpu_.size(); ++i) {
    TimelineGpuItem& g = gpu_[i];
    g.row = g.entry = -1;
    if (!showsGpu(g)) continue;
    const int lane = gpuStreams_[static_cast<std::size_t>(g.stream)].lane;
    TimelineRow& r = rows_[static_cast<std::size_t>(rowOf.at({g.section, g.rank, lane}))];
    const std::int64_t shift = -sections_[static_cast<std::size_t>(g.section)].offset;
    g.row = rowOf.at({g.section, g.rank, lane});
    r.start.push_back(g.start_ns + shift);
    r.end.push_back(g.end_ns + shift);
    r.event.push_back(static_cast<std::int32_t>(i));
    r.cls.push_back(g.kind == GpuKind::Kernel   ? OpClass::GpuKernel
                    : g.kind == GpuKind::Memcpy ? OpClass::GpuMemcpy
                                                : OpClass::GpuMemset);
  }
  displayStart_ = std::numeric_limits<std::int64_t>::max();
  displayEnd_ = std::numeric_limits<std::int64_t>::min();
  for (TimelineRow& r : rows_) {
    if (!std::is_sorted(r.start.begin(), r.start.end())) {  // imports may interleave; traces never do
      std::vector<std::size_t> idx(r.start.size());
      std::iota(idx.begin(), idx.end(), 0);
      std::stable_sort(idx.begin(), idx.end(),
                       [&](std::size_t a, std::size_t b) { return r.start[a] < r.start[b]; });
      auto permute = [&](auto& v) {
        auto copy = v;
        for (std::size_t i = 0; i < idx.size(); ++i) v[i] = copy[idx[i]];
      };
      permute(r.start);
      permute(r.end);
      permute(r.event);
      permute(r.cls);
    }
    if (r.gpu())  // hover and highlight find an item's bar without a search
      for (std::size_t i = 0; i < r.event.size(); ++i)
        gpu_[static_cast<std::size_t>(r.event[i])].entry = static_cast<std::int32_t>(i);
    r.endMax.resize(r.end.size());
    std::int64_t m = std::numeric_limits<std::int64_t>::min();
    for (std::size_t i = 0; i < r.end.size(); ++i) r.endMax[i] = m = std::max(m, r.end[i]);
    if (!r.start.empty()) {
      displayStart_ = std::min(displayStart_, r.start.front());
      displayEnd_ = std::max(displayEnd_, m);
    }
  }
  if (displayStart_ > displayEnd_) displayStart_ = 0, displayEnd_ = 1;
  if (displayEnd_ == displayStart_) ++displayEnd_;
}

std::int64_t TimelineData::displayStart(const TimelineEvent& e) const {
  const TimelineSection& s = sections_[static_cast<std::size_t>(e.section)];
  return e.rank < 0 ? e.start_ns + s.predictedOffset : e.start_ns - s.offset;
}

std::int64_t TimelineData::displayEnd(const TimelineEvent& e) const {
  const TimelineSection& s = sections_[static_cast<std::size_t>(e.section)];
  return e.rank < 0 ? e.end_ns + s.predictedOffset : e.end_ns - s.offset;
}

int TimelineData::findRow(int section, int rank, int lane) const {
  for (std::size_t i = 0; i < rows_.size(); ++i)
    if (rows_[i].section == section && rows_[i].rank == rank && rows_[i].lane == lane)
      return static_cast<int>(i);
  return -1;
}

QString TimelineData::laneName(int rank, int lane) const {
  if (isGpuLane(lane))
    for (const TimelineGpuStream& g : gpuStreams_)
      if (g.rank == rank && g.lane == lane)
        return QStringLiteral("GPU %1 \u00b7 stream %2").arg(g.device).arg(g.stream);
  for (const LaneLabel& l : laneNames_)
    if (l.rank == rank && l.lane == lane) return l.name;
  switch (lane) {
    case 0:
      return QStringLiteral("compute");
    case 1:
      return QStringLiteral("intra");
    case 2:
      return QStringLiteral("inter");
    default:
      return QStringLiteral("lane %1").arg(lane);
  }
}

}  // namespace parm::app
