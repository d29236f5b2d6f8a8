// `parm run --gate-logits FILE --dump-routing FILE` (issue 17 item 4): the gate routes given logits, and the
// dumped routing equals DeepSpeed's top2gating rule computed here by hand from the same logits (argmax, then
// argmax of the rest; slots choice-major in token order; a slot >= capacity drops the choice; the kept
// choices' probabilities renormalised), with DeepSpeed's float32 capacity. Wrong shapes are one line.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tests/support/parm_process.h"

namespace {

using Result = parm_test::ProcessResult;

constexpr int kGroups = 2, kTokens = 50, kExperts = 8, kTopK = 2;

// 4 ranks, mp 2: two MP groups of S = 50 tokens; S1 gates two slices of 25 per group.
QString write_config(const QTemporaryDir& dir) {
  const QString path = dir.filePath("routing.json");
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(R"({"name": "routing",
    "layer": {"batch": 1, "seq_len": 50, "hidden": 8, "ffn_hidden": 16, "num_experts": 8, "top_k": 2,
              "capacity_factor": 1.2, "min_capacity": 0, "capacity_rounding": "deepspeed"},
    "parallel": {"ranks": 4, "gpus_per_node": 2, "mp": 2, "esp": 2},
    "run": {"schedules": ["B_DS", "S1"], "warmup": 0, "iterations": 1}})");
  return path;
}

// Logits 0.3 * a pseudo-random permutation of the experts per token (every gap >= 0.3, so fp32 and the
// double below agree on every argmax); group 0's first 20 tokens prefer expert 0, which then overflows.
std::vector<float> make_logits() {
  std::vector<float> v(static_cast<std::size_t>(kGroups * kTokens * kExperts));
  std::uint32_t state = 12345;
  for (int g = 0; g < kGroups; ++g)
    for (int t = 0; t < kTokens; ++t) {
      int perm[kExperts];
      for (int e = 0; e < kExperts; ++e) perm[e] = e;
      for (int e = kExperts - 1; e > 0; --e) {
        state = state * 1664525u + 1013904223u;
        std::swap(perm[e], perm[(state >> 8) % static_cast<std::uint32_t>(e + 1)]);
      }
      float* row = &v[static_cast<std::size_t>((g * kTokens + t) * kExperts)];
      for (int e = 0; e < kExperts; ++e) row[e] = 0.3f * static_cast<float>(perm[e]);
      if (g == 0 && t < 20) row[0] = 3.0f;
    }
  return v;
}

// numpy's .npy v1: magic, version, header length, the dict padded to a multiple of 64 bytes, the data.
QByteArray npy_float32(const std::vector<float>& values, const QByteArray& shape) {
  QByteArray header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  QByteArray out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out += QByteArray(reinterpret_cast<const char*>(values.data()),
                    static_cast<qsizetype>(values.size() * sizeof(float)));
  return out;
}

QString write_file(const QTemporaryDir& dir, const char* name, const QByteArray& bytes) {
  const QString path = dir.filePath(name);
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size()) qFatal("cannot write %s", name);
  return path;
}

struct Choice {
  int expert = -1;
  double probability = 0, weight = 0;
  bool kept = false;
  int slot = -1;
};

// DeepSpeed's top2gating on tokens [first, first + n) of one group's logits, with `capacity`.
std::vector<std::vector<Choice>> top2_by_hand(const std::vector<float>& logits, int group, int first, int n,
                                              int capacity) {
  std::vector<std::vector<Choice>> out(static_cast<std::size_t>(n), std::vector<Choice>(kTopK));
  for (int t = 0; t < n; ++t) {
    const float* row = &logits[static_cast<std::size_t>((group * kTokens + first + t) * kExperts)];
    double top = row[0], sum = 0;
    for (int e = 0; e < kExperts; ++e) top = std::max(top, double(row[e]));
    double p[kExperts];
    for (int e = 0; e < kExperts; ++e) sum += p[e] = std::exp(double(row[e]) - top);
    for (double& x : p) x /= sum;
    int a = 0;
    for (int e = 1; e < kExperts; ++e)
      if (p[e] > p[a]) a = e;
    int b = a == 0 ? 1 : 0;
    for (int e = 0; e < kExperts; ++e)
      if (e != a && p[e] > p[b]) b = e;
    out[t][0] = {a, p[a]};
    out[t][1] = {b, p[b]};
  }
  int load[kExperts] = {};
  for (int j = 0; j < kTopK; ++j)  // choice-major: every first choice before any second choice
    for (int t = 0; t < n; ++t) {
      Choice& c = out[t][j];
      const int slot = load[c.expert]++;
      c.kept = slot < capacity;
      c.slot = c.kept ? slot : -1;
    }
  for (auto& token : out) {
    double kept = 0;
    for (const Choice& c : token) kept += c.kept ? c.probability : 0;
    for (Choice& c : token) c.weight = c.kept ? c.probability / kept : 0;
  }
  return out;
}

QJsonObject schedule_of(const QJsonObject& dump, const QString& name) {
  for (const auto& s : dump["schedules"].toArray())
    if (s.toObject()["schedule"].toString() == name) return s.toObject();
  qFatal("no schedule %s in the dump", qPrintable(name));
}

}  // namespace

class TestCliParmRouting : public QObject {
  Q_OBJECT
 private slots:
  void dumpedRoutingIsTop2OfTheGivenLogits() {
    QTemporaryDir dir;
    const std::vector<float> logits = make_logits();
    const QString npy = write_file(dir, "logits.npy", npy_float32(logits, "(2, 50, 8)"));
    const QString dump_path = dir.filePath("routing-dump.json");
    const Result r = parm_test::run_parm({"run", write_config(dir), "--gate-logits", npy, "--dump-routing",
                                          dump_path, "--timeout-ms", "60000"},
                                         {.timeout_ms = 180000});
    parm_test::output_of_success(r);
    QFile f(dump_path);
    QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(dump_path));
    const QJsonObject dump = parm_test::json_object_of(f.readAll());
    QCOMPARE(dump["format"].toString(), QString("parm-routing/1"));
    QCOMPARE(dump["S"].toInt(), kTokens);
    QCOMPARE(dump["E"].toInt(), kExperts);
    QCOMPARE(dump["k"].toInt(), kTopK);
    QCOMPARE(dump["groups"].toInt(), kGroups);
    QCOMPARE(dump["capacity_rounding"].toString(), QString("deepspeed"));
    QVERIFY(dump["gate_logits"].toString().endsWith("logits.npy"));

    // B_DS gates each group's 50 tokens with C = ceil(float32(50/8) * float32(2.4)) = 16 (exact: 15);
    // S1 each MP rank's 25-token slice with C1 = 8.
    struct Expect {
      const char* schedule;
      int gated, capacity;
    };
    int dropped_bds = 0;
    for (const Expect& x : {Expect{"B_DS", 50, 16}, Expect{"S1", 25, 8}}) {
      const QJsonObject s = schedule_of(dump, x.schedule);
      QCOMPARE(s["gated_tokens"].toInt(), x.gated);
      QCOMPARE(s["capacity"].toInt(), x.capacity);
      const QJsonArray groups = s["groups"].toArray();
      QCOMPARE(groups.size(), kGroups);
      for (int g = 0; g < kGroups; ++g) {
        const QJsonObject group = groups[g].toObject();
        QCOMPARE(group["group"].toInt(), g);
        QCOMPARE(group["expert"].toArray().size(), kTokens);
        for (int first = 0; first < kTokens; first += x.gated) {
          const auto hand = top2_by_hand(logits, g, first, x.gated, x.capacity);
          for (int t = 0; t < x.gated; ++t)
            for (int j = 0; j < kTopK; ++j) {
              const Choice& c = hand[static_cast<std::size_t>(t)][static_cast<std::size_t>(j)];
              const auto at = [&](const char* field) {
                return group[field].toArray()[first + t].toArray()[j];
              };
              const QString where =
                  QString("%1 group %2 token %3 choice %4").arg(x.schedule).arg(g).arg(first + t).arg(j);
              QVERIFY2(at("expert").toInt() == c.expert, qPrintable(where));
              QVERIFY2(at("kept").toBool() == c.kept, qPrintable(where));
              QVERIFY2(at("slot").toInt() == c.slot, qPrintable(where));
              QVERIFY2(std::abs(at("probability").toDouble() - c.probability) < 1e-5, qPrintable(where));
              QVERIFY2(std::abs(at("weight").toDouble() - c.weight) < 1e-5, qPrintable(where));
              if (std::string(x.schedule) == "B_DS" && !c.kept) ++dropped_bds;
            }
        }
      }
    }
    // Expert 0 holds 20 first choices of group 0: 4 are dropped at C = 16 (exact rounding would drop 5).
    QVERIFY2(dropped_bds >= 4, qPrintable(QString::number(dropped_bds)));
  }

  void wrongShapeIsOneLineNamingFileAndShape() {
    QTemporaryDir dir;
    // JSON, S x 7 instead of S x 8.
    QByteArray json = "[";
    for (int t = 0; t < kTokens; ++t) json += QByteArray(t ? "," : "") + "[0,1,2,3,4,5,6]";
    json += "]";
    const QString path = write_file(dir, "bad-logits.json", json);
    const Result r = parm_test::run_parm(
        {"run", write_config(dir), "--gate-logits", path, "--dump-routing", dir.filePath("never.json")});
    QCOMPARE(r.exit_code, 2);
    const QByteArray err = r.err.trimmed();
    QCOMPARE(err.count('\n'), 0);
    QVERIFY2(err.contains("bad-logits.json") && err.contains("(50, 7)") && err.contains("(2, 50, 8)") &&
                 err.contains("(50, 8)"),
             err.constData());
    QVERIFY2(!err.contains("starting"), err.constData());  // refused before any rank started
    QVERIFY(!QFile::exists(dir.filePath("never.json")));

    // A .npy with a third group.
    const std::vector<float> three(3 * kTokens * kExperts, 0.5f);
    const QString npy = write_file(dir, "three.npy", npy_float32(three, "(3, 50, 8)"));
    const Result r3 = parm_test::run_parm({"run", write_config(dir), "--gate-logits", npy});
    QCOMPARE(r3.exit_code, 2);
    QVERIFY2(r3.err.contains("three.npy") && r3.err.contains("(3, 50, 8)"), r3.err.constData());
  }

  void verifyWithGivenLogitsIsRefused() {
    QTemporaryDir dir;
    const QString npy = write_file(dir, "logits.npy", npy_float32(make_logits(), "(2, 50, 8)"));
    const Result r = parm_test::run_parm({"run", write_config(dir), "--gate-logits", npy, "--verify"});
    QCOMPARE(r.exit_code, 2);
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    QVERIFY2(r.err.contains("--verify with --gate-logits"), r.err.constData());
  }
};

QTEST_GUILESS_MAIN(TestCliParmRouting)
#include "test_cli_parm_routing.moc"
