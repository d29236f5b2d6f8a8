// `parm cluster` as CI (root) uses it: a 2-node x 2-rank emulated cluster whose inter-node AlltoAll follows
// the configured link rate while the intra-node AllGather stays on shared memory, the distributed engine
// verified on it, the one-line errors, and a teardown that leaves no namespace, link or file behind, also on
// failure. Exits 77 (skipped) when not root or when network namespaces are not permitted here.
#include <unistd.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <cstdio>

#include "tests/support/emulated_cluster.h"
#include "tests/support/parm_process.h"

namespace {

const QString kName = "qtcluster";  // fixed, so a killed earlier run's leftovers are removed at the start

using Result = parm_test::ProcessResult;

Result run(const QString& program, const QStringList& args, int timeout_ms = 120000) {
  return parm_test::run_program(program, args, {.timeout_ms = timeout_ms});
}

Result parm(const QStringList& args, int timeout_ms = 120000) {
  return parm_test::run_parm(args, {.timeout_ms = timeout_ms});
}

// The host's own links: the test must not add, remove or change any.
QByteArray host_links() {
  return run("ip", {"-br", "link"}).out;
}

struct LinkSample {
  double inter_gbit = 0;
  double intra_ms = 0;
};

LinkSample measure_once() {
  const Result r =
      run("/run/parm-cluster/" + kName + "/mpirun",
          {"-np", "4", PARM_BENCH_LINKS, "--bytes", "16M", "-n", "3", "--intra-iterations", "15", "--json"},
          180000);
  if (r.exit_code != 0) {
    qWarning("bench: %s", r.err.constData());
    return {};
  }
  const QJsonObject o = QJsonDocument::fromJson(r.out.trimmed().split('\n').last()).object();
  qInfo("links: %s", r.out.trimmed().constData());
  return {o["inter_link_gbit_s"].toDouble(), o["intra_allgather_ms"].toDouble()};
}

// Shaping is a ceiling: a busy CPU can only make a measurement slower than the link, never faster. So the
// best of three measurements estimates the link; the intra-node time is taken from that same measurement.
LinkSample measure_links() {
  LinkSample best = measure_once();
  for (int i = 0; i < 2; ++i) {
    const LinkSample again = measure_once();
    if (again.inter_gbit > best.inter_gbit) best = again;
  }
  return best;
}

Result up(const QString& rate, const QString& name = kName) {
  return parm(
      {"cluster", "up", "--nodes", "2", "--ranks-per-node", "2", "--inter-bandwidth", rate, "--name", name});
}

}  // namespace

class TestEngineCluster : public QObject {
  Q_OBJECT
  parm_test::ClusterTeardown guard_{kName};
  QByteArray host_links_before_;

 private slots:
  void initTestCase() {
    parm({"cluster", "down", "--name", kName});  // leftovers of a killed run
    QVERIFY2(parm_test::cluster_leftovers(kName).isEmpty(),
             qPrintable(parm_test::cluster_leftovers(kName).join(' ')));
    host_links_before_ = host_links();
  }

  void upShowsStatusAndRefusesMistakes() {
    const Result r = up("250mbit");
    QVERIFY2(r.exit_code == 0, r.err.constData());
    const Result s = parm({"cluster", "status", "--name", kName, "--json"});
    QVERIFY2(s.exit_code == 0, s.err.constData());
    const QJsonObject o = QJsonDocument::fromJson(s.out).object();
    QCOMPARE(o["nodes"].toInt(), 2);
    QCOMPARE(o["ranks_per_node"].toInt(), 2);
    QCOMPARE(o["inter_bandwidth_bps"].toDouble(), 2.5e8);
    QVERIFY(QFile::exists(o["hostfile"].toString()));

    const Result again = up("1gbit");
    QCOMPARE(again.exit_code, 1);
    QVERIFY2(again.err.contains("already exists") && again.err.count('\n') == 1, again.err.constData());

    const Result missing = parm({"cluster", "status", "--name", "nosuchcl"});
    QCOMPARE(missing.exit_code, 1);
    QVERIFY2(missing.err.contains("no cluster named 'nosuchcl'"), missing.err.constData());
    const Result run_missing = parm({"run", "--ranks", "4", "--cluster", "nosuchcl"});
    QCOMPARE(run_missing.exit_code, 1);
    QVERIFY2(run_missing.err.contains("no cluster named"), run_missing.err.constData());

    const Result bad_rate = up("fast", "qtbad");
    QCOMPARE(bad_rate.exit_code, 2);
    QVERIFY2(bad_rate.err.contains("--inter-bandwidth"), bad_rate.err.constData());

    // Latency needs netem: either it works, or a one-line refusal naming the option and the module, and a
    // failed `up` leaves nothing behind either way.
    const Result latency = parm({"cluster", "up", "--nodes", "2", "--ranks-per-node", "2", "--inter-latency",
                                 "20us", "--name", "qtlat"});
    if (latency.exit_code != 0) {
      QCOMPARE(latency.exit_code, 1);
      QVERIFY2(latency.err.contains("--inter-latency") && latency.err.contains("sch_netem") &&
                   latency.err.count('\n') == 1,
               latency.err.constData());
    } else {
      QCOMPARE(parm({"cluster", "down", "--name", "qtlat"}).exit_code, 0);
    }
    QVERIFY2(parm_test::cluster_leftovers("qtlat").isEmpty(),
             qPrintable(parm_test::cluster_leftovers("qtlat").join(' ')));
  }

  // Measured, not read back from tc: the payload rate of the inter-node AlltoAll follows the configured rate
  // (within 25%) at two settings, while the intra-node AllGather stays on shared memory.
  // 0.25 and 1 Gbit/s: on the 2-core CI VM the ranks' TCP tops out between 1.1 and 3 Gbit/s depending on
  // load, so faster settings would measure the CPU, not the link.
  void linkRatesFollowTheShaping() {
    const LinkSample slow = measure_links();
    QVERIFY(slow.inter_gbit > 0);
    QCOMPARE(parm({"cluster", "down", "--name", kName}).exit_code, 0);
    const Result r = up("1gbit");
    QVERIFY2(r.exit_code == 0, r.err.constData());
    const LinkSample fast = measure_links();
    QVERIFY(fast.inter_gbit > 0);
    QVERIFY2(slow.inter_gbit > 0.25 * 0.75 && slow.inter_gbit < 0.25 * 1.25,
             qPrintable(QString::number(slow.inter_gbit)));
    QVERIFY2(fast.inter_gbit > 1.0 * 0.75 && fast.inter_gbit < 1.0 * 1.25,
             qPrintable(QString::number(fast.inter_gbit)));
    // Intra-node: the same within noise (a 2-core VM: a factor 2), and far below what 16 MiB over even the
    // faster link would take (134 ms at 1 Gbit/s), so it did not go over TCP.
    const double lo = std::min(slow.intra_ms, fast.intra_ms), hi = std::max(slow.intra_ms, fast.intra_ms);
    QVERIFY2(hi < 2.0 * lo, qPrintable(QString("%1 vs %2 ms").arg(slow.intra_ms).arg(fast.intra_ms)));
    QVERIFY2(hi < 16.0 * 1024 * 1024 * 8 / 1e9 * 1e3 * 0.5, qPrintable(QString::number(hi)));
  }

  void distributedEngineVerifiesOnTheCluster() {
    QTemporaryDir dir;
    const QString path = dir.filePath("tiny.json");
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"name": "tiny",
      "layer": {"batch": 2, "seq_len": 8, "hidden": 8, "ffn_hidden": 16, "num_experts": 4, "top_k": 2},
      "parallel": {"ranks": 4, "gpus_per_node": 2, "mp": 2, "esp": 2},
      "run": {"warmup": 1, "iterations": 2}})");
    f.close();
    const Result dry = parm({"run", path, "--ranks", "4", "--cluster", kName, "--dry-run"});
    QVERIFY2(dry.exit_code == 0, dry.err.constData());
    QVERIFY2(dry.out.contains("ip netns exec parm-" + kName.toUtf8() + "-n0") &&
                 dry.out.contains("btl self,vader,tcp") && dry.out.contains("plm_rsh_agent"),
             dry.out.constData());
    const Result r =
        parm({"run", path, "--ranks", "4", "--gpus-per-node", "2", "--cluster", kName, "--verify"}, 180000);
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY2(r.out.contains("2 nodes x 2") && r.out.contains("S2"), r.out.constData());
  }

  void downRemovesEverything() {
    QVERIFY(!parm_test::cluster_leftovers(kName).isEmpty());
    const Result r = parm({"cluster", "down", "--name", kName});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY2(parm_test::cluster_leftovers(kName).isEmpty(),
             qPrintable(parm_test::cluster_leftovers(kName).join(' ')));
    const Result again = parm({"cluster", "down", "--name", kName});
    QCOMPARE(again.exit_code, 1);
    QVERIFY2(again.err.contains("no cluster named"), again.err.constData());
  }

  void cleanupTestCase() {
    parm({"cluster", "down", "--name", kName});
    QVERIFY2(parm_test::cluster_leftovers(kName).isEmpty(),
             qPrintable(parm_test::cluster_leftovers(kName).join(' ')));
    QCOMPARE(host_links(), host_links_before_);
  }
};

int main(int argc, char** argv) {
  QString why;
  if (!parm_test::cluster_usable(&why)) {
    std::fprintf(stderr, "test_engine_cluster: skipped, %s\n", qPrintable(why));
    return 77;
  }
  QCoreApplication app(argc, argv);
  TestEngineCluster t;
  return QTest::qExec(&t, argc, argv);
}

#include "test_engine_cluster.moc"
