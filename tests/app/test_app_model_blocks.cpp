// A whole-model run's blocks (issue 18): the per-op times of such a run grouped into embedding, blocks in
// numeric order, head and gradient sync, each with its parts (compute sections, the MoE layer's ops, the
// tensor-parallel and gradient AllReduces), forward and backward summed per schedule; a layer run gives no
// rows; the Compare page's tree model passes QAbstractItemModelTester.
#include <QAbstractItemModelTester>
#include <QtTest>

#include "app/compare/model_blocks_model.h"
#include "engine/model/model_blocks.h"

using namespace parm;
using parm::app::ModelBlocksModel;

namespace {

// Per (schedule, phase, op, purpose) ms, as aggregate_measured_ops gives them.
std::map<OpKey, double> model_run_ops() {
  std::map<OpKey, double> ops;
  for (const char* s : {"B_DS", "S1"}) {
    const double k = std::string(s) == "S1" ? 0.5 : 1.0;  // S1's MoE layer ops take half as long
    ops[{s, 0, "Embedding", "embedding"}] = 0.2;
    ops[{s, 0, "AllReduce", "embedding"}] = 0.1;
    for (int b : {0, 1, 10, 2}) {
      const std::string p = "block" + std::to_string(b);
      ops[{s, 0, "Attention", p}] = 1.0;
      ops[{s, 1, "Attention", p}] = 2.0;
      ops[{s, 0, "AllReduce", p + " attention"}] = 0.3;
      if (b % 2 == 1) {
        ops[{s, 0, "AlltoAll", p + " dispatch"}] = 4.0 * k;
        ops[{s, 1, "experts_bwd", p + " experts"}] = 2.0 * k;
        ops[{s, 1, "AllReduce", p + " router gradient"}] = 0.05;
      } else {
        ops[{s, 0, "FFN", p}] = 1.5;
        ops[{s, 0, "AllReduce", p + " ffn"}] = 0.3;
      }
    }
    ops[{s, 0, "Head", "head"}] = 0.7;
    ops[{s, 0, "AllReduce", "loss max"}] = 0.01;
    ops[{s, 1, "AllReduce", "gradient bucket 0"}] = 3.0;
  }
  return ops;
}

const ModelPartTimes* part(const ModelBlockTimes& b, const std::string& name) {
  for (const auto& p : b.parts)
    if (p.part == name) return &p;
  return nullptr;
}

}  // namespace

class TestAppModelBlocks : public QObject {
  Q_OBJECT

 private slots:
  void rowsFollowTheModel() {
    const std::vector<ModelBlockTimes> rows = model_block_times(model_run_ops());
    QStringList names;
    for (const auto& r : rows) names << QString::fromStdString(r.block);
    QCOMPARE(names,
             (QStringList{"embedding", "block0", "block1", "block2", "block10", "head", "gradient sync"}));
    const ModelBlockTimes& moe = rows[2];  // block1 has the MoE layer
    QCOMPARE(part(moe, "MoE layer")->ms.at("B_DS"), 6.0);
    QCOMPARE(part(moe, "MoE layer")->ms.at("S1"), 3.0);
    QCOMPARE(part(moe, "Attention")->ms.at("B_DS"), 3.0);  // forward + backward
    QCOMPARE(part(moe, "TP AllReduce")->ms.at("S1"), 0.3);
    QCOMPARE(part(moe, "gradient sync")->ms.at("S1"), 0.05);
    QCOMPARE(moe.ms.at("B_DS"), 3.0 + 0.3 + 6.0 + 0.05);
    QVERIFY(part(rows[1], "FFN") && !part(rows[1], "MoE layer"));
    QCOMPARE(part(rows[0], "TP AllReduce")->ms.at("B_DS"), 0.1);
    QCOMPARE(part(rows[5], "TP AllReduce")->ms.at("B_DS"), 0.01);
    QCOMPARE(rows[6].ms.at("S1"), 3.0);
  }

  void layerRunHasNoRows() {
    std::map<OpKey, double> layer;
    layer[{"B_DS", 0, "AlltoAll", "dispatch"}] = 1.0;
    layer[{"B_DS", 0, "gate", "gate"}] = 0.5;
    layer[{"B_DS", 1, "AllReduce", "router grad"}] = 0.1;
    QVERIFY(model_block_times(layer).empty());
  }

  void treeModel() {
    ModelBlocksModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.rowCount(), 0);
    model.setBlocks(model_block_times(model_run_ops()), {"B_DS", "S1", "S2"});
    QCOMPARE(model.rowCount(), 7);
    QCOMPARE(model.columnCount(), 4);
    QCOMPARE(model.headerData(1, Qt::Horizontal).toString(), QString("B_DS ms"));
    const QModelIndex block1 = model.index(2, 0);
    QCOMPARE(block1.data().toString(), QString("block1"));
    QVERIFY(model.rowCount(block1) >= 4);
    QCOMPARE(model.parent(model.index(0, 0, block1)), block1);
    QCOMPARE(model.index(2, 1).data(ModelBlocksModel::ValueRole).toDouble(), 9.35);
    QCOMPARE(model.index(2, 3).data().toString(), QString("-"));  // S2 did not run
    bool found = false;
    for (int r = 0; r < model.rowCount(block1); ++r)
      if (model.index(r, 0, block1).data().toString() == "MoE layer") {
        QCOMPARE(model.index(r, 2, block1).data().toString(), QString("3.000"));
        found = true;
      }
    QVERIFY(found);
    model.clear();
    QVERIFY(model.empty());
  }
};

QTEST_GUILESS_MAIN(TestAppModelBlocks)
#include "test_app_model_blocks.moc"
