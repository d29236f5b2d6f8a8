// Hostile calibrations through the real `parm predict`: a bad value is refused on load with one line naming
// the field path and the rule (exit 2), never turned into a prediction of -3,784,703 ms or nan with exit 0;
// and a calibration `parm calibrate` wrote is always usable for its own layout, groups of one included.
#include "hostile_support.h"

namespace {

// A calibration of the default preset's layout (P = 4, G = 2, N_MP = N_ESP = 2, N_EP = 2); `fits` replaces
// the fit list, `top` adds or replaces top-level members ("\"interference\": 0.5, ").
QByteArray calibration(const QByteArray& fits = {}, const QByteArray& top = {},
                       const QByteArray& layout = R"({"ranks": 4, "gpus_per_node": 2, "mp": 2, "esp": 2})") {
  const QByteArray standard = R"([
    {"op": "alltoall", "communicator": "EP", "group_size": 2, "alpha": 0.2, "beta": 3e-7, "r2": 0.99},
    {"op": "p2p", "communicator": "EP", "group_size": 2, "alpha": 0.02, "beta": 3e-7, "r2": 0.99},
    {"op": "allgather", "communicator": "MP", "group_size": 2, "alpha": 0.03, "beta": 1e-7, "r2": 0.99},
    {"op": "reducescatter", "communicator": "MP", "group_size": 2, "alpha": 0.03, "beta": 1e-7, "r2": 0.99},
    {"op": "allreduce", "communicator": "MP", "group_size": 2, "alpha": 0.05, "beta": 2e-7, "r2": 0.99},
    {"op": "gemm", "communicator": "local", "group_size": 1, "alpha": 0.01, "beta": 1e-9, "r2": 0.99}])";
  return "{" + top + R"("id": "calib-hostile", "layout": )" + layout + R"(, "dtype": "fp32", "fits": )" +
         (fits.isEmpty() ? standard : fits) + "}";
}

QByteArray one_fit(const QByteArray& members) {
  return R"([{"op": "alltoall", "communicator": "EP", "group_size": 2, )" + members + "}]";
}

}  // namespace

class TestHostileCalibration : public QObject {
  Q_OBJECT
 private slots:
  void refused_data() {
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QByteArray>("needle");
    QTest::newRow("negative beta") << calibration(one_fit(R"("alpha": 0.1, "beta": -1e-3)"))
                                   << QByteArray("calib.json: fits[0].beta = -0.001: must be >= 0");
    QTest::newRow("huge beta") << calibration(one_fit(R"("alpha": 0.1, "beta": 1e300)"))
                               << QByteArray("fits[0].beta = 1e+300: must be >= 0 and <= 1e6");
    QTest::newRow("negative alpha") << calibration(one_fit(R"("alpha": -5, "beta": 1e-7)"))
                                    << QByteArray("fits[0].alpha = -5: must be >= 0");
    QTest::newRow("nan as a string") << calibration(one_fit(R"("alpha": "NaN", "beta": 1e-7)"))
                                     << QByteArray("fits[0].alpha = \"NaN\": must be a number");
    QTest::newRow("inf as a string") << calibration(one_fit(R"("alpha": 0.1, "beta": "inf")"))
                                     << QByteArray("fits[0].beta = \"inf\": must be a number");
    QTest::newRow("1e999") << calibration(one_fit(R"("alpha": 0.1, "beta": 1e999)"))
                           << QByteArray("numbers must fit a double");
    QTest::newRow("r2 above 1") << calibration(one_fit(R"("alpha": 0.1, "beta": 1e-7, "r2": 1.5)"))
                                << QByteArray("fits[0].r2 = 1.5: must be <= 1");
    QTest::newRow("interference below 1")
        << calibration({}, R"("interference": 0.5, )") << QByteArray("interference = 0.5: must be >= 1");
    QTest::newRow("group_size 0") << calibration(
                                         R"([{"op": "gemm", "group_size": 0, "alpha": 0, "beta": 0}])")
                                  << QByteArray("fits[0].group_size = 0: must be an integer from 1");
    QTest::newRow("duplicate fit")
        << calibration(R"([{"op": "gemm", "communicator": "local", "alpha": 0.1, "beta": 1e-9},
                          {"op": "gemm", "communicator": "local", "alpha": 0.2, "beta": 1e-9}])")
        << QByteArray("fits[1]: duplicate fit 'gemm' on 'local' (also fits[0]");
    QTest::newRow("layout ranks 1e300")
        << calibration({}, {}, R"({"ranks": 1e300, "gpus_per_node": 2, "mp": 2, "esp": 2})")
        << QByteArray("layout.ranks = 1e+300: must be an integer from 1");
    QTest::newRow("missing fit for a group of 2")
        << calibration(R"([{"op": "gemm", "communicator": "local", "alpha": 0.1, "beta": 1e-9}])")
        << QByteArray("missing fit 'alltoall' (the EP group has 2 ranks");
    QTest::newRow("another layout") << calibration({}, {},
                                                   R"({"ranks": 8, "gpus_per_node": 2, "mp": 2, "esp": 2})")
                                    << QByteArray("was measured with nodes=4, the configuration has nodes=2");
    QTest::newRow("deep nesting") << QByteArray(100000, '[') << QByteArray("nesting deeper than");
    QTest::newRow("not an object") << QByteArray("[1, 2]")
                                   << QByteArray("calibration: must be a JSON object");
  }
  void refused() {
    QFETCH(QByteArray, content);
    QFETCH(QByteArray, needle);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = hostile::write_file(QDir(dir.path()), "calib.json", content);
    const hostile::Result r = hostile::run_parm({"predict", "default", "--calibration", path}, 30000);
    hostile::expect_refused(r, 2, needle);
    QVERIFY2(r.out.isEmpty(), r.out.constData());  // no table of made-up times
  }

  void directory_refused() {
    QTemporaryDir dir;
    hostile::expect_refused(hostile::run_parm({"predict", "default", "--calibration", dir.path()}, 30000), 2,
                            "is a directory");
  }

  // The valid one predicts: the rows above fail for their value, not for the template.
  void template_is_valid() {
    QTemporaryDir dir;
    const QString path = hostile::write_file(QDir(dir.path()), "calib.json", calibration());
    const hostile::Result r =
        hostile::run_parm({"predict", "default", "--calibration", path, "--json"}, 30000);
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY(r.out.contains("\"chosen\""));
  }

  // N_EP = 1 (2 ranks, N_MP = 2): calibrate measures no EP fit for a group of one, and predict needs none.
  void calibrate_then_predict_with_a_group_of_one() {
    QTemporaryDir dir;
    const QString calib = dir.filePath("calib2.json");
    const hostile::Result c =
        hostile::run_parm({"calibrate", "--ranks", "2", "--quick", "--out", calib}, 180000);
    QVERIFY2(c.exit_code == 0, c.err.constData());
    const QByteArray json = [&] {
      QFile f(calib);
      return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }();
    QVERIFY2(!json.contains("\"alltoall\""), "an EP group of one has nothing to measure");
    const QString config =
        hostile::write_file(QDir(dir.path()), "two.json", R"({"name": "two", "parallel": {"ranks": 2}})");
    for (const char* sub : {"predict", "recommend"}) {
      const hostile::Result p = hostile::run_parm({sub, config, "--calibration", calib}, 30000);
      QVERIFY2(p.exit_code == 0, qPrintable(QString(sub) + ": " + p.err));
      QVERIFY2(p.out.contains("S1"), p.out.constData());
    }
  }
};

QTEST_GUILESS_MAIN(TestHostileCalibration)
#include "test_hostile_calibration.moc"
