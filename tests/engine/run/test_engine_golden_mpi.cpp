// The executor's results are bit-identical across refactorings: every schedule runs forward and backward on
// the embedded default preset and on small layouts of every (N_MP, N_ESP) shape, and a 64-bit FNV-1a hash of
// each result (output, input gradient, every parameter gradient, the byte counters, the capacity) is compared
// with the golden file recorded by the engine before the backend interface existed
// (tests/engine/run/golden/executor_np<P>.txt). On a mismatch rank 0 writes `<golden>.actual` beside it and
// the failing rows name the schedule and the tensor. PARM_GOLDEN_WRITE=1 rewrites the golden file instead.
#include <QtTest>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "engine/comm/comm_mpi.h"
#include "engine/core/config_json.h"
#include "engine/run/executor.h"
#include "engine/run/tensor_init.h"
#include "resources/presets.h"
#include "tests/engine/mpi_test_main.h"
#include "tests/engine/run/mp_group_tensor.h"
#include "tests/engine/run/tiny_layer.h"

using namespace parm;
using parm::test::world_rank;
using parm::test::world_size;

namespace {

constexpr std::chrono::milliseconds kTimeout{30'000};

std::uint64_t fnv1a(const void* data, std::size_t bytes, std::uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

template <typename T>
std::string hash_of(const std::vector<T>& v) {
  std::ostringstream s;
  s << std::hex << fnv1a(v.data(), v.size() * sizeof(T)) << std::dec << "/" << v.size();
  return s.str();
}

std::string counters_text(const std::vector<CommCounter>& counters) {
  std::ostringstream s;
  for (const auto& c : counters)
    s << c.pass << ' ' << c.op << ' ' << c.group << ' ' << c.purpose << ' ' << c.fused << ' ' << c.bytes
      << ' ' << c.calls << ';';
  return s.str();
}

Config tiny(int mp, int esp) {
  return parm::test::tiny_layer(mp, esp, 7);
}

// The configurations of this world size, each with a name for its golden rows.
std::vector<std::pair<std::string, Config>> configurations() {
  std::vector<std::pair<std::string, Config>> out;
  if (world_size() == 4) {
    const auto text = resources::embedded_preset("default");
    ConfigLoad load = config_from_json_text(*text);
    out.emplace_back("default", *load.config);
    Config nodrop = *load.config;
    nodrop.layer.drop_tokens = false;
    out.emplace_back("default-nodrop", nodrop);
  }
  for (auto [mp, esp] : parm::test::tiny_layouts()) {
    for (auto act : {Activation::Gelu, Activation::Swiglu}) {
      for (bool drop : {true, false}) {
        Config c = tiny(mp, esp);
        c.layer.activation = act;
        c.layer.drop_tokens = drop;
        std::ostringstream name;
        name << "mp" << mp << "-esp" << esp << "-" << to_string(act) << (drop ? "-drop" : "-nodrop");
        out.emplace_back(name.str(), c);
      }
    }
  }
  return out;
}

// One row per (configuration, dtype, schedule, rank): the hashes of everything the run produced.
template <typename T>
std::string run_rows(const std::string& name, const Config& c, ScheduleKind kind) {
  const RankLayout layout = make_rank_layout(c, world_rank());
  comm::CommGroups groups = comm::make_mpi_groups(layout, kTimeout);
  LayerExecutor<T> exec(c, layout, groups, build_schedule(kind, c.parallel));
  exec.forward(parm::test::mp_group_tensor<T>(c, layout, TensorId::Input));
  exec.backward(parm::test::mp_group_tensor<T>(c, layout, TensorId::OutputGrad));
  const LocalGradients<T>& g = exec.gradients();
  std::ostringstream row;
  row << name << ' ' << (sizeof(T) == 8 ? "fp64" : "fp32") << ' ' << to_string(kind) << " rank" << layout.rank
      << " capacity=" << exec.routing().capacity << " out=" << hash_of(exec.output())
      << " dx=" << hash_of(exec.input_grad()) << " dwg=" << hash_of(g.dwg) << " dw1=" << hash_of(g.dw1)
      << " db1=" << hash_of(g.db1) << " dw3=" << hash_of(g.dw3) << " db3=" << hash_of(g.db3)
      << " dw2=" << hash_of(g.dw2) << " db2=" << hash_of(g.db2) << " counters=" << std::hex
      << fnv1a(counters_text(exec.counters()).data(), counters_text(exec.counters()).size()) << std::dec
      << '\n';
  return row.str();
}

// Rank 0 receives every rank's rows in rank order.
std::string gather_rows(const std::string& mine) {
  const int n = world_size();
  int length = static_cast<int>(mine.size());
  std::vector<int> lengths(static_cast<std::size_t>(n));
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::vector<int> offsets(static_cast<std::size_t>(n), 0);
  int total = 0;
  for (int r = 0; r < n; ++r) {
    offsets[static_cast<std::size_t>(r)] = total;
    total += lengths[static_cast<std::size_t>(r)];
  }
  std::string all(static_cast<std::size_t>(world_rank() == 0 ? total : 0), '\0');
  MPI_Gatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, 0,
              MPI_COMM_WORLD);
  return all;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') out.push_back(line);
  return out;
}

}  // namespace

class TestGoldenMpi : public QObject {
  Q_OBJECT
 private slots:
  void resultsMatchGolden() {
    std::string mine;
    for (const auto& [name, c] : configurations()) {
      for (ScheduleKind kind : kAllSchedules) {
        mine += run_rows<double>(name, c, kind);
        mine += run_rows<float>(name, c, kind);
      }
    }
    const std::string all = gather_rows(mine);
    if (world_rank() != 0) return;
    const std::string golden = std::string(PARM_SOURCE_DIR) + "/tests/engine/run/golden/executor_np" +
                               std::to_string(world_size()) + ".txt";
    const char* write = std::getenv("PARM_GOLDEN_WRITE");
    if (write && std::string(write) == "1") {
      std::ofstream(golden) << "# written by test_engine_golden_mpi (PARM_GOLDEN_WRITE=1)\n" << all;
      QSKIP("golden file written");
    }
    std::ifstream in(golden);
    QVERIFY2(in, qPrintable(QString::fromStdString("missing golden file " + golden)));
    std::stringstream expected;
    expected << in.rdbuf();
    const auto want = lines_of(expected.str()), got = lines_of(all);
    if (want != got) std::ofstream(golden + ".actual") << all;
    QCOMPARE(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i)
      QVERIFY2(got[i] == want[i],
               qPrintable(QString::fromStdString("expected " + want[i] + "\n   got " + got[i])));
  }
};

PARM_MPI_QTEST_MAIN(TestGoldenMpi)
#include "test_engine_golden_mpi.moc"
