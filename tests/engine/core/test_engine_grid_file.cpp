// engine/grid_file.h without the CLI: what a grid document becomes, how configurations are numbered, and the
// checks that keep an axis value from reaching a static_cast it would overflow.
#include <QtTest>

#include "engine/core/grid_file.h"

using namespace parm;

namespace {

GridLoad parse(const std::string& axes) {
  return grid_from_json_text(R"({"name": "g", "base": {"name": "b"}, "axes": {)" + axes + "}}", "grid.json");
}

}  // namespace

class TestGridFile : public QObject {
  Q_OBJECT
 private slots:
  void numbersLastAxisFastest() {
    const GridLoad load = parse(R"("batch": [1, 2, 3], "top_k": [1, 2])");
    QVERIFY(load.ok());
    QCOMPARE(*grid_configuration_count(*load.grid), std::uint64_t(6));
    // Axes are kept by name (batch, top_k): top_k varies fastest.
    const Config c3 = grid_configuration(*load.grid, 3);
    QCOMPARE(c3.layer.batch, std::int64_t(2));
    QCOMPARE(c3.layer.top_k, std::int64_t(2));
    const Config c4 = grid_configuration(*load.grid, 4);
    QCOMPARE(c4.layer.batch, std::int64_t(3));
    QCOMPARE(c4.layer.top_k, std::int64_t(1));
    QCOMPARE(c4.name, std::string("b"));
  }

  void ffnRatioAppliesAfterHidden() {
    const GridLoad load = parse(R"("ffn_ratio": [4], "hidden": [64, 128])");
    QVERIFY(load.ok());
    QCOMPARE(grid_configuration(*load.grid, 1).layer.ffn_hidden, std::int64_t(512));
  }

  void countOverflowIsReported() {
    Grid g;
    g.axes = {{"batch", std::vector<double>(1 << 16, 1.0)},
              {"seq_len", std::vector<double>(1 << 16, 1.0)},
              {"hidden", std::vector<double>(1 << 16, 1.0)},
              {"top_k", std::vector<double>(1 << 15, 1.0)}};
    QCOMPARE(*grid_configuration_count(g), std::uint64_t(1) << 63);
    g.axes.back().second.resize(1 << 16);
    QVERIFY(!grid_configuration_count(g).has_value());
  }

  void badValuesNamedOneLineEach() {
    const GridLoad load = parse(R"("batch": [1e300, 2.5, -1], "capacity_factor": [0], "nope": [1])");
    QVERIFY(!load.ok());
    QCOMPARE(load.errors.size(), std::size_t(5));
    QVERIFY(load.errors[0].find("grid.json: axes.batch[0] = 1e+300: must be an integer") == 0);
    for (const auto& line : load.errors) QVERIFY(line.find('\n') == std::string::npos);
  }

  void hostileTextIsOneLine() {
    for (const std::string& text :
         {std::string(100000, '['), std::string("{\"axes\": 1e999}"), std::string("")}) {
      const GridLoad load = grid_from_json_text(text, "g");
      QVERIFY(!load.ok());
      QCOMPARE(load.errors.size(), std::size_t(1));
    }
  }
};

QTEST_GUILESS_MAIN(TestGridFile)
#include "test_engine_grid_file.moc"
