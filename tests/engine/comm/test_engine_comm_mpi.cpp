// The Open MPI communicator (engine/comm/comm_mpi.h) on 2 and 4 ranks: every collective on the world and on
// split groups, groups from a RankLayout, two groups driven from two threads, and the bounded wait.
// Data is value = f(rank, index), so every rank can compute what it must receive. Each test enters all of its
// collectives on every rank first and asserts afterwards, so one rank's failure cannot strand the others.
#include <QtTest>
#include <chrono>
#include <climits>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "engine/comm/comm_mpi.h"
#include "engine/comm/liveness_mpi.h"
#include "engine/core/config.h"
#include "engine/core/rank_layout.h"
#include "tests/engine/mpi_test_main.h"

using namespace parm;
using namespace parm::comm;
using parm::test::world_rank;
using parm::test::world_size;
using namespace std::chrono_literals;

namespace {

constexpr auto kTimeout = 20'000ms;
const std::size_t kCounts[] = {0, 7, 1001};  // 7 and 1001 elements: not multiples of 16 bytes

template <class T>
DataType data_type();
template <>
DataType data_type<float>() {
  return DataType::F32;
}
template <>
DataType data_type<double>() {
  return DataType::F64;
}

// Exactly representable in float for the sizes used here, so sums compare exactly.
double value(int from, int to, std::size_t i) {
  return from * 1000.0 + to * 100.0 + static_cast<double>(i) * 0.5;
}

std::unique_ptr<Communicator> dup_world(const std::string& name,
                                        std::chrono::milliseconds timeout = kTimeout) {
  MPI_Comm c = MPI_COMM_NULL;
  MPI_Comm_dup(MPI_COMM_WORLD, &c);
  return wrap_mpi_comm(c, name, timeout, true);
}

std::unique_ptr<Communicator> split_world(int color, int key, const std::string& name,
                                          std::chrono::milliseconds timeout = kTimeout) {
  MPI_Comm c = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, color, key, &c);
  return wrap_mpi_comm(c, name, timeout, true);
}

// Collects mismatches instead of asserting on the spot (see the file comment).
struct Mismatches {
  std::vector<std::string> items;
  void expect(bool ok, const std::string& what) {
    if (!ok && items.size() < 20) items.push_back(what);
  }
  // A CommError (e.g. a timed-out peer) becomes a readable failure instead of QtTest's bare "unhandled
  // exception".
  template <class F>
  void run(F body) {
    try {
      body();
    } catch (const std::exception& e) {
      items.push_back(std::string("exception: ") + e.what());
    }
  }
  std::string text() const {
    std::string s;
    for (const auto& i : items) s += i + "; ";
    return s;
  }
};

template <class T>
void check_collectives(Communicator& c, Mismatches& m) {
  const int n = c.size();
  const int me = c.rank();
  const std::string tag = c.name() + "/" + (sizeof(T) == 4 ? "f32" : "f64");
  for (std::size_t count : kCounts) {
    const std::string where = tag + " count " + std::to_string(count);
    const auto un = static_cast<std::size_t>(n);
    // AlltoAll: block p of my send goes to peer p.
    {
      std::vector<T> send(un * count), recv(un * count, T(-1));
      for (int p = 0; p < n; ++p)
        for (std::size_t i = 0; i < count; ++i)
          send[static_cast<std::size_t>(p) * count + i] = T(value(me, p, i));
      c.all_to_all(send.data(), recv.data(), count * sizeof(T));
      for (int p = 0; p < n; ++p)
        for (std::size_t i = 0; i < count; ++i)
          m.expect(recv[static_cast<std::size_t>(p) * count + i] == T(value(p, me, i)),
                   "AlltoAll " + where + " from " + std::to_string(p) + " at " + std::to_string(i));
    }
    // AllGather: rank order.
    {
      std::vector<T> send(count), recv(un * count, T(-1));
      for (std::size_t i = 0; i < count; ++i) send[i] = T(value(me, 0, i));
      c.all_gather(send.data(), recv.data(), count * sizeof(T));
      for (int p = 0; p < n; ++p)
        for (std::size_t i = 0; i < count; ++i)
          m.expect(recv[static_cast<std::size_t>(p) * count + i] == T(value(p, 0, i)),
                   "AllGather " + where + " block " + std::to_string(p) + " at " + std::to_string(i));
    }
    // ReduceScatter: I get the sum over ranks r of their block `me`, value(r, me, i).
    {
      std::vector<T> send(un * count), recv(count, T(-1));
      for (int p = 0; p < n; ++p)
        for (std::size_t i = 0; i < count; ++i)
          send[static_cast<std::size_t>(p) * count + i] = T(value(me, p, i));
      c.reduce_scatter(send.data(), recv.data(), count, data_type<T>());
      for (std::size_t i = 0; i < count; ++i) {
        double want = 0;
        for (int r = 0; r < n; ++r) want += value(r, me, i);
        m.expect(recv[i] == T(want), "ReduceScatter " + where + " at " + std::to_string(i));
      }
    }
    // AllReduce sum and max, in place.
    {
      std::vector<T> sum(count), max(count);
      for (std::size_t i = 0; i < count; ++i) sum[i] = max[i] = T(value(me, 1, i));
      c.all_reduce(sum.data(), count, data_type<T>(), ReduceOp::Sum);
      c.all_reduce(max.data(), count, data_type<T>(), ReduceOp::Max);
      for (std::size_t i = 0; i < count; ++i) {
        double want = 0;
        for (int r = 0; r < n; ++r) want += value(r, 1, i);
        m.expect(sum[i] == T(want), "AllReduce(sum) " + where + " at " + std::to_string(i));
        m.expect(max[i] == T(value(n - 1, 1, i)), "AllReduce(max) " + where + " at " + std::to_string(i));
      }
    }
    // SendRecv ring: to the next rank, from the previous one (a local copy when the group has one rank).
    {
      const int next = (me + 1) % n;
      const int prev = (me + n - 1) % n;
      std::vector<T> send(count), recv(count, T(-1));
      for (std::size_t i = 0; i < count; ++i) send[i] = T(value(me, next, i));
      c.send_recv(send.data(), count * sizeof(T), next, recv.data(), count * sizeof(T), prev);
      for (std::size_t i = 0; i < count; ++i)
        m.expect(recv[i] == T(value(prev, me, i)), "SendRecv " + where + " at " + std::to_string(i));
    }
  }
}

// Uneven AlltoAll: rank r sends (r + 2p) % 5 values to peer p (zero counts included), so every pair of
// ranks exchanges a different amount.
void check_all_to_all_v(Communicator& c, Mismatches& m) {
  const int n = c.size(), me = c.rank();
  auto count = [](int from, int to) { return static_cast<std::size_t>((from + 2 * to) % 5); };
  std::vector<std::size_t> send_bytes(static_cast<std::size_t>(n)), recv_bytes(static_cast<std::size_t>(n));
  std::vector<double> send, recv;
  for (int p = 0; p < n; ++p) {
    send_bytes[std::size_t(p)] = count(me, p) * sizeof(double);
    recv_bytes[std::size_t(p)] = count(p, me) * sizeof(double);
    for (std::size_t i = 0; i < count(me, p); ++i) send.push_back(value(me, p, i));
  }
  std::size_t total = 0;
  for (int p = 0; p < n; ++p) total += count(p, me);
  recv.assign(total, -1.0);
  c.all_to_all_v(send.data(), send_bytes.data(), recv.data(), recv_bytes.data());
  std::size_t at = 0;
  for (int p = 0; p < n; ++p)
    for (std::size_t i = 0; i < count(p, me); ++i, ++at)
      m.expect(recv[at] == value(p, me, i), c.name() + " AlltoAllv from " + std::to_string(p));
}

void check_all(Communicator& c, Mismatches& m) {
  check_collectives<float>(c, m);
  check_collectives<double>(c, m);
  check_all_to_all_v(c, m);
  // I64 reductions too (the executor reduces token counts).
  std::vector<std::int64_t> v = {c.rank(), std::int64_t{1} << 40, -c.rank()};
  c.all_reduce(v.data(), v.size(), DataType::I64, ReduceOp::Sum);
  const std::int64_t n = c.size();
  m.expect(v[0] == n * (n - 1) / 2 && v[1] == n << 40 && v[2] == -n * (n - 1) / 2, c.name() + " I64 sum");
}

// A group's world ranks gathered through the group itself.
std::vector<int> members(Communicator& c) {
  const int me = world_rank();
  std::vector<int> out(static_cast<std::size_t>(c.size()), -1);
  c.all_gather(&me, out.data(), sizeof(int));
  return out;
}

Config config_for_world(std::int64_t mp) {
  Config c;
  c.parallel.ranks = world_size();
  c.parallel.gpus_per_node = 2;
  c.parallel.mp = mp;
  c.parallel.esp = mp;
  return c;
}

}  // namespace

class TestCommMpi : public QObject {
  Q_OBJECT
 private slots:
  void sizeOf() {
    QCOMPARE(size_of(DataType::F32), std::size_t(4));
    QCOMPARE(size_of(DataType::F64), std::size_t(8));
    QCOMPARE(size_of(DataType::I64), std::size_t(8));
    QCOMPARE(size_of(DataType::BF16), std::size_t(2));
    QCOMPARE(size_of(DataType::F16), std::size_t(2));
    QCOMPARE(to_string(GroupKind::ESPFused), std::string_view("ESP#fused"));
  }

  void halfPrecisionMovesButDoesNotReduce() {
    // BF16/F16 travel as bytes (AllGather), but MPI has no built-in type to sum them: a clear error.
    auto world = dup_world("world");
    const std::uint16_t mine[2] = {std::uint16_t(0x3f80 + world->rank()), 0x4000};  // bf16 bit patterns
    std::vector<std::uint16_t> all(2 * std::size_t(world->size()));
    world->all_gather(mine, all.data(), sizeof(mine));
    for (int p = 0; p < world->size(); ++p) QCOMPARE(all[2 * std::size_t(p)], std::uint16_t(0x3f80 + p));
    std::uint16_t v[2] = {0x3f80, 0x3f80};
    for (DataType t : {DataType::BF16, DataType::F16}) {
      try {
        world->all_reduce(v, 2, t, ReduceOp::Sum);
        QFAIL("a 16-bit float reduction was accepted");
      } catch (const CommError& e) {
        QVERIFY2(std::string(e.what()).find("not supported") != std::string::npos, e.what());
      }
    }
  }

  void collectivesOnWorld() {
    auto world = dup_world("world");
    QCOMPARE(world->size(), world_size());
    QCOMPARE(world->rank(), world_rank());
    Mismatches m;
    m.run([&] { check_all(*world, m); });
    QVERIFY2(m.items.empty(), m.text().c_str());
  }

  void collectivesOnSplitGroups() {
    // Consecutive pairs ({0,1},{2,3}) and, in reverse key order, the ranks of equal parity ({0,2},{1,3}).
    const int r = world_rank();
    auto pairs = split_world(r / 2, r, "pairs");
    auto parity = split_world(r % 2, -r, "parity");
    Mismatches m;
    m.run([&] {
      check_all(*pairs, m);
      check_all(*parity, m);
    });
    QVERIFY2(m.items.empty(), m.text().c_str());
    QCOMPARE(pairs->size(), std::min(2, world_size()));
    QCOMPARE(pairs->world_rank_of(pairs->rank()), r);
    QCOMPARE(pairs->world_rank_of(0), r / 2 * 2);
    // Reverse keys: group rank 0 is the highest world rank of the parity class.
    const int parity_size = (world_size() - r % 2 + 1) / 2;
    QCOMPARE(parity->size(), parity_size);
    QCOMPARE(parity->world_rank_of(0), r % 2 + 2 * (parity_size - 1));
    QVERIFY_THROWS_EXCEPTION(CommError, pairs->world_rank_of(pairs->size()));
  }

  void barrierWaitsForEveryone() {
    auto world = dup_world("world");
    // Rank r arrives r*60 ms late; nobody may leave before the last one arrived. steady_clock is the host's
    // CLOCK_MONOTONIC, comparable between the local ranks.
    std::this_thread::sleep_for(std::chrono::milliseconds(60 * world->rank()));
    const std::int64_t entered = std::chrono::steady_clock::now().time_since_epoch().count();
    world->barrier();
    const std::int64_t left = std::chrono::steady_clock::now().time_since_epoch().count();
    std::vector<std::int64_t> times(2 * static_cast<std::size_t>(world->size()));
    const std::int64_t mine[2] = {entered, left};
    world->all_gather(mine, times.data(), sizeof(mine));
    std::int64_t last_entry = 0;
    std::int64_t first_exit = INT64_MAX;
    for (int p = 0; p < world->size(); ++p) {
      last_entry = std::max(last_entry, times[2 * static_cast<std::size_t>(p)]);
      first_exit = std::min(first_exit, times[2 * static_cast<std::size_t>(p) + 1]);
    }
    QVERIFY(first_exit >= last_entry);
  }

  void localChecksThrowWithoutCommunicating() {
    auto world = dup_world("world");
    const int me = world->rank();
    // A self step is a memcpy; a self send with a remote receive, a short buffer or a foreign peer is
    // refused.
    const double src[3] = {1.5, 2.5, 3.5};
    double dst[3] = {0, 0, 0};
    world->send_recv(src, sizeof(src), me, dst, sizeof(dst), me);
    QCOMPARE(dst[2], 3.5);
    QVERIFY_THROWS_EXCEPTION(CommError,
                             world->send_recv(src, sizeof(src), me, dst, sizeof(dst), (me + 1) % 2));
    QVERIFY_THROWS_EXCEPTION(CommError, world->send_recv(src, sizeof(src), me, dst, 8, me));
    QVERIFY_THROWS_EXCEPTION(CommError, world->send_recv(src, 8, world->size(), dst, 8, 0));
    // Built-in reductions cannot take more than INT_MAX elements per rank: a clear error, not an overflow.
    try {
      world->reduce_scatter(nullptr, nullptr, static_cast<std::size_t>(INT_MAX) + 1, DataType::F32);
      QFAIL("no CommError for an oversized ReduceScatter");
    } catch (const CommError& e) {
      QVERIFY2(std::string(e.what()).find("ReduceScatter on group world") != std::string::npos, e.what());
    }
  }

  void groupsFromLayout() {
    // mp = 2 at every size; with 4 ranks: MP groups {0,1},{2,3} and EP groups {0,2},{1,3}.
    const Config config = config_for_world(2);
    const RankLayout layout = make_rank_layout(config, world_rank());
    CommGroups g = make_mpi_groups(layout, kTimeout);
    // Gather each group's world ranks through the group itself: proves the split, not just the bookkeeping.
    const std::vector<int> mp = members(*g.mp), mpf = members(*g.mp_fused);
    const std::vector<int> ep = members(*g.ep), epf = members(*g.ep_fused);
    const std::vector<int> world = members(*g.world);
    const std::vector<int> esp = members(*g.esp), espf = members(*g.esp_fused);
    // N_ESP = N_MP: the ESP group is the MP group, in the same order (ESP ops ran on MP before it existed).
    QCOMPARE(esp, layout.mp_ranks);
    QCOMPARE(espf, layout.mp_ranks);
    QCOMPARE(layout.esp_ranks, layout.mp_ranks);
    QCOMPARE(&g.of(GroupKind::ESP), g.esp.get());
    QCOMPARE(&g.of(GroupKind::EPFused), g.ep_fused.get());
    QCOMPARE(g.esp->name(), std::string("ESP"));

    QCOMPARE(g.world->name(), std::string("world"));
    QCOMPARE(g.mp->name(), std::string("MP"));
    QCOMPARE(g.ep->name(), std::string("EP"));
    QCOMPARE(g.mp_fused->name(), std::string("MP#fused"));
    QCOMPARE(g.ep_fused->name(), std::string("EP#fused"));
    QCOMPARE(mp, layout.mp_ranks);
    QCOMPARE(mpf, layout.mp_ranks);
    QCOMPARE(ep, layout.ep_ranks);
    QCOMPARE(epf, layout.ep_ranks);
    QCOMPARE(static_cast<int>(world.size()), world_size());
    QCOMPARE(g.mp->rank(), layout.mp_index);
    QCOMPARE(g.ep->rank(), layout.ep_index);
    for (int i = 0; i < g.mp->size(); ++i) QCOMPARE(g.mp->world_rank_of(i), layout.mp_ranks[std::size_t(i)]);
    for (int i = 0; i < g.ep->size(); ++i) QCOMPARE(g.ep->world_rank_of(i), layout.ep_ranks[std::size_t(i)]);
    if (world_size() == 4) {
      const int r = world_rank();
      QCOMPARE(mp, (std::vector<int>{r / 2 * 2, r / 2 * 2 + 1}));
      QCOMPARE(ep, (std::vector<int>{r % 2, r % 2 + 2}));
      QCOMPARE(g.ep->world_rank_of(1), r % 2 + 2);
    }
  }

  void hierarchicalSubGroups() {
    // N_MP = 1, G = 2: EP is the world; EP-intra the two ranks of a node, EP-inter one rank per node with the
    // same local index (4 ranks: {0,1},{2,3} and {0,2},{1,3}; 2 ranks, one node: the pair and each alone).
    const Config config = config_for_world(1);
    const RankLayout layout = make_rank_layout(config, world_rank());
    CommGroups g = make_mpi_groups(layout, kTimeout);
    const int r = world_rank();
    QCOMPARE(layout.ep_local_size, 2);
    QCOMPARE(members(*g.ep_intra), (std::vector<int>{r / 2 * 2, r / 2 * 2 + 1}));
    QCOMPARE(members(*g.ep_intra), layout.ep_intra_ranks);
    QCOMPARE(members(*g.ep_inter), layout.ep_inter_ranks);
    QCOMPARE(g.ep_intra->rank(), r % 2);
    QCOMPARE(g.ep_inter->rank(), r / 2);
    QCOMPARE(&g.of(GroupKind::EPInter), g.ep_inter.get());
    QCOMPARE(g.ep_intra->name(), std::string("EP-intra"));
    QCOMPARE(to_string(GroupKind::EPInter), std::string_view("EP-inter"));
    if (world_size() == 4) QCOMPARE(members(*g.ep_inter), (std::vector<int>{r % 2, r % 2 + 2}));
    if (world_size() == 2) QCOMPARE(members(*g.ep_inter), (std::vector<int>{r}));
  }

  void espGroupOfOneWithWholeExperts() {
    // N_ESP = 1: experts are whole, so the ESP group is this rank alone while MP keeps its size.
    Config config = config_for_world(2);
    config.parallel.esp = 1;
    const RankLayout layout = make_rank_layout(config, world_rank());
    CommGroups g = make_mpi_groups(layout, kTimeout);
    int me = world_rank(), got = -1;
    g.esp->all_gather(&me, &got, sizeof(int));
    QCOMPARE(g.esp->size(), 1);
    QCOMPARE(got, me);
    QCOMPARE(layout.esp_ranks, std::vector<int>{world_rank()});
    QCOMPARE(g.mp->size(), std::min(2, world_size()));
  }

  void layoutForAnotherWorldIsRefused() {
    // Every rank sees the mismatch before any collective, so all of them throw.
    Config config = config_for_world(2);
    config.parallel.ranks = world_size() * 2;
    QVERIFY_THROWS_EXCEPTION(CommError, make_mpi_groups(make_rank_layout(config, world_rank()), kTimeout));
  }

  void twoGroupsFromTwoThreads() {
    // AllGather on MP from one thread while AlltoAll on EP runs from another, plus a SendRecv ring on
    // MP#fused from a third (so the 2-rank run also has two size-2 groups busy at once).
    const RankLayout layout = make_rank_layout(config_for_world(2), world_rank());
    CommGroups g = make_mpi_groups(layout, kTimeout);
    constexpr int kRounds = 50;
    constexpr std::size_t kCount = 1001;
    Mismatches gather_m, a2a_m, ring_m;
    std::string errors[3];
    auto guarded = [&](int slot, auto body) {
      return std::thread([&errors, slot, body] {
        try {
          body();
        } catch (const std::exception& e) {
          errors[slot] = e.what();
        }
      });
    };
    std::thread gather = guarded(0, [&] {
      Communicator& c = *g.mp;
      const auto n = static_cast<std::size_t>(c.size());
      for (int round = 0; round < kRounds; ++round) {
        std::vector<float> send(kCount), recv(n * kCount, -1.f);
        for (std::size_t i = 0; i < kCount; ++i) send[i] = float(value(c.rank(), round, i));
        c.all_gather(send.data(), recv.data(), kCount * sizeof(float));
        for (std::size_t p = 0; p < n; ++p)
          gather_m.expect(recv[p * kCount + kCount - 1] == float(value(int(p), round, kCount - 1)) &&
                              recv[p * kCount] == float(value(int(p), round, 0)),
                          "AllGather round " + std::to_string(round));
      }
    });
    std::thread a2a = guarded(1, [&] {
      Communicator& c = *g.ep;
      const auto n = static_cast<std::size_t>(c.size());
      for (int round = 0; round < kRounds; ++round) {
        std::vector<double> send(n * kCount), recv(n * kCount, -1.0);
        for (std::size_t p = 0; p < n; ++p)
          for (std::size_t i = 0; i < kCount; ++i) send[p * kCount + i] = value(c.rank(), int(p), i) + round;
        c.all_to_all(send.data(), recv.data(), kCount * sizeof(double));
        for (std::size_t p = 0; p < n; ++p)
          for (std::size_t i = 0; i < kCount; i += 100)
            a2a_m.expect(recv[p * kCount + i] == value(int(p), c.rank(), i) + round,
                         "AlltoAll round " + std::to_string(round));
      }
    });
    std::thread ring = guarded(2, [&] {
      Communicator& c = *g.mp_fused;
      const int n = c.size(), me = c.rank();
      for (int round = 0; round < kRounds; ++round) {
        std::vector<float> send(kCount, float(value(me, round, 3))), recv(kCount, -1.f);
        c.send_recv(send.data(), kCount * sizeof(float), (me + 1) % n, recv.data(), kCount * sizeof(float),
                    (me + n - 1) % n);
        ring_m.expect(recv[kCount / 2] == float(value((me + n - 1) % n, round, 3)),
                      "SendRecv round " + std::to_string(round));
      }
    });
    gather.join();
    a2a.join();
    ring.join();
    for (const auto& e : errors) QVERIFY2(e.empty(), e.c_str());
    QVERIFY2(gather_m.items.empty(), gather_m.text().c_str());
    QVERIFY2(a2a_m.items.empty(), a2a_m.text().c_str());
    QVERIFY2(ring_m.items.empty(), ring_m.text().c_str());
  }

  void boundedWaitNamesOperationAndGroup() {
    // In every pair of ranks, the first calls AllGather and the second stays away: the first must get a
    // CommError after ~300 ms naming the operation and the group, not hang.
    const int r = world_rank();
    // Declared before the communicators so they outlive any request still pending when those are freed.
    std::vector<double> send(7, double(r)), late_recv(14, -1.0);
    auto world = dup_world("world");
    auto pair = split_world(r / 2, r, "pair", 300ms);
    const bool caller = pair->rank() == 0;
    const int peer = r / 2 * 2 + 1;
    std::string message;
    double elapsed_ms = -1;
    if (caller) {
      const auto t0 = std::chrono::steady_clock::now();
      try {
        pair->all_gather(send.data(), late_recv.data(), 7 * sizeof(double));
      } catch (const CommError& e) {
        message = e.what();
      }
      elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
    // Resynchronise: the absent peer now posts its matching call (the caller's abandoned request progresses
    // inside the world barriers), then both run one more AllGather on the pair, which must be correct.
    world->barrier();
    std::vector<double> peer_recv(14, -1.0);
    std::string peer_error;
    if (!caller) {
      try {
        pair->all_gather(send.data(), peer_recv.data(), 7 * sizeof(double));
      } catch (const CommError& e) {
        peer_error = e.what();
      }
    }
    world->barrier();
    std::vector<double> again(14, -1.0);
    std::string again_error;
    const double mine = 100.0 + r;
    std::vector<double> send2(7, mine);
    try {
      pair->all_gather(send2.data(), again.data(), 7 * sizeof(double));
    } catch (const CommError& e) {
      again_error = e.what();
    }
    world->barrier();

    QVERIFY2(again_error.empty(), again_error.c_str());
    QCOMPARE(again[0], 100.0 + r / 2 * 2);
    QCOMPARE(again[13], 100.0 + peer);
    if (caller) {
      QVERIFY2(!message.empty(), "AllGather without its peer did not throw");
      const std::string want = "AllGather on group pair (world ranks " + std::to_string(r) + "," +
                               std::to_string(peer) +
                               ") did not complete within 300 ms: a peer rank died or is stuck";
      QCOMPARE(message, want);
      QVERIFY2(elapsed_ms >= 290 && elapsed_ms < 1500, std::to_string(elapsed_ms).c_str());
    } else {
      // The late call matched the caller's abandoned one: it received the caller's block.
      QVERIFY2(peer_error.empty(), peer_error.c_str());
      QCOMPARE(peer_recv[0], double(r / 2 * 2));
      QCOMPARE(peer_recv[13], double(r));
    }
  }

  // A rank whose wait times out asks the others: a rank that answers is alive, one that does not (here the
  // last rank, busy outside MPI like a stopped process) is named, and is the one a timed-out wait blames.
  void livenessNamesTheSilentRank() {
    const int r = world_rank(), n = world_size();
    const int silent = n - 1;
    auto live = std::make_shared<Liveness>(MPI_COMM_WORLD);
    auto world = wrap_mpi_comm(MPI_COMM_WORLD, "world", 300ms, false, live);
    std::vector<int> found;
    std::string message;
    if (r == 0) {
      found = live->unresponsive(1500ms);
    } else if (r != silent) {
      const auto until = std::chrono::steady_clock::now() + 2500ms;
      while (std::chrono::steady_clock::now() < until) {
        live->serve();
        std::this_thread::sleep_for(1ms);
      }
    } else {
      std::this_thread::sleep_for(2500ms);  // answers nothing while rank 0 asks
    }
    MPI_Barrier(MPI_COMM_WORLD);
    // Every rank but the last enters a barrier the last one skips: rank 0's timeout names it.
    if (r != silent) {
      try {
        world->barrier();
      } catch (const CommError& e) {
        message = e.what();
      }
    } else {
      std::this_thread::sleep_for(3000ms);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (r != silent) {
      try {
        world->barrier();  // the last rank's late barrier matched the abandoned one; this one completes
      } catch (const CommError&) {
      }
    } else {
      world->barrier();
      world->barrier();
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (r == 0) QCOMPARE(found, std::vector<int>{silent});
    if (r != silent) {
      const std::string want = "rank " + std::to_string(silent) + " did not answer within --timeout-ms 300";
      QVERIFY2(message.find(want) != std::string::npos, message.c_str());
      QVERIFY2(message.rfind("Barrier on group world", 0) == 0, message.c_str());
    }
  }
};

PARM_MPI_QTEST_MAIN(TestCommMpi)
#include "test_engine_comm_mpi.moc"
