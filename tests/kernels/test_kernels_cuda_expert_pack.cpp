// Host checks of two pieces of the CUDA experts that need no device: the one-launch pack of all local
// experts' rows (kernels/cuda/expert_pack.h) writes, for every expert, exactly what layout::pack_expert
// writes, and its unpack is pack's inverse; and the grouped-vs-loop rule with its PARM_EXPERT_GEMM override.
#include <QtTest/QtTest>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "kernels/cuda/expert_gemm_choice.h"
#include "kernels/cuda/expert_pack.h"
#include "kernels/layout_index.h"

using namespace parm;
using namespace parm::kernels::cuda;

namespace {

// What the cpu backend does per block (and what kernels/cuda/block_copy.cu does per element).
std::vector<std::int64_t> apply(const std::vector<std::int64_t>& src, const layout::BlockCopy& map,
                                std::size_t dst_size) {
  std::vector<std::int64_t> dst(dst_size, -1);
  for (std::int64_t k = 0; k < map.elements(); ++k) {
    const std::int64_t block = k / map.length, j = k % map.length;
    dst[static_cast<std::size_t>(map.dst_offset(block) + j)] =
        src[static_cast<std::size_t>(map.src_offset(block) + j)];
  }
  return dst;
}

}  // namespace

class TestCudaExpertPack : public QObject {
  Q_OBJECT
 private slots:
  void packAllEqualsPackPerExpert_data();
  void packAllEqualsPackPerExpert();
  void pathRule();
  void overrideParsing();
};

void TestCudaExpertPack::packAllEqualsPackPerExpert_data() {
  QTest::addColumn<qint64>("outer");
  QTest::addColumn<qint64>("experts");
  QTest::addColumn<qint64>("c");
  QTest::addColumn<qint64>("m");
  QTest::newRow("one expert") << qint64{4} << qint64{1} << qint64{5} << qint64{3};
  QTest::newRow("odd") << qint64{3} << qint64{5} << qint64{13} << qint64{7};
  QTest::newRow("one outer") << qint64{1} << qint64{4} << qint64{2} << qint64{8};
  QTest::newRow("tc1-like") << qint64{8} << qint64{2} << qint64{9} << qint64{16};
}

void TestCudaExpertPack::packAllEqualsPackPerExpert() {
  QFETCH(qint64, outer);
  QFETCH(qint64, experts);
  QFETCH(qint64, c);
  QFETCH(qint64, m);
  const auto n = static_cast<std::size_t>(outer * experts * c * m);
  std::vector<std::int64_t> in(n);
  std::iota(in.begin(), in.end(), 0);
  const std::vector<std::int64_t> packed = apply(in, pack_all_experts(outer, experts, c, m), n);
  const std::int64_t rows = outer * c;
  for (std::int64_t e = 0; e < experts; ++e) {
    const std::vector<std::int64_t> one =
        apply(in, layout::pack_expert(outer, experts, e, c, m), static_cast<std::size_t>(rows * m));
    const std::vector<std::int64_t> slice(packed.begin() + e * rows * m, packed.begin() + (e + 1) * rows * m);
    QCOMPARE(slice, one);
  }
  QCOMPARE(apply(packed, unpack_all_experts(outer, experts, c, m), n), in);
}

void TestCudaExpertPack::pathRule() {
  QCOMPARE(choose_expert_gemm_path(1, 100000, 4096), ExpertGemmPath::Loop);  // nothing to group
  QCOMPARE(choose_expert_gemm_path(4, 160, 768), ExpertGemmPath::Grouped);   // small experts
  QCOMPARE(choose_expert_gemm_path(4, 9856, 2048), ExpertGemmPath::Loop);    // each fills the device
  QCOMPARE(choose_expert_gemm_path(2, kLoopMinProductElements / 64, 63), ExpertGemmPath::Grouped);
  QCOMPARE(choose_expert_gemm_path(2, kLoopMinProductElements / 64, 64), ExpertGemmPath::Loop);
}

void TestCudaExpertPack::overrideParsing() {
  QVERIFY(!parse_expert_gemm_override(nullptr));
  QVERIFY(!parse_expert_gemm_override(""));
  QVERIFY(!parse_expert_gemm_override("auto"));
  QCOMPARE(*parse_expert_gemm_override("grouped"), ExpertGemmPath::Grouped);
  QCOMPARE(*parse_expert_gemm_override("loop"), ExpertGemmPath::Loop);
  QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_expert_gemm_override("Grouped"));
}

QTEST_APPLESS_MAIN(TestCudaExpertPack)
#include "test_kernels_cuda_expert_pack.moc"
