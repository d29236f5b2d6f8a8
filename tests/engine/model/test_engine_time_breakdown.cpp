// engine/model time_breakdown + collective_matching + op_wait on hand-built intervals: every instant of a
// rank's iteration in exactly one part (compute, exposed intra, exposed inter, hidden, waiting, idle); the
// cross-rank wait of a collective; the median iteration's slowest rank; wait vs transfer per op.
#include <QTemporaryDir>
#include <QtTest>

#include "db/database.h"
#include "engine/model/collective_matching.h"
#include "engine/model/op_wait.h"
#include "engine/model/time_breakdown.h"

using namespace parm;

namespace {

constexpr std::int64_t ms = 1'000'000;

double part(const TimeBreakdown& b, BreakdownPart p) {
  return b.of(p);
}

}  // namespace

class TestTimeBreakdown : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void everyInstantInOnePart() {
    // 0-4 compute; 2-6 intra (hidden 2-4, exposed 4-6); 6-7 idle; 7-10 inter with a 1 ms wait (7-8 waiting,
    // 8-10 exposed inter); 9-11 compute (9-10 hidden with inter, 10-11 compute).
    const TimeBreakdown b = classify_lanes(
        {{0, 0, 4 * ms, 0}, {1, 2 * ms, 6 * ms, 0}, {2, 7 * ms, 10 * ms, 1 * ms}, {0, 9 * ms, 11 * ms, 0}});
    QCOMPARE(part(b, BreakdownPart::Compute), 2.0 + 1.0);
    QCOMPARE(part(b, BreakdownPart::Hidden), 2.0 + 1.0);
    QCOMPARE(part(b, BreakdownPart::IntraExposed), 2.0);
    QCOMPARE(part(b, BreakdownPart::Idle), 1.0);
    QCOMPARE(part(b, BreakdownPart::Waiting), 1.0);
    QCOMPARE(part(b, BreakdownPart::InterExposed), 1.0);
    QCOMPARE(b.total_ms(), 11.0);  // the parts add up to the rank's iteration
  }

  void waitUnderComputeIsCompute() {
    // A collective waiting while the rank computes is not waiting for peers: the rank is busy.
    const TimeBreakdown b = classify_lanes({{0, 0, 3 * ms, 0}, {2, 1 * ms, 5 * ms, 3 * ms}});
    QCOMPARE(part(b, BreakdownPart::Compute), 3.0);
    QCOMPARE(part(b, BreakdownPart::Waiting), 1.0);       // 3-4
    QCOMPARE(part(b, BreakdownPart::InterExposed), 1.0);  // 4-5
    QCOMPARE(part(b, BreakdownPart::Hidden), 0.0);
    QCOMPARE(classify_lanes({}).total_ms(), 0.0);
  }

  void collectiveWaitFromTheLastArrival() {
    // One AlltoAll (group EP, comm 0, seq 3) on ranks 0 and 1: rank 0 starts at 1 ms, rank 1 at 4 ms, both
    // end at 6 ms; rank 0 waited 3 ms. A local op has no wait.
    auto ev = [](int rank, std::int64_t seq, std::int64_t s, std::int64_t e) {
      db::EventRow r;
      r.rank = rank;
      r.lane = seq < 0 ? 0 : 2;
      r.seq = seq;
      r.group = 7;
      r.comm = 0;
      r.start_ns = s;
      r.end_ns = e;
      return r;
    };
    const auto splits =
        split_collectives({ev(0, 3, 1 * ms, 6 * ms), ev(1, 3, 4 * ms, 6 * ms), ev(0, -1, 0, ms)});
    QCOMPARE(splits[0].wait_ns, 3 * ms);
    QCOMPARE(splits[0].transfer_ns, 2 * ms);
    QCOMPARE(splits[1].wait_ns, std::int64_t(0));
    QCOMPARE(splits[1].transfer_ns, 2 * ms);
    QCOMPARE(splits[2].wait_ns, std::int64_t(0));
  }

  void medianIterationOfTheSlowestRank() {
    QTemporaryDir dir;
    auto db = db::Database::open(dir.filePath("p.sqlite").toStdString(), true);
    const std::int32_t s1 = db.intern("S1"), ep = db.intern("EP"), op = db.intern("AlltoAll"),
                       pu = db.intern("dispatch"), ex = db.intern("experts");
    std::vector<db::EventRow> events;
    auto add = [&](int rank, int it, int lane, std::int32_t name, std::int64_t seq, std::int64_t s,
                   std::int64_t e) {
      db::EventRow r;
      r.rank = rank;
      r.iteration = it;
      r.lane = lane;
      r.schedule = s1;
      r.op = name;
      r.purpose = lane == 0 ? ex : pu;
      r.group = lane == 0 ? db.intern("-") : ep;
      r.comm = 0;
      r.seq = seq;
      r.start_ns = s;
      r.end_ns = e;
      events.push_back(r);
    };
    // Iterations 0, 1, 2 last 10, 20, 30 ms on rank 1 (the slowest); rank 0 computes 2 ms then joins the
    // AlltoAll that rank 1 starts after computing 5 ms. The median iteration is 1 (20 ms on rank 1).
    for (int it = 0; it < 3; ++it) {
      const std::int64_t t0 = 100 * ms * it, len = 10 * ms * (it + 1);
      add(0, it, 0, ex, -1, t0, t0 + 2 * ms);
      add(0, it, 2, op, it, t0 + 2 * ms, t0 + len - 1 * ms);
      add(1, it, 0, ex, -1, t0, t0 + 5 * ms);
      add(1, it, 2, op, it, t0 + 5 * ms, t0 + len);
    }
    add(0, -1, 0, ex, -1, 0, 1000 * ms);  // warm-up: ignored
    const std::int64_t run = db.begin_run({});
    db.add_events(run, events);
    db::EventRow pred;
    pred.schedule = s1;
    pred.lane = 2;
    pred.op = op;
    pred.start_ns = 1 * ms;
    pred.end_ns = 4 * ms;
    db.add_predictions(run, std::vector<db::EventRow>{pred});
    db.finish_run(run);

    const auto all = time_breakdowns(db, run);
    QCOMPARE(all.size(), std::size_t(1));
    const ScheduleBreakdown& b = all.front();
    QCOMPARE(b.schedule, std::string("S1"));
    QCOMPARE(b.measured_iteration, 1);
    QCOMPARE(b.measured_rank, 1);
    QVERIFY(b.measured);
    QCOMPARE(b.measured->of(BreakdownPart::Compute), 5.0);
    QCOMPARE(b.measured->of(BreakdownPart::InterExposed), 15.0);
    QCOMPARE(b.measured->total_ms(), 20.0);
    QVERIFY(b.predicted);
    QCOMPARE(b.predicted->of(BreakdownPart::Idle), 0.0);  // the predicted bar starts at its first op
    QCOMPARE(b.predicted->of(BreakdownPart::InterExposed), 3.0);

    // Wait vs transfer of the AlltoAll: rank 0's lasts len - 3 ms, rank 1's len - 5 ms, so rank 0 is the
    // slowest of that op: it waits 3 ms for rank 1 and transfers 4 / 14 / 24 ms -> median 14.
    const MeasuredOps ops = load_measured_ops(db, run);
    const auto wt = aggregate_wait_transfer(ops);
    QCOMPARE(wt.size(), std::size_t(1));  // the compute op has no entry
    const WaitTransfer& a2a = wt.at(OpKey{"S1", 0, "AlltoAll", "dispatch"});
    QCOMPARE(a2a.wait_ms, 3.0);
    QCOMPARE(a2a.transfer_ms, 14.0);
    // A range over iteration 2 only.
    const auto ranged = aggregate_wait_transfer(ops, ScheduleRanges{{"S1", TimeRange{200 * ms, 300 * ms}}});
    QCOMPARE(ranged.at(OpKey{"S1", 0, "AlltoAll", "dispatch"}).transfer_ms, 24.0);
    QVERIFY(aggregate_wait_transfer(ops, ScheduleRanges{}).empty());
  }
};

QTEST_GUILESS_MAIN(TestTimeBreakdown)
#include "test_engine_time_breakdown.moc"
