// The host-side logic of the cuda backend's communicators, checked without a device: the ncclCommSplit plan
// against the rank layout's groups, the duplicate-GPU refusal, the pinned staging pool's reuse, the fp32
// widening of 16-bit reductions and the cyclic host-flag comparison.
#include <QtTest>
#include <algorithm>
#include <map>
#include <set>

#include "engine/backend/cuda/comm_plan.h"
#include "engine/backend/cuda/host_widening.h"
#include "engine/backend/cuda/staging_pool.h"
#include "engine/core/rank_layout.h"
#include "kernels/cuda/host_flag.h"
#include "kernels/half_types.h"

using namespace parm;
using namespace parm::backend::cuda;
using comm::GroupKind;

namespace {

// A group known only by its members' world ranks: enough for the split plan, which moves no data.
class ListedGroup final : public comm::Communicator {
 public:
  ListedGroup(std::string name, std::vector<int> world_ranks, int world_rank)
      : name_(std::move(name)), members_(std::move(world_ranks)) {
    rank_ = static_cast<int>(std::find(members_.begin(), members_.end(), world_rank) - members_.begin());
  }
  int size() const override { return static_cast<int>(members_.size()); }
  int rank() const override { return rank_; }
  std::string name() const override { return name_; }
  int world_rank_of(int group_rank) const override {
    return members_.at(static_cast<std::size_t>(group_rank));
  }
  void all_to_all(const void*, void*, std::size_t) override { moved(); }
  void all_to_all_v(const void*, const std::size_t*, void*, const std::size_t*) override { moved(); }
  void all_gather(const void*, void*, std::size_t) override { moved(); }
  void reduce_scatter(const void*, void*, std::size_t, comm::DataType) override { moved(); }
  void all_reduce(void*, std::size_t, comm::DataType, comm::ReduceOp) override { moved(); }
  void send_recv(const void*, std::size_t, int, void*, std::size_t, int) override { moved(); }
  void barrier() override { moved(); }

 private:
  [[noreturn]] static void moved() { throw std::logic_error("the split plan must not move data"); }
  std::string name_;
  std::vector<int> members_;
  int rank_ = 0;
};

comm::CommGroups listed_groups(const RankLayout& l) {
  std::vector<int> world(static_cast<std::size_t>(l.world));
  for (int r = 0; r < l.world; ++r) world[static_cast<std::size_t>(r)] = r;
  comm::CommGroups g;
  g.world = std::make_unique<ListedGroup>("world", world, l.rank);
  g.mp = std::make_unique<ListedGroup>("MP", l.mp_ranks, l.rank);
  g.esp = std::make_unique<ListedGroup>("ESP", l.esp_ranks, l.rank);
  g.ep = std::make_unique<ListedGroup>("EP", l.ep_ranks, l.rank);
  g.mp_fused = std::make_unique<ListedGroup>("MP#fused", l.mp_ranks, l.rank);
  g.esp_fused = std::make_unique<ListedGroup>("ESP#fused", l.esp_ranks, l.rank);
  g.ep_fused = std::make_unique<ListedGroup>("EP#fused", l.ep_ranks, l.rank);
  g.ep_intra = std::make_unique<ListedGroup>("EP-intra", l.ep_intra_ranks, l.rank);
  g.ep_inter = std::make_unique<ListedGroup>("EP-inter", l.ep_inter_ranks, l.rank);
  return g;
}

const std::vector<int>& layout_members(const RankLayout& l, GroupKind kind) {
  switch (kind) {
    case GroupKind::MP:
    case GroupKind::MPFused:
      return l.mp_ranks;
    case GroupKind::ESP:
    case GroupKind::ESPFused:
      return l.esp_ranks;
    case GroupKind::EPIntra:
      return l.ep_intra_ranks;
    case GroupKind::EPInter:
      return l.ep_inter_ranks;
    default:
      return l.ep_ranks;
  }
}

Config layout_config(int ranks, int gpus_per_node, int mp, int esp) {
  Config c;
  c.parallel = {ranks, gpus_per_node, mp, esp};
  c.layer.num_experts = 8;
  return c;
}

}  // namespace

class TestCudaCommPlan : public QObject {
  Q_OBJECT

 private slots:
  void splitPlanMakesTheLayoutsGroups_data() {
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("gpus_per_node");
    QTest::addColumn<int>("mp");
    QTest::addColumn<int>("esp");
    QTest::newRow("P4 MP2 ESP2") << 4 << 2 << 2 << 2;
    QTest::newRow("P8 MP4 ESP4") << 8 << 4 << 4 << 4;
    QTest::newRow("P8 MP4 ESP1") << 8 << 4 << 4 << 1;
    QTest::newRow("P8 MP2 ESP1") << 8 << 2 << 2 << 1;
    QTest::newRow("P8 G4 MP1 (2DH: 2 nodes of 4)") << 8 << 4 << 1 << 1;
    QTest::newRow("P16 G4 MP2 (2DH: 4 nodes of 2)") << 16 << 4 << 2 << 2;
    QTest::newRow("P1") << 1 << 1 << 1 << 1;
  }
  // Ranks that give one split the same color are exactly the layout's group, ordered by key as the
  // transport orders it; the fused twins repeat the colors and share resources.
  void splitPlanMakesTheLayoutsGroups() {
    QFETCH(int, ranks);
    QFETCH(int, gpus_per_node);
    QFETCH(int, mp);
    QFETCH(int, esp);
    const Config c = layout_config(ranks, gpus_per_node, mp, esp);
    std::vector<RankLayout> layouts;
    std::vector<std::vector<NcclSplit>> plans;
    for (int r = 0; r < ranks; ++r) {
      layouts.push_back(make_rank_layout(c, r));
      plans.push_back(nccl_split_plan(listed_groups(layouts.back())));
    }
    const GroupKind order[] = {GroupKind::MP,      GroupKind::ESP,      GroupKind::EP,
                               GroupKind::MPFused, GroupKind::ESPFused, GroupKind::EPFused,
                               GroupKind::EPIntra, GroupKind::EPInter};
    for (int r = 0; r < ranks; ++r) {
      const auto& plan = plans[static_cast<std::size_t>(r)];
      QCOMPARE(plan.size(), std::size_t(8));
      for (std::size_t i = 0; i < plan.size(); ++i) {
        QCOMPARE(plan[i].kind, order[i]);
        QCOMPARE(plan[i].share_resources, i >= 3 && i < 6);
        QCOMPARE(plan[i].key, r);
        std::vector<std::pair<int, int>> same_color;  // (key, world rank)
        for (int o = 0; o < ranks; ++o)
          if (plans[static_cast<std::size_t>(o)][i].color == plan[i].color)
            same_color.push_back({plans[static_cast<std::size_t>(o)][i].key, o});
        std::sort(same_color.begin(), same_color.end());
        std::vector<int> members;
        for (const auto& [key, world_rank] : same_color) members.push_back(world_rank);
        QCOMPARE(members, layout_members(layouts[static_cast<std::size_t>(r)], order[i]));
      }
      for (std::size_t i = 0; i < 3; ++i) QCOMPARE(plan[i + 3].color, plan[i].color);
    }
  }

  void splitPlanRefusesMissingGroups() {
    comm::CommGroups g = listed_groups(make_rank_layout(layout_config(4, 2, 2, 2), 1));
    g.ep_fused.reset();
    QVERIFY_THROWS_EXCEPTION(comm::CommError, nccl_split_plan(g));
  }

  void sharedDeviceIsRefusedNamingTheFirstPair() {
    const std::vector<DeviceRecord> records = {{"node-a", "0000:3b:00.0"},
                                               {"node-a", "0000:5e:00.0"},
                                               {"node-a", "0000:3b:00.0"},
                                               {"node-a", "0000:5e:00.0"}};
    const auto refusal = shared_device_refusal(records);
    QVERIFY(refusal.has_value());
    QCOMPARE(QString::fromStdString(*refusal),
             QStringLiteral("ranks 0 and 2 share GPU 0000:3b:00.0 on host node-a: NCCL runs one rank per GPU "
                            "(\"Duplicate GPU detected\"); use backend cuda+mpi to share a GPU"));
    QVERIFY(refusal->find('\n') == std::string::npos);
  }

  void ownDevicesAreAccepted() {
    // The same bus id on two hosts is two GPUs.
    QVERIFY(!shared_device_refusal({{"node-a", "0000:3b:00.0"}, {"node-b", "0000:3b:00.0"}}).has_value());
    QVERIFY(!shared_device_refusal({{"node-a", "0000:3b:00.0"}, {"node-a", "0000:5e:00.0"}}).has_value());
    QVERIFY(!shared_device_refusal({{"node-a", "0000:3b:00.0"}}).has_value());
  }

  void deviceRecordSurvivesItsBytes() {
    const DeviceRecord r{"gpu-node-17.cluster", "0000:CA:00.0"};
    const std::vector<char> bytes = pack_device_record(r);
    QCOMPARE(bytes.size(), kDeviceRecordBytes);
    const DeviceRecord back = unpack_device_record(bytes.data());
    QCOMPARE(back.host, r.host);
    QCOMPARE(back.device_id, r.device_id);
    const DeviceRecord long_name{std::string(300, 'h'), "0000:01:00.0"};
    const DeviceRecord cut = unpack_device_record(pack_device_record(long_name).data());
    QCOMPARE(cut.host, std::string(127, 'h'));  // cut, never spilling into the device id
    QCOMPARE(cut.device_id, long_name.device_id);
  }

  // Repeating shapes allocate nothing after the first iteration; a block the device still uses is not
  // handed out again; the smallest fitting block is chosen; every block is freed once.
  void stagingPoolReusesIdleBlocks() {
    int allocated = 0, freed = 0;
    std::vector<bool> idle;
    {
      StagingPool pool({[&](std::size_t bytes) {
                          ++allocated;
                          idle.push_back(true);
                          return ::operator new(bytes);
                        },
                        [&](void* p) {
                          ++freed;
                          ::operator delete(p);
                        },
                        [&](std::size_t slot) { return bool(idle.at(slot)); }});
      const std::size_t shapes[] = {1000, 70000, 5000, 300};
      for (int iteration = 0; iteration < 5; ++iteration) {
        std::vector<StagingPool::Block> in_flight;
        for (std::size_t bytes : shapes) {
          const StagingPool::Block b = pool.take(bytes);
          QVERIFY(b.bytes >= bytes);
          for (const auto& other : in_flight) QVERIFY(other.data != b.data);
          idle.at(b.slot) = false;  // its op is on the stream
          pool.give_back(b);
          in_flight.push_back(b);
        }
        for (const auto& b : in_flight) idle.at(b.slot) = true;  // the iteration's copies finished
        QCOMPARE(pool.allocations(), std::int64_t(4));
      }
      QCOMPARE(allocated, 4);

      // Smallest fit: 300 bytes take a 4 KiB block, not the 128 KiB one.
      const StagingPool::Block small = pool.take(300);
      QCOMPARE(small.bytes, std::size_t(4096));
      pool.give_back(small);
      // A block not yet idle is skipped even though it fits.
      idle.at(small.slot) = false;
      const StagingPool::Block other = pool.take(300);
      QVERIFY(other.slot != small.slot);
      pool.give_back(other);
      // Larger than any block: a new one, rounded to a power of two.
      const StagingPool::Block big = pool.take(200000);
      QCOMPARE(big.bytes, std::size_t(262144));
      QCOMPARE(pool.allocations(), std::int64_t(5));
      pool.give_back(big);
      QVERIFY_THROWS_EXCEPTION(std::logic_error, pool.give_back(StagingPool::Block{99, nullptr, 0}));
    }
    QCOMPARE(freed, allocated);
    QCOMPARE(StagingPool::capacity_for(0), std::size_t(4096));
    QCOMPARE(StagingPool::capacity_for(4097), std::size_t(8192));
  }

  void sixteenBitReductionsWidenExactly() {
    const float values[] = {0.0f, -1.5f, 3.140625f, 65504.0f, 1e-3f, -2.75e4f};
    std::vector<Bf16> bf;
    std::vector<F16> hf;
    for (float v : values) {
      bf.push_back(Bf16(v));
      hf.push_back(F16(v));
    }
    std::vector<float> wide(bf.size());
    widen_to_f32(bf.data(), wide.data(), bf.size(), comm::DataType::BF16);
    for (std::size_t i = 0; i < bf.size(); ++i) QCOMPARE(wide[i], static_cast<float>(bf[i]));
    std::vector<Bf16> bf_back(bf.size());
    narrow_from_f32(wide.data(), bf_back.data(), bf.size(), comm::DataType::BF16);
    for (std::size_t i = 0; i < bf.size(); ++i) QCOMPARE(bf_back[i].bits, bf[i].bits);

    widen_to_f32(hf.data(), wide.data(), hf.size(), comm::DataType::F16);
    for (std::size_t i = 0; i < hf.size(); ++i) QCOMPARE(wide[i], static_cast<float>(hf[i]));
    // A widened sum rounds once: 1 + 0.75 ulp of fp16 at 1 is 1 + 2^-10 (bits 0x3c01), not 1.
    const float sum = static_cast<float>(F16(1.0f)) + static_cast<float>(F16(0.000732421875f));
    F16 narrowed;
    narrow_from_f32(&sum, &narrowed, 1, comm::DataType::F16);
    QCOMPARE(narrowed.bits, std::uint16_t(0x3c01));
    QVERIFY(reduces_widened(comm::DataType::BF16) && reduces_widened(comm::DataType::F16));
    QVERIFY(!reduces_widened(comm::DataType::F32) && !reduces_widened(comm::DataType::I64));
    QVERIFY_THROWS_EXCEPTION(std::logic_error, widen_to_f32(values, wide.data(), 1, comm::DataType::F32));
  }

  void hostFlagComparisonIsCyclic() {
    using kernels::cuda::host_flag_reached;
    QVERIFY(host_flag_reached(5, 5));
    QVERIFY(host_flag_reached(6, 5));
    QVERIFY(!host_flag_reached(4, 5));
    QVERIFY(host_flag_reached(2, 0xfffffffeu));   // raised past the wrap
    QVERIFY(!host_flag_reached(0xfffffffeu, 2));  // not yet wrapped
  }
};

QTEST_APPLESS_MAIN(TestCudaCommPlan)
#include "test_engine_cuda_comm_plan.moc"
