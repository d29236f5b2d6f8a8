// The hierarchical (2DH) AlltoAll as schedule data (engine/schedules/alltoall_algorithm.h, issue 19): where
// it applies (2+ EP ranks per node on 2+ nodes), the message counts it trades, which ops build_schedule marks
// (every AlltoAll of both passes, nothing else), that a layout without it builds the flat lists, and the
// registry's hierarchical variants (names, bases, ties, the fused schedules left out).
#include <QtTest>
#include <algorithm>

#include "engine/schedules/alltoall_algorithm.h"
#include "engine/schedules/chunk_plan.h"
#include "engine/schedules/schedule_registry.h"

using namespace parm;

namespace {

ParallelConfig cluster_layout(std::int64_t ranks, std::int64_t g, std::int64_t mp, std::int64_t esp) {
  return {ranks, g, mp, esp};
}

std::vector<std::string> names(const std::vector<Op>& list) {
  std::vector<std::string> out;
  for (const Op& op : list) out.push_back(op.name());
  return out;
}

int alltoalls(const std::vector<Op>& list, AlltoAllAlgorithm a) {
  return static_cast<int>(std::count_if(list.begin(), list.end(), [&](const Op& op) {
    return op.kind == OpKind::AlltoAll && op.algorithm == a;
  }));
}

const ScheduleSpec& hier(ScheduleKind base, int r) {
  const ScheduleSpec* s = schedule_variant(base, r, AlltoAllAlgorithm::Hierarchical);
  if (!s) qFatal("no hierarchical variant");
  return *s;
}

}  // namespace

class TestAlltoAllAlgorithm : public QObject {
  Q_OBJECT
 private slots:
  void whereItApplies() {
    QVERIFY(hierarchical_alltoall_applies(cluster_layout(8, 4, 2, 2)));   // L = 2, 2 nodes
    QVERIFY(hierarchical_alltoall_applies(cluster_layout(8, 2, 1, 1)));   // L = 2, 4 nodes
    QVERIFY(!hierarchical_alltoall_applies(cluster_layout(8, 4, 4, 4)));  // L = 1: EP has one rank per node
    QVERIFY(!hierarchical_alltoall_applies(cluster_layout(4, 4, 1, 1)));  // one node
    const HierarchicalShape s = hierarchical_shape(cluster_layout(32, 8, 4, 4));
    QCOMPARE(s.local, std::int64_t(2));
    QCOMPARE(s.nodes, std::int64_t(4));
    QCOMPARE(s.ep(), cluster_layout(32, 8, 4, 4).ep());
  }

  void messageCounts() {
    // W = 8 EP ranks, L = 2 per node, 4 nodes.
    const AlltoAllMessages flat = alltoall_messages(cluster_layout(32, 8, 4, 4), AlltoAllAlgorithm::Flat);
    QCOMPARE(flat.total, std::int64_t(7));
    QCOMPARE(flat.inter_node, std::int64_t(6));
    QCOMPARE(flat.inter_node_blocks, std::int64_t(1));
    const AlltoAllMessages h =
        alltoall_messages(cluster_layout(32, 8, 4, 4), AlltoAllAlgorithm::Hierarchical);
    QCOMPARE(h.total, std::int64_t(1 + 3));
    QCOMPARE(h.inter_node, std::int64_t(3));
    QCOMPARE(h.inter_node_blocks, std::int64_t(2));
    // Where it does not apply, 2DH is the flat exchange.
    const AlltoAllMessages same =
        alltoall_messages(cluster_layout(8, 4, 4, 4), AlltoAllAlgorithm::Hierarchical);
    QCOMPARE(same.inter_node,
             alltoall_messages(cluster_layout(8, 4, 4, 4), AlltoAllAlgorithm::Flat).inter_node);
    QCOMPARE(parse_alltoall_algorithm("2dh"), std::optional(AlltoAllAlgorithm::Hierarchical));
    QCOMPARE(parse_alltoall_algorithm("flat"), std::optional(AlltoAllAlgorithm::Flat));
    QVERIFY(!parse_alltoall_algorithm("ring"));
  }

  // Every AlltoAll of both passes becomes 2DH and nothing else changes; at r = 4 inside the chunks too.
  void buildMarksEveryAlltoAll() {
    for (const ParallelConfig& p :
         {cluster_layout(8, 4, 2, 2), cluster_layout(8, 4, 2, 1), cluster_layout(8, 4, 1, 1)})
      for (ScheduleKind base : kAllSchedules) {
        if (spec_of(base).fused) continue;
        for (int r : {1, 4}) {
          const Schedule flat = build_schedule(pipelined_variant(base, r)->kind, p);
          const Schedule h = build_schedule(hier(base, r).kind, p);
          const QString what = QString::fromUtf8(hier(base, r).name.data());
          QCOMPARE(h.alltoall, AlltoAllAlgorithm::Hierarchical);
          for (auto [fl, hl] :
               {std::pair{&flat.forward, &h.forward}, std::pair{&flat.backward, &h.backward}}) {
            QVERIFY2(alltoalls(*hl, AlltoAllAlgorithm::Hierarchical) >= 1, qPrintable(what));
            QCOMPARE(alltoalls(*hl, AlltoAllAlgorithm::Flat), 0);
            QCOMPARE(alltoalls(*hl, AlltoAllAlgorithm::Hierarchical),
                     alltoalls(*fl, AlltoAllAlgorithm::Flat));
            QCOMPARE(hl->size(), fl->size());
            for (std::size_t i = 0; i < hl->size(); ++i) {
              const Op &a = (*fl)[i], &b = (*hl)[i];
              QCOMPARE(b.kind, a.kind);
              QCOMPARE(b.chunked, a.chunked);
              if (a.kind == OpKind::AlltoAll)
                QCOMPARE(b.name(), std::string("AlltoAll(EP,2DH)"));
              else
                QCOMPARE(b.name(), a.name());
            }
          }
          QCOMPARE(h.forward_degree, flat.forward_degree);
        }
      }
  }

  void flatWhereItDoesNotApply() {
    for (const ParallelConfig& p : {cluster_layout(8, 4, 4, 4), cluster_layout(4, 4, 1, 1)})
      for (ScheduleKind base : {ScheduleKind::B_DS, ScheduleKind::S1, ScheduleKind::S2}) {
        const Schedule flat = build_schedule(base, p), h = build_schedule(hier(base, 1).kind, p);
        QCOMPARE(h.alltoall, AlltoAllAlgorithm::Flat);
        QCOMPARE(names(h.forward), names(flat.forward));
        QCOMPARE(names(h.backward), names(flat.backward));
      }
  }

  void registryVariants() {
    int count = 0;
    for (ScheduleKind base : kAllSchedules) {
      const ScheduleSpec& b = spec_of(base);
      for (int r : kPipelineDegrees) {
        const ScheduleSpec* v = schedule_variant(base, r, AlltoAllAlgorithm::Hierarchical);
        if (b.fused) {  // their EP exchange is W pairwise steps, not an AlltoAll call
          QVERIFY(!v);
          continue;
        }
        QVERIFY(v);
        ++count;
        const std::string want = std::string(b.name) + (r > 1 ? "r" + std::to_string(r) : "") + "h";
        QCOMPARE(std::string(v->name), want);
        QCOMPARE(parse_schedule(want), std::optional<ScheduleKind>(v->kind));
        QCOMPARE(base_of(v->kind), base);
        QCOMPARE(v->pipeline_degree.forward, r);
        QCOMPARE(v->family, b.family);
        QVERIFY(v->tie_rank > pipelined_variant(base, r)->tie_rank);
        QVERIFY(schedule_variant(v->kind, 1, AlltoAllAlgorithm::Flat) == nullptr);  // no variant of a variant
      }
    }
    QCOMPARE(count, 5 * 4);
    const std::vector<ScheduleKind> all = all_schedules();
    QVERIFY(std::find(all.begin(), all.end(), hier(ScheduleKind::S1, 1).kind) == all.end());
    QStringList got;
    for (ScheduleKind k : with_variants({ScheduleKind::S1, ScheduleKind::S1F}, {1, 2},
                                        {AlltoAllAlgorithm::Flat, AlltoAllAlgorithm::Hierarchical}))
      got << QString::fromUtf8(to_string(k).data());
    QCOMPARE(got, (QStringList{"S1", "S1h", "S1f1b2", "S1f1b2h", "S1f2b1", "S1f2b1h", "S1r2", "S1r2h", "S1F",
                               "S1Ff1b2", "S1Ff2b1", "S1Fr2"}));
  }
};

QTEST_APPLESS_MAIN(TestAlltoAllAlgorithm)
#include "test_engine_alltoall_algorithm.moc"
