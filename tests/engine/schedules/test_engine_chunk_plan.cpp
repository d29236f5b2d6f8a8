// Pipeline degree r as schedule data (engine/schedules/chunk_plan.h, issue 19): the chunked region is exactly
// what lies between the order and the combine in both passes, bracketed by ChunkSplit / ChunkMerge; r = 1
// changes nothing; chunk slots cover the capacity in granules, differ by at most one granule and nest from r
// to 2r; the registry's pipelined variants parse, name their base and stay out of all_schedules().
#include <QtTest>
#include <algorithm>
#include <set>

#include "engine/core/config_json.h"
#include "engine/schedules/chunk_plan.h"
#include "engine/schedules/schedule_registry.h"
#include "resources/presets.h"

using namespace parm;

namespace {

Config tc1() {
  return *config_from_json_text(*resources::embedded_preset("tc1")).config;
}

std::vector<ParallelConfig> layouts() {
  return {{8, 4, 2, 2}, {8, 4, 2, 1}, {8, 4, 1, 1}, {8, 8, 4, 4}, {16, 8, 4, 4}};
}

// The ops strictly between the first order/combine and the next one.
std::vector<std::string> between_ends(const std::vector<Op>& list) {
  std::vector<std::string> out;
  bool inside = false;
  for (const Op& op : list) {
    const bool end = op.kind == OpKind::Order || op.kind == OpKind::Combine;
    if (end) {
      if (inside) break;
      inside = true;
      continue;
    }
    if (inside && op.kind != OpKind::ChunkSplit && op.kind != OpKind::ChunkMerge) out.push_back(op.name());
  }
  return out;
}

std::vector<std::string> names(const std::vector<Op>& list, bool chunked_only) {
  std::vector<std::string> out;
  for (const Op& op : list)
    if (!chunked_only || op.chunked) out.push_back(op.name());
  return out;
}

}  // namespace

class TestChunkPlan : public QObject {
  Q_OBJECT
 private slots:
  void regionIsBetweenOrderAndCombine() {
    for (const ParallelConfig& p : layouts()) {
      for (ScheduleKind base : kAllSchedules) {
        const Schedule plain = build_schedule(base, p);
        for (int r : {2, 4, 8}) {
          const ScheduleKind kind = pipelined_variant(base, r)->kind;
          const Schedule s = build_schedule(kind, p);
          QCOMPARE(s.forward_degree, r);
          QCOMPARE(s.backward_degree, r);
          for (const auto* lists : {&s.forward, &s.backward}) {
            const ChunkRegion region = chunk_region(*lists);
            QVERIFY(!region.empty());
            QCOMPARE((*lists)[region.first - 1].kind, OpKind::ChunkSplit);
            QCOMPARE((*lists)[region.last].kind, OpKind::ChunkMerge);
            QCOMPARE(names(*lists, true), between_ends(*lists));
            // One region only, and the experts in it.
            QCOMPARE(std::count_if(lists->begin(), lists->end(),
                                   [](const Op& o) { return o.kind == OpKind::ChunkSplit; }),
                     1);
            QVERIFY(std::any_of(lists->begin() + region.first, lists->begin() + region.last,
                                [](const Op& o) { return o.kind == OpKind::Experts; }));
          }
          // Without the brackets and flags, the same lists as r = 1.
          for (int d = 0; d < 2; ++d) {
            std::vector<std::string> got;
            for (const Op& op : d == 0 ? s.forward : s.backward)
              if (op.kind != OpKind::ChunkSplit && op.kind != OpKind::ChunkMerge) got.push_back(op.name());
            QCOMPARE(got, names(d == 0 ? plain.forward : plain.backward, false));
          }
        }
        QCOMPARE(chunk_region(plain.forward).empty(), true);
        QCOMPARE(plain.forward_degree, 1);
      }
    }
  }

  // A chunk is the same slot range of each of the G pieces: the ranges cover a piece, differ by at most one
  // slot, and every degree's boundaries are among those of any degree that runs more chunks.
  void slotsCoverNestAndRespectTheGranule() {
    for (std::int64_t g : {1, 2, 4}) {
      for (std::int64_t c = g; c <= 40 * g; c += g) {
        const std::int64_t piece = c / g;
        std::vector<std::set<std::int64_t>> edges_of;
        for (int r : {1, 2, 4, 8}) {
          const int n = chunk_count(c, g, r);
          QCOMPARE(n, static_cast<int>(std::min<std::int64_t>(r, piece)));
          std::set<std::int64_t> edges;
          std::int64_t covered = 0, smallest = piece, largest = 0;
          for (int k = 0; k < n; ++k) {
            const SlotRange s = chunk_slots(c, g, n, k);
            QCOMPARE(s.begin, covered);
            QVERIFY(s.count() > 0);
            covered = s.end;
            smallest = std::min(smallest, s.count());
            largest = std::max(largest, s.count());
            edges.insert(s.begin);
          }
          QCOMPARE(covered, piece);
          QVERIFY(largest - smallest <= 1);
          for (const auto& coarser : edges_of)
            if (coarser.size() <= edges.size())
              for (std::int64_t e : coarser)
                QVERIFY2(edges.count(e) == 1, qPrintable(QString("c %1 g %2 r %3").arg(c).arg(g).arg(r)));
          edges_of.push_back(edges);
        }
      }
    }
    QVERIFY_THROWS_EXCEPTION(std::logic_error, chunk_slots(7, 2, 2, 0));
  }

  // The slice takes chunk k's range of every piece and the place puts it back: slicing every chunk and
  // placing it again rebuilds the tensor, and each chunk holds only its own slots.
  void sliceAndPlaceCutEveryPiece() {
    const std::int64_t rows = 3, g = 2, c = 10, m = 2;
    std::vector<int> whole(static_cast<std::size_t>(rows * c * m));
    for (std::size_t i = 0; i < whole.size(); ++i) whole[i] = static_cast<int>(i);
    std::vector<int> rebuilt(whole.size(), -1);
    const int chunks = chunk_count(c, g, 2);
    for (int k = 0; k < chunks; ++k) {
      const SlotRange s = chunk_slots(c, g, chunks, k);
      const layout::BlockCopy cut = chunk_slice(rows, c, g, s, m);
      std::vector<int> part(static_cast<std::size_t>(rows * g * s.count() * m));
      QCOMPARE(cut.elements(), static_cast<std::int64_t>(part.size()));
      for (std::int64_t b = 0; b < cut.blocks; ++b)
        std::copy_n(whole.begin() + cut.src_offset(b), cut.length, part.begin() + cut.dst_offset(b));
      for (std::size_t i = 0; i < part.size(); i += static_cast<std::size_t>(m)) {
        const std::int64_t slot = (part[i] / m) % c, within = slot % (c / g);
        QVERIFY(within >= s.begin && within < s.end);
      }
      const layout::BlockCopy put = chunk_place(rows, c, g, s, m);
      for (std::int64_t b = 0; b < put.blocks; ++b)
        std::copy_n(part.begin() + put.src_offset(b), put.length, rebuilt.begin() + put.dst_offset(b));
    }
    QCOMPARE(rebuilt, whole);
  }

  void degreeOneAndBadDegrees() {
    Schedule s = build_schedule(ScheduleKind::S1, tc1().parallel);
    const std::vector<std::string> before = names(s.forward, false);
    apply_pipeline_degree(s, 1, 1);
    QCOMPARE(names(s.forward, false), before);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, apply_pipeline_degree(s, 3, 3));
    QVERIFY(!is_pipeline_degree(16));
  }

  void registryVariants() {
    const std::vector<ScheduleKind> all = all_schedules();
    QCOMPARE(all.size(), std::size(kAllSchedules));
    for (ScheduleKind base : kAllSchedules) {
      const ScheduleSpec& b = spec_of(base);
      QVERIFY(pipelined_variant(base, 1) == &b);
      QVERIFY(pipelined_variant(base, 3) == nullptr);
      for (int r : {2, 4, 8}) {
        const ScheduleSpec* v = pipelined_variant(base, r);
        QVERIFY(v);
        QCOMPARE(std::string(v->name), std::string(b.name) + "r" + std::to_string(r));
        QCOMPARE(parse_schedule(v->name), std::optional<ScheduleKind>(v->kind));
        QCOMPARE(base_of(v->kind), base);
        QVERIFY(v->tie_rank > b.tie_rank);
        QCOMPARE(v->family, b.family);
        QVERIFY(std::find(all.begin(), all.end(), v->kind) == all.end());
        QVERIFY(pipelined_variant(v->kind, 2) == nullptr);  // no variant of a variant
      }
    }
    const std::vector<ScheduleKind> widened =
        with_variants({ScheduleKind::S1, ScheduleKind::B_DS}, {1, 4}, {AlltoAllAlgorithm::Flat});
    QStringList got;
    for (ScheduleKind k : widened) got << QString::fromUtf8(to_string(k).data());
    QCOMPARE(got, (QStringList{"S1", "S1f1b4", "S1f4b1", "S1r4", "B_DS", "B_DSf1b4", "B_DSf4b1", "B_DSr4"}));
    got.clear();
    for (ScheduleKind k : with_variants({ScheduleKind::S1}, {1, 4}, {AlltoAllAlgorithm::Flat}, false))
      got << QString::fromUtf8(to_string(k).data());
    QCOMPARE(got, (QStringList{"S1", "S1r4"}));
    QVERIFY(!parse_schedule("S1r3"));
    // A variant already named is never replaced by the degrees asked for.
    const ScheduleKind s1r4 = pipelined_variant(ScheduleKind::S1, 4)->kind;
    QCOMPARE(with_variants({s1r4}, {1}, {AlltoAllAlgorithm::Flat}),
             (std::vector<ScheduleKind>{s1r4, ScheduleKind::S1}));
  }

  // r_fwd != r_bwd (FSMoE picks them apart): every schedule at every pair of degrees, "<name>f<F>b<B>", its
  // lists chunked per direction; a pair of equal degrees is the "r" variant.
  void separateDegreeVariants() {
    const Config c = tc1();
    const DerivedSizes d = derive_sizes(c);
    for (ScheduleKind base : kAllSchedules) {
      const ScheduleSpec& b = spec_of(base);
      for (int f : kPipelineDegrees) {
        for (int r : kPipelineDegrees) {
          const ScheduleSpec* v = schedule_variant(base, {f, r}, AlltoAllAlgorithm::Flat);
          QVERIFY(v);
          const std::string want =
              f == r ? (f == 1 ? std::string(b.name) : std::string(b.name) + "r" + std::to_string(f))
                     : std::string(b.name) + "f" + std::to_string(f) + "b" + std::to_string(r);
          QCOMPARE(std::string(v->name), want);
          QCOMPARE(parse_schedule(want), std::optional<ScheduleKind>(v->kind));
          const Schedule s = build_schedule(v->kind, c.parallel);
          QCOMPARE(s.forward_degree, f);
          QCOMPARE(s.backward_degree, r);
          QCOMPARE(planned_chunks(s, Direction::Forward, d), f);
          QCOMPARE(planned_chunks(s, Direction::Backward, d), r);
          QCOMPARE(chunk_region(s.forward).empty(), f == 1);
          QCOMPARE(chunk_region(s.backward).empty(), r == 1);
          if (f != r) QVERIFY(v->tie_rank > b.tie_rank && v->tie_rank < 1000);
        }
      }
    }
    QVERIFY(!schedule_variant(ScheduleKind::S1, {3, 2}, AlltoAllAlgorithm::Flat));
    QVERIFY(parse_schedule("S2f8b1h"));
    QVERIFY(!parse_schedule("S2Ff8b1h"));  // fused schedules have no 2DH variant
  }

  // The traced-op count of a pass: each chunked op (and pipeline step) once per chunk.
  void tracedOpsCountChunks() {
    const Config c = tc1();
    const DerivedSizes d = derive_sizes(c);
    const Schedule plain = build_schedule(ScheduleKind::S1, c.parallel);
    const Schedule s = build_schedule(pipelined_variant(ScheduleKind::S1, 4)->kind, c.parallel);
    const ChunkRegion region = chunk_region(s.forward);
    const int chunks = planned_chunks(s, Direction::Forward, d);
    QCOMPARE(chunks, 4);
    QCOMPARE(traced_ops_per_pass(s.forward, chunks, c.parallel.ep()),
             traced_ops_per_pass(plain.forward, 1, c.parallel.ep()) + 2 + region.size() * 3);
  }
};

QTEST_APPLESS_MAIN(TestChunkPlan)
#include "test_engine_chunk_plan.moc"
