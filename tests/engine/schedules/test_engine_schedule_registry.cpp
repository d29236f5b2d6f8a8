// The schedule registry and the group table: the seven built-in schedules with the properties spec parm.md
// sections 3-5 give them (capacity rule per layout, fused variants, token split, tie order, volumes of
// section 5 at the TC-1 sizes), names through the registry, and the groups' names, lanes, sizes and members
// (section 1's rank mapping).
#include <QtTest>

#include "engine/core/config_json.h"
#include "engine/core/rank_layout.h"
#include "engine/schedules/group_specs.h"
#include "engine/schedules/schedule_registry.h"
#include "resources/presets.h"

using namespace parm;

namespace {

Config tc1() {
  return *config_from_json_text(*resources::embedded_preset("tc1")).config;
}

std::vector<CollectiveVolume> forward_volumes(const Config& c, ScheduleKind k) {
  std::vector<CollectiveVolume> out;
  for (const auto& v : schedule_volumes(c, derive_sizes(c), k))
    if (v.pass == Pass::Forward) out.push_back(v);
  return out;
}

std::int64_t alltoall_send(const Config& c, ScheduleKind k) {
  for (const auto& v : forward_volumes(c, k))
    if (v.collective == Collective::AlltoAll) return v.elements;
  return -1;
}

}  // namespace

class TestScheduleRegistry : public QObject {
  Q_OBJECT
 private slots:
  void listsTheSevenBuiltInsInSpecOrder() {
    const QStringList expected{"B_DS", "B_DS2", "B0", "S1", "S1F", "S2", "S2F"};
    QStringList names;
    for (const ScheduleSpec* s : schedule_registry())
      names << QString::fromUtf8(s->name.data(), s->name.size());
    QCOMPARE(names, expected);
    for (std::size_t i = 0; i < std::size(kAllSchedules); ++i) {
      QCOMPARE(schedule_registry()[i]->kind, kAllSchedules[i]);
      QCOMPARE(spec_of(kAllSchedules[i]).kind, kAllSchedules[i]);
      QCOMPARE(QString::fromUtf8(to_string(kAllSchedules[i]).data()), expected[static_cast<int>(i)]);
      QCOMPARE(parse_schedule(to_string(kAllSchedules[i])), std::optional(kAllSchedules[i]));
    }
    QCOMPARE(all_schedules(), std::vector<ScheduleKind>(std::begin(kAllSchedules), std::end(kAllSchedules)));
    QCOMPARE(schedule_names(), std::string("B_DS, B_DS2, B0, S1, S1F, S2, S2F"));
  }

  void unknownNamesAndIndices() {
    QVERIFY(find_schedule("S3") == nullptr);
    QVERIFY(!parse_schedule("b_ds"));  // names are case-sensitive, as configs have always spelled them
    QCOMPARE(to_string(ScheduleKind(9999)), std::string_view("?"));
    QVERIFY_THROWS_EXCEPTION(std::out_of_range, spec_of(ScheduleKind(9999)));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, register_schedule(spec_of(ScheduleKind::B_DS)));
    ScheduleSpec unnamed = spec_of(ScheduleKind::S1);
    unnamed.name = "";
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, register_schedule(unnamed));
    ScheduleSpec no_builder = spec_of(ScheduleKind::S1);
    no_builder.name = "S1_NO_BUILDER";
    no_builder.forward = nullptr;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, register_schedule(no_builder));
    QCOMPARE(schedule_registry().size(), std::size(kAllSchedules));  // refused registrations add nothing
  }

  // Spec section 4: C0 = capacity of S tokens, C1 of S/N, C2 = C0 rounded up to a multiple of N. B_DS with
  // whole experts is DeepSpeed's plain case, which splits the capacity (C2).
  void capacityRulesPerLayout() {
    using enum CapacityRule;
    const std::pair<ScheduleKind, PerLayout<CapacityRule>> rules[] = {
        {ScheduleKind::B_DS, {C0, C2}}, {ScheduleKind::B_DS2, C2}, {ScheduleKind::B0, C0},
        {ScheduleKind::S1, C1},         {ScheduleKind::S1F, C1},   {ScheduleKind::S2, C2},
        {ScheduleKind::S2F, C2}};
    for (const auto& [k, rule] : rules) {
      QCOMPARE(spec_of(k).capacity.sharded, rule.sharded);
      QCOMPARE(spec_of(k).capacity.whole_experts, rule.whole_experts);
      QCOMPARE(build_schedule(k, ParallelConfig{8, 4, 4, 4}).capacity, rule.sharded);
      QCOMPARE(build_schedule(k, ParallelConfig{8, 4, 2, 1}).capacity, rule.whole_experts);
    }
  }

  void familiesFusedVariantsAndTokenSplit() {
    for (const ScheduleSpec* s : schedule_registry()) {
      const std::string name(s->name);
      QCOMPARE(s->family, name[0] == 'B' ? ScheduleFamily::Baseline : ScheduleFamily::Parm);
      QCOMPARE(s->fused, name == "S1F" || name == "S2F");
      QCOMPARE(std::string(s->unfused), s->fused ? name.substr(0, 2) : std::string());
      QCOMPARE(s->split_tokens, name.rfind("S1", 0) == 0);  // S1, S1F gate S/N tokens per MP rank
      QVERIFY(!s->reason.sharded.empty() && !s->reason.whole_experts.empty());
    }
    // Only S2F words its reason by layout: SAA with whole experts, the RS>A2A>AG chain otherwise.
    QVERIFY(spec_of(ScheduleKind::S2F).reason.sharded.find("RS>A2A>AG") != std::string_view::npos);
    QVERIFY(spec_of(ScheduleKind::S2F).reason.whole_experts.find("SAA") != std::string_view::npos);
  }

  // Spec section 7: ties go to the unfused schedule, then S1 before S2.
  void tieOrder() {
    std::vector<ScheduleKind> by_rank = all_schedules();
    std::sort(by_rank.begin(), by_rank.end(),
              [](ScheduleKind a, ScheduleKind b) { return spec_of(a).tie_rank < spec_of(b).tie_rank; });
    QStringList order;
    for (ScheduleKind k : by_rank) order << QString::fromUtf8(to_string(k).data());
    QCOMPARE(order, (QStringList{"S1", "S2", "B_DS", "B_DS2", "B0", "S1F", "S2F"}));
  }

  // Spec section 5 at the TC-1 sizes (D0 = 10,067,968, D1 = 2,523,136, D2/N = 2,523,136): the AlltoAll send
  // per schedule; fused variants move the bytes of their unfused schedule; S1/S1F add the dWg AllReduce.
  void volumesFollowSectionFive() {
    const Config c = tc1();
    const DerivedSizes d = derive_sizes(c);
    QCOMPARE(d.D0, std::int64_t(10'067'968));
    QCOMPARE(alltoall_send(c, ScheduleKind::B_DS), d.D0);
    QCOMPARE(alltoall_send(c, ScheduleKind::B_DS2), d.D2 / d.N);
    QCOMPARE(alltoall_send(c, ScheduleKind::B0), d.D0);
    QCOMPARE(alltoall_send(c, ScheduleKind::S1), std::int64_t(2'523'136));
    QCOMPARE(alltoall_send(c, ScheduleKind::S2), std::int64_t(2'523'136));
    for (const ScheduleSpec* s : schedule_registry()) {
      if (!s->fused) continue;
      const auto fused = schedule_volumes(c, d, s->kind);
      const auto plain = schedule_volumes(c, d, find_schedule(s->unfused)->kind);
      QCOMPARE(fused.size(), plain.size());
      for (std::size_t i = 0; i < fused.size(); ++i) QCOMPARE(fused[i].bytes, plain[i].bytes);
    }
    for (ScheduleKind k : all_schedules()) {
      int router_grads = 0;
      for (const auto& v : schedule_volumes(c, d, k)) {
        if (v.pass != Pass::Backward) continue;
        QCOMPARE(v.purpose, std::string("router grad"));
        QCOMPARE(v.elements, c.layer.hidden * c.layer.num_experts);
        ++router_grads;
      }
      QCOMPARE(router_grads, spec_of(k).split_tokens ? 1 : 0);
    }
  }

  // Spec section 1 with P = 8, G = 4, N_MP = N_ESP = 4: rank 5's MP (= ESP) group is {4..7}, its EP group
  // {1, 5}; with N_ESP = 1 its ESP group is itself.
  void groupTable() {
    QCOMPARE(group_specs().size(), std::size_t(4));
    const std::pair<Group, const char*> names[] = {
        {Group::None, "-"}, {Group::MP, "MP"}, {Group::ESP, "ESP"}, {Group::EP, "EP"}};
    for (const auto& [g, name] : names) QCOMPARE(std::string(to_string(g)), std::string(name));
    QCOMPARE(lane_of(Group::EP), Lane::Inter);
    QCOMPARE(lane_of(Group::MP), Lane::Intra);
    QCOMPARE(lane_of(Group::ESP), Lane::Intra);
    QCOMPARE(lane_of(ops::collective(OpKind::AllGather, Group::ESP, Dim::Peer, "x")), Lane::Intra);
    QCOMPARE(lane_of(ops::split(Group::MP, Dim::Tokens, "x")), Lane::Compute);  // no communication
    QCOMPARE(lane_of(ops::collective(OpKind::Copy, Group::MP, Dim::None, "x")), Lane::Compute);
    QCOMPARE(lane_of(ops::pipeline({{OpKind::AlltoAll, Group::EP, Dim::None}}, "x")), Lane::Inter);

    Config c;
    c.parallel = {8, 4, 4, 4};
    c.layer.num_experts = 8;
    const DerivedSizes d = derive_sizes(c);
    QCOMPARE(group_size(Group::MP, d), std::int64_t(4));
    QCOMPARE(group_size(Group::ESP, d), std::int64_t(4));
    QCOMPARE(group_size(Group::EP, d), std::int64_t(2));
    QCOMPARE(group_size(Group::None, d), std::int64_t(1));
    const RankLayout r5 = make_rank_layout(c, 5);
    QCOMPARE(group_ranks(Group::MP, r5), (std::vector<int>{4, 5, 6, 7}));
    QCOMPARE(group_ranks(Group::ESP, r5), (std::vector<int>{4, 5, 6, 7}));
    QCOMPARE(group_ranks(Group::EP, r5), (std::vector<int>{1, 5}));
    QCOMPARE(group_ranks(Group::None, r5), (std::vector<int>{5}));
    c.parallel.esp = 1;
    QCOMPARE(group_size(Group::ESP, derive_sizes(c)), std::int64_t(1));
    QCOMPARE(group_ranks(Group::ESP, make_rank_layout(c, 5)), (std::vector<int>{5}));
  }
};

QTEST_APPLESS_MAIN(TestScheduleRegistry)
#include "test_engine_schedule_registry.moc"
