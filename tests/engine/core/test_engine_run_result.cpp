// The `parm run` summary of a distributed result (max over ranks per iteration, then the median) and the
// result file's JSON form.
#include <QtTest>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "engine/core/run_result.h"

using namespace parm;

namespace {

RankScheduleResult schedule(ScheduleKind kind, std::vector<double> fwd_ms, std::vector<double> bwd_ms) {
  RankScheduleResult s;
  s.kind = kind;
  for (double v : fwd_ms) s.forward_s.push_back(v * 1e-3);
  for (double v : bwd_ms) s.backward_s.push_back(v * 1e-3);
  s.capacity = 6;
  s.dropped_choices = 1;
  return s;
}

CommCounter counter(const char* pass, const char* op, const char* group, std::int64_t bytes) {
  return {pass, op, group, "dispatch", "", bytes, 1};
}

// Chosen so that "max over ranks, then median over iterations" gives other numbers than "median per rank,
// then max" (fwd 4 vs 3) and than "median fwd + median bwd" (total 5 vs 6).
RunResult sample() {
  RunResult r;
  r.config.name = "sample";
  r.config.parallel.ranks = 2;
  r.config.parallel.mp = 2;
  r.backend = "cpu";
  RankRunResult r0{0, "host-a", {}};
  RankRunResult r1{1, "host-b", {}};
  r0.schedules.push_back(schedule(ScheduleKind::B_DS, {1, 5, 2}, {3, 1, 1}));
  r1.schedules.push_back(schedule(ScheduleKind::B_DS, {4, 1, 3}, {1, 1, 2}));
  r0.schedules.back().counters = {
      counter("fwd", "AlltoAll", "EP", 100), counter("bwd", "AlltoAll", "EP", 100),
      counter("fwd", "AllGather", "MP", 40), counter("bwd", "ReduceScatter", "ESP", 10)};
  r1.schedules.back().counters = {counter("fwd", "AlltoAll", "EP", 999)};  // only rank 0's count
  r0.schedules.push_back(schedule(ScheduleKind::S1, {1, 1, 1}, {1, 1, 1}));
  r1.schedules.push_back(schedule(ScheduleKind::S1, {1, 2, 1.5}, {1, 1, 1}));
  r.ranks = {r0, r1};
  return r;
}

QString error_of(const nlohmann::json& j) {
  try {
    run_result_from_json(j);
  } catch (const std::runtime_error& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

}  // namespace

class TestRunResult : public QObject {
  Q_OBJECT
 private slots:
  void summaryTakesMaxOverRanksThenMedian() {
    const auto rows = summarize(sample());
    QCOMPARE(rows.size(), std::size_t(2));
    QCOMPARE(rows[0].kind, ScheduleKind::B_DS);
    QCOMPARE(rows[0].forward_ms, 4.0);   // max [4,5,3] -> median 4 (median per rank then max: 3)
    QCOMPARE(rows[0].backward_ms, 2.0);  // max [3,1,2] -> 2
    QCOMPARE(rows[0].total_ms, 5.0);     // max of fwd+bwd [5,6,5] -> 5 (not 4 + 2)
    QCOMPARE(rows[1].kind, ScheduleKind::S1);
    QCOMPARE(rows[1].forward_ms, 1.5);
    QCOMPARE(rows[1].total_ms, 2.5);
  }

  void speedupAgainstBds() {
    const auto rows = summarize(sample());
    QVERIFY(rows[0].speedup_vs_bds.has_value());
    QCOMPARE(*rows[0].speedup_vs_bds, 1.0);
    QCOMPARE(*rows[1].speedup_vs_bds, 2.0);

    RunResult no_bds = sample();
    for (auto& rank : no_bds.ranks) rank.schedules.erase(rank.schedules.begin());
    const auto rows2 = summarize(no_bds);
    QCOMPARE(rows2.size(), std::size_t(1));
    QVERIFY(!rows2[0].speedup_vs_bds.has_value());
  }

  void bytesFromRankZeroByGroup() {
    const auto rows = summarize(sample());
    QCOMPARE(rows[0].inter_bytes, std::int64_t(200));  // EP
    QCOMPARE(rows[0].intra_bytes, std::int64_t(50));   // MP + ESP
    QCOMPARE(rows[1].inter_bytes, std::int64_t(0));
  }

  void jsonRoundTrip() {
    const RunResult r = sample();
    const nlohmann::json j = to_json(r);
    const RunResult back = run_result_from_json(nlohmann::json::parse(j.dump()));
    QCOMPARE(to_json(back).dump(), j.dump());
    QCOMPARE(back.ranks[1].host, std::string("host-b"));
    QCOMPARE(back.ranks[0].schedules[0].counters[2].group, std::string("MP"));
    QCOMPARE(back.config.name, std::string("sample"));

    const RankRunResult rank = rank_run_result_from_json(to_json(r.ranks[1]));
    QCOMPARE(rank.rank, 1);
    QCOMPARE(rank.schedules[1].forward_s, r.ranks[1].schedules[1].forward_s);
  }

  // A schedule's --verify report survives the result file: the check, the errors (a NaN, not compared, as
  // null), the named expert parameters, the routing counts and the verdict; a bad check name is refused.
  void verifyReportRoundTrip() {
    RunResult r = sample();
    VerifyReport v;
    v.check = VerifyCheck::RoutingValidity;
    v.output = 3e-7;
    v.input_grad = std::numeric_limits<double>::quiet_NaN();
    v.expert_params = {{"dW1", 1e-7}, {"dW2", 4e-7}};
    v.expert_grads = 4e-7;
    v.tolerance = 1e-5;
    v.routing = {25, 7, 2, 32};
    v.rule_broken = "rank 1: slot used twice: slot 0 of expert 3 by ...";
    v.passed = false;
    r.ranks[0].schedules[0].verify = v;
    const RunResult back = run_result_from_json(nlohmann::json::parse(to_json(r).dump()));
    QVERIFY(!back.ranks[0].schedules[1].verify);  // not verified: absent
    const VerifyReport& got = *back.ranks[0].schedules[0].verify;
    QCOMPARE(got.check, VerifyCheck::RoutingValidity);
    QCOMPARE(got.output, 3e-7);
    QVERIFY(std::isnan(got.input_grad));
    QCOMPARE(got.worst_expert_param(), std::string("dW2"));
    QCOMPARE(got.routing.capacity_slots, std::int64_t(32));
    QCOMPARE(got.routing.dropped_tokens, std::int64_t(2));
    QVERIFY(!got.passed);
    QVERIFY(got.failure().find("slot used twice") != std::string::npos);
    nlohmann::json j = to_json(r);
    j["ranks"][0]["schedules"][0]["verify"]["check"] = "eyeballed";
    try {
      run_result_from_json(j);
      QFAIL("accepted an unknown check");
    } catch (const std::runtime_error& e) {
      QVERIFY2(std::string(e.what()).find("ranks[0].schedules[0].verify.check") != std::string::npos,
               e.what());
    }
  }

  void malformedJsonNamesTheField_data() {
    QTest::addColumn<QString>("pointer");  // JSON pointer to patch
    QTest::addColumn<QString>("value");    // replacement as JSON text; empty: remove the field
    QTest::addColumn<QString>("field");    // what the message must name
    QTest::newRow("missing backend") << "/backend"
                                     << ""
                                     << "backend";
    QTest::newRow("mistyped backend") << "/backend"
                                      << "3"
                                      << "backend";
    QTest::newRow("missing forward_s") << "/ranks/1/schedules/0/forward_s"
                                       << ""
                                       << "ranks[1].schedules[0].forward_s";
    QTest::newRow("string in backward_s") << "/ranks/0/schedules/1/backward_s/2"
                                          << "\"x\""
                                          << "ranks[0].schedules[1].backward_s[2]";
    QTest::newRow("bytes not integer") << "/ranks/0/schedules/0/counters/1/bytes"
                                       << "\"100\""
                                       << "ranks[0].schedules[0].counters[1].bytes";
    QTest::newRow("unknown schedule") << "/ranks/0/schedules/0/schedule"
                                      << "\"S9\""
                                      << "ranks[0].schedules[0].schedule";
    QTest::newRow("rank out of place") << "/ranks/1/rank"
                                       << "0"
                                       << "ranks[1].rank";
    QTest::newRow("ranks not array") << "/ranks"
                                     << "{}"
                                     << "ranks";
    QTest::newRow("missing config") << "/config"
                                    << ""
                                    << "config";
    QTest::newRow("bad config field") << "/config/layer/hidden"
                                      << "\"big\""
                                      << "layer.hidden";
  }

  void malformedJsonNamesTheField() {
    QFETCH(QString, pointer);
    QFETCH(QString, value);
    QFETCH(QString, field);
    nlohmann::json j = to_json(sample());
    const nlohmann::json::json_pointer ptr(pointer.toStdString());
    if (value.isEmpty())
      j[ptr.parent_pointer()].erase(ptr.back());
    else
      j[ptr] = nlohmann::json::parse(value.toStdString());
    const QString message = error_of(j);
    QVERIFY2(!message.isEmpty(), "accepted");
    QVERIFY2(message.contains(field), qPrintable(message));
    QVERIFY2(!message.contains('\n'), qPrintable(message));
  }
};

QTEST_GUILESS_MAIN(TestRunResult)
#include "test_engine_run_result.moc"
