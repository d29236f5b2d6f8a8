// The schedule IR: forward lists as spec section 4 writes them, backward lists derived by the table of
// section 3, and agreement between the IR and the independent volume formulas of section 5.
#include <QtTest>

#include "engine/core/sizes.h"
#include "engine/schedules/schedule_ir.h"
#include "engine/schedules/volumes.h"

using namespace parm;

Q_DECLARE_METATYPE(ScheduleKind)

namespace {

QString names(const std::vector<Op>& ops) {
  QStringList out;
  for (const auto& op : ops) out << QString::fromStdString(op.name());
  return out.join(' ');
}

// Forward collectives flattened to (collective, group), pipelines into their stages, Copy (identity) dropped.
QStringList ir_collectives(const std::vector<Op>& ops) {
  QStringList out;
  for (const auto& op : ops) {
    auto add = [&](OpKind k, Group g, bool fused) {
      out << QString("%1/%2%3")
                 .arg(QString::fromUtf8(to_string(k).data()))
                 .arg(to_string(g).data())
                 .arg(fused ? "*" : "");
    };
    if (op.kind == OpKind::Pipeline)
      for (const auto& s : op.stages) add(s.kind, s.group, true);
    else if (op.communicates() && op.kind != OpKind::GradAllReduce)
      add(op.kind, op.group, false);
  }
  return out;
}

QStringList formula_collectives(const std::vector<CollectiveVolume>& volumes) {
  QStringList out;
  for (const auto& v : volumes)
    if (v.pass == Pass::Forward)
      out << QString("%1/%2%3")
                 .arg(to_string(v.collective).data())
                 .arg(to_string(v.group).data())
                 .arg(v.fused.empty() ? "" : "*");
  return out;
}

}  // namespace

class TestSchedules : public QObject {
  Q_OBJECT
 private slots:
  void opLists_data() {
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("mp");
    QTest::addColumn<int>("esp");
    QTest::addColumn<QString>("forward");
    QTest::addColumn<QString>("backward");
    QTest::newRow("B_DS N_ESP=N")
        << ScheduleKind::B_DS << 4 << 4
        << "gate order AlltoAll(EP) Copy(MP) experts AllReduce(MP) AlltoAll(EP) combine"
        << "combine_bwd AlltoAll(EP) experts_bwd AllReduce(MP) AlltoAll(EP) order_bwd gate_bwd";
    QTest::newRow("B_DS2 N_ESP=N")
        << ScheduleKind::B_DS2 << 4 << 4
        << "gate order Split(MP,capacity) AlltoAll(EP) AllGather(MP,peer) Copy(MP) experts AllReduce(MP) "
           "Split(MP,peer) AlltoAll(EP) AllGather(MP,capacity) combine"
        << "combine_bwd Split(MP,capacity) AlltoAll(EP) AllGather(MP,peer) experts_bwd AllReduce(MP) "
           "Split(MP,peer) AlltoAll(EP) AllGather(MP,capacity) order_bwd gate_bwd";
    QTest::newRow("B0 N_ESP=N")
        << ScheduleKind::B0 << 2 << 2
        << "gate order AlltoAll(EP) AllGather(ESP,peer) experts ReduceScatter(ESP,peer) AlltoAll(EP) combine"
        << "combine_bwd AlltoAll(EP) AllGather(ESP,peer) experts_bwd ReduceScatter(ESP,peer) AlltoAll(EP) "
           "order_bwd gate_bwd";
    QTest::newRow("S1 N_ESP=N") << ScheduleKind::S1 << 4 << 4
                                << "Split(MP,tokens) gate order AlltoAll(EP) AllGather(ESP,peer) experts "
                                   "ReduceScatter(ESP,peer) AlltoAll(EP) "
                                   "combine AllGather(MP,tokens)"
                                << "Split(MP,tokens) combine_bwd AlltoAll(EP) AllGather(ESP,peer) "
                                   "experts_bwd ReduceScatter(ESP,peer) "
                                   "AlltoAll(EP) order_bwd gate_bwd GradAllReduce(MP) AllGather(MP,tokens)";
    QTest::newRow("S1F N_ESP=N") << ScheduleKind::S1F << 4 << 4
                                 << "Split(MP,tokens) gate order SAA experts RSA combine AllGather(MP,tokens)"
                                 << "Split(MP,tokens) combine_bwd SAA experts_bwd RSA order_bwd gate_bwd "
                                    "GradAllReduce(MP) AllGather(MP,tokens)";
    QTest::newRow("S2 N_ESP=N")
        << ScheduleKind::S2 << 4 << 4
        << "gate order Split(MP,capacity) AlltoAll(EP) AllGather(ESP,peer) experts ReduceScatter(ESP,peer) "
           "AlltoAll(EP) AllGather(MP,capacity) combine"
        << "combine_bwd Split(MP,capacity) AlltoAll(EP) AllGather(ESP,peer) experts_bwd "
           "ReduceScatter(ESP,peer) "
           "AlltoAll(EP) AllGather(MP,capacity) order_bwd gate_bwd";
    QTest::newRow("S2F N_ESP=N")
        << ScheduleKind::S2F << 4 << 4 << "gate order Split(MP,capacity) SAA experts RS>A2A>AG combine"
        << "combine_bwd Split(MP,capacity) SAA experts_bwd RS>A2A>AG order_bwd gate_bwd";
    QTest::newRow("B_DS N_ESP=1")
        << ScheduleKind::B_DS << 2 << 1
        << "gate order Split(MP,capacity) AlltoAll(EP) experts AlltoAll(EP) AllGather(MP,capacity) combine"
        << "combine_bwd Split(MP,capacity) AlltoAll(EP) experts_bwd AlltoAll(EP) AllGather(MP,capacity) "
           "order_bwd gate_bwd";
    QTest::newRow("S1 N_ESP=1")
        << ScheduleKind::S1 << 2 << 1
        << "Split(MP,tokens) gate order AlltoAll(EP) experts AlltoAll(EP) combine AllGather(MP,tokens)"
        << "Split(MP,tokens) combine_bwd AlltoAll(EP) experts_bwd AlltoAll(EP) order_bwd gate_bwd "
           "GradAllReduce(MP) "
           "AllGather(MP,tokens)";
    QTest::newRow("S2 N_ESP=1")
        << ScheduleKind::S2 << 2 << 1 << "gate order Split(MP,capacity) AlltoAll(EP) experts SAA combine"
        << "combine_bwd Split(MP,capacity) AlltoAll(EP) experts_bwd SAA order_bwd gate_bwd";
  }
  void opLists() {
    QFETCH(ScheduleKind, kind);
    QFETCH(int, mp);
    QFETCH(int, esp);
    QFETCH(QString, forward);
    QFETCH(QString, backward);
    const Schedule s = build_schedule(kind, ParallelConfig{8, 4, mp, esp});
    QCOMPARE(names(s.forward), forward);
    QCOMPARE(names(s.backward), backward);
    for (const auto& op : s.backward) QCOMPARE(op.direction, Direction::Backward);
  }

  // The IR's collectives, in order, are exactly those of the volume formulas (an independent encoding of the
  // spec), fused steps included, for every schedule and both ESP modes.
  void irAgreesWithVolumeFormulas_data() {
    QTest::addColumn<int>("mp");
    QTest::addColumn<int>("esp");
    QTest::newRow("N_ESP=N=4") << 4 << 4;
    QTest::newRow("N_ESP=N=2") << 2 << 2;
    QTest::newRow("N_ESP=1,N=2") << 2 << 1;
    QTest::newRow("N=1") << 1 << 1;
  }
  void irAgreesWithVolumeFormulas() {
    QFETCH(int, mp);
    QFETCH(int, esp);
    Config c;
    c.parallel = {8, 4, mp, esp};
    c.layer.num_experts = 8;
    const DerivedSizes d = derive_sizes(c);
    for (ScheduleKind k : kAllSchedules) {
      const Schedule s = build_schedule(k, c.parallel);
      QCOMPARE(ir_collectives(s.forward), formula_collectives(schedule_volumes(c, d, k)));
    }
  }

  // Backward moves as many collectives as forward (section 5: backward volumes equal forward); S1/S1F add the
  // router-gradient AllReduce.
  void backwardMirrorsForwardCounts() {
    for (auto [mp, esp] : {std::pair{4, 4}, std::pair{2, 1}}) {
      for (ScheduleKind k : kAllSchedules) {
        const Schedule s = build_schedule(k, ParallelConfig{8, 4, mp, esp});
        auto count = [](const std::vector<Op>& ops, OpKind kind) {
          int n = 0;
          for (const auto& op : ops) {
            if (op.kind == OpKind::Pipeline) {
              for (const auto& st : op.stages) n += st.kind == kind ? 1 : 0;
            } else {
              n += op.kind == kind ? 1 : 0;
            }
          }
          return n;
        };
        QCOMPARE(count(s.backward, OpKind::AlltoAll), count(s.forward, OpKind::AlltoAll));
        QCOMPARE(count(s.backward, OpKind::Copy), 0);
        QCOMPARE(count(s.forward, OpKind::GradAllReduce), 0);
        QCOMPARE(count(s.backward, OpKind::GradAllReduce), s.split_tokens ? 1 : 0);
        // Copy turns into an AllReduce, a forward AllReduce into the identity; gathers and scatters swap or
        // become Splits, but the gathers that become Splits are matched by the Splits that become gathers.
        QCOMPARE(count(s.backward, OpKind::AllGather) + count(s.backward, OpKind::ReduceScatter) +
                     count(s.backward, OpKind::AllReduce),
                 count(s.forward, OpKind::AllGather) + count(s.forward, OpKind::ReduceScatter) +
                     count(s.forward, OpKind::Copy));
      }
    }
  }

  void capacityRules() {
    const ParallelConfig sharded{8, 4, 4, 4};
    QCOMPARE(build_schedule(ScheduleKind::B_DS, sharded).capacity, CapacityRule::C0);
    QCOMPARE(build_schedule(ScheduleKind::B0, sharded).capacity, CapacityRule::C0);
    QCOMPARE(build_schedule(ScheduleKind::B_DS2, sharded).capacity, CapacityRule::C2);
    QCOMPARE(build_schedule(ScheduleKind::S1, sharded).capacity, CapacityRule::C1);
    QCOMPARE(build_schedule(ScheduleKind::S2F, sharded).capacity, CapacityRule::C2);
    QCOMPARE(build_schedule(ScheduleKind::B_DS, ParallelConfig{8, 4, 2, 1}).capacity, CapacityRule::C2);
  }
};

QTEST_APPLESS_MAIN(TestSchedules)
#include "test_engine_schedules.moc"
