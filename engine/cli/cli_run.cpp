// `parm run [CONFIG] --ranks N [--json]`: run the layer forward and backward and report per-phase medians.
// One rank runs the single-process reference layer (spec section 8); more ranks need the distributed engine.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/cli/commands.h"
#include "engine/reference_layer.h"
#include "profiler/phase_timer.h"

namespace parm::cli {
namespace {

struct PhaseSpec {
  const char* name;
  const char* direction;
};
constexpr PhaseSpec kPhases[] = {{"gate", "fwd"},      {"order", "fwd"},       {"experts", "fwd"},
                                 {"combine", "fwd"},   {"combine_bwd", "bwd"}, {"experts_bwd", "bwd"},
                                 {"order_bwd", "bwd"}, {"gate_bwd", "bwd"}};

struct PhaseRow {
  std::string name;
  std::string direction;
  double median_ms = 0;
};

struct RunReport {
  std::int64_t groups = 1;
  std::int64_t capacity = 0;
  std::int64_t warmup = 0;
  std::int64_t iterations = 0;
  std::vector<PhaseRow> phases;
  double forward_ms = 0;   // median over iterations of the summed forward phases
  double backward_ms = 0;  // same for the backward phases
  double layer_ms = 0;     // median wall time of a whole forward + backward call
  std::int64_t choices = 0;
  std::int64_t dropped_choices = 0;
  std::int64_t tokens = 0;
  std::int64_t dropped_tokens = 0;
};

template <typename T>
RunReport time_reference_layer(const Config& c, std::int64_t groups) {
  const LayerConfig& l = c.layer;
  const LayerWeights<T> w = make_weights<T>(l, c.run.seed);
  const std::vector<T> x = make_input<T>(l, groups, c.run.seed);
  const std::vector<T> dout = make_output_grad<T>(l, groups, c.run.seed);

  RunReport rep;
  rep.groups = groups;
  rep.warmup = std::max<std::int64_t>(0, c.run.warmup);
  rep.iterations = std::max<std::int64_t>(1, c.run.iterations);
  profiler::PhaseTimer timer;
  std::vector<double> layer_s;
  ReferenceResult<T> last;
  for (std::int64_t i = 0; i < rep.warmup + rep.iterations; ++i) {
    const bool measured = i >= rep.warmup;  // warm-up iterations are run untimed
    if (measured) timer.begin_iteration();
    const auto start = profiler::Clock::now();
    last = run_reference_layer<T>(l, groups, w, x, dout, measured ? &timer : nullptr);
    if (measured) layer_s.push_back(std::chrono::duration<double>(profiler::Clock::now() - start).count());
  }

  // Every phase records once per iteration, so sample i of each phase belongs to iteration i.
  std::vector<double> fwd_s(layer_s.size(), 0.0), bwd_s(layer_s.size(), 0.0);
  for (const PhaseSpec& spec : kPhases) {
    rep.phases.push_back({spec.name, spec.direction, 1e3 * timer.median_seconds(spec.name)});
    for (const auto& p : timer.phases()) {
      if (p.name != spec.name) continue;
      auto& sums = std::string(spec.direction) == "fwd" ? fwd_s : bwd_s;
      for (std::size_t it = 0; it < p.seconds.size() && it < sums.size(); ++it) sums[it] += p.seconds[it];
    }
  }
  rep.forward_ms = 1e3 * profiler::median(fwd_s);
  rep.backward_ms = 1e3 * profiler::median(bwd_s);
  rep.layer_ms = 1e3 * profiler::median(layer_s);
  rep.capacity = last.capacity;
  for (const auto& r : last.routing) {
    rep.choices += r.tokens * r.top_k;
    rep.dropped_choices += kernels::cpu::dropped_choices(r);
    rep.tokens += r.tokens;
    rep.dropped_tokens += kernels::cpu::dropped_tokens(r);
  }
  return rep;
}

double share(double part, double whole) {
  return whole > 0 ? part / whole : 0.0;
}

void print_text(const Config& c, const RunReport& r) {
  const LayerConfig& l = c.layer;
  std::printf("parm run: config %s, 1 rank, reference engine on cpu (%s)\n", c.name.c_str(),
              std::string(to_string(l.dtype)).c_str());
  std::printf("layer: S=%lld M=%lld H=%lld E=%lld k=%lld f=%g %s%s, %s; groups %lld, capacity %lld\n",
              (long long)l.tokens(), (long long)l.hidden, (long long)l.ffn_hidden, (long long)l.num_experts,
              (long long)l.top_k, l.capacity_factor, std::string(to_string(l.activation)).c_str(),
              l.bias ? "+bias" : "", l.drop_tokens ? "drop tokens" : "no drop (capacity = largest load)",
              (long long)r.groups, (long long)r.capacity);
  std::printf("%lld warm-up + %lld measured iterations, medians\n\n", (long long)r.warmup,
              (long long)r.iterations);
  std::printf("%-12s %-4s %12s %8s\n", "phase", "dir", "median ms", "share");
  for (const PhaseRow& p : r.phases)
    std::printf("%-12s %-4s %12.4f %7.1f%%\n", p.name.c_str(), p.direction.c_str(), p.median_ms,
                100.0 * share(p.median_ms, r.layer_ms));
  std::printf("%-12s %-4s %12.4f %7.1f%%\n", "forward", "fwd", r.forward_ms,
              100.0 * share(r.forward_ms, r.layer_ms));
  std::printf("%-12s %-4s %12.4f %7.1f%%\n", "backward", "bwd", r.backward_ms,
              100.0 * share(r.backward_ms, r.layer_ms));
  // What the phases do not cover: allocating and zeroing buffers, freeing the previous result.
  const double untimed_ms = std::max(0.0, r.layer_ms - r.forward_ms - r.backward_ms);
  std::printf("%-12s %-4s %12.4f %7.1f%%  (buffer setup and teardown)\n", "untimed", "", untimed_ms,
              100.0 * share(untimed_ms, r.layer_ms));
  std::printf("%-12s %-4s %12.4f %7.1f%%  (wall time of one forward + backward call)\n", "layer", "",
              r.layer_ms, 100.0);
  std::printf("\ndropped: %lld of %lld choices (%.2f%%); %lld of %lld tokens lost every choice\n",
              (long long)r.dropped_choices, (long long)r.choices,
              100.0 * share(double(r.dropped_choices), double(r.choices)), (long long)r.dropped_tokens,
              (long long)r.tokens);
}

nlohmann::json to_json(const Config& c, const RunReport& r) {
  nlohmann::json phases = nlohmann::json::array();
  for (const PhaseRow& p : r.phases)
    phases.push_back({{"name", p.name},
                      {"direction", p.direction},
                      {"median_ms", p.median_ms},
                      {"share", share(p.median_ms, r.layer_ms)}});
  return {{"config", c.name},
          {"ranks", 1},
          {"engine", "reference"},
          {"backend", "cpu"},
          {"dtype", to_string(c.layer.dtype)},
          {"groups", r.groups},
          {"capacity", r.capacity},
          {"warmup", r.warmup},
          {"iterations", r.iterations},
          {"phases", phases},
          {"forward_ms", r.forward_ms},
          {"backward_ms", r.backward_ms},
          {"layer_ms", r.layer_ms},
          {"untimed_ms", std::max(0.0, r.layer_ms - r.forward_ms - r.backward_ms)},
          {"choices", r.choices},
          {"dropped_choices", r.dropped_choices},
          {"tokens", r.tokens},
          {"dropped_tokens", r.dropped_tokens}};
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("run", "Run the MoE layer forward and backward; print per-phase median times");
  auto path = std::make_shared<std::string>();
  auto ranks = std::make_shared<std::int64_t>(1);
  auto json = std::make_shared<bool>(false);
  cmd->add_option("config", *path,
                  "configuration JSON file or embedded preset name (default: embedded default)");
  cmd->add_option("--ranks", *ranks, "number of ranks (1: single-process reference layer)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->callback([path, ranks, json] {
    const Config c = load_config_or_exit(*path);
    if (*ranks > 1) {
      std::cerr << "parm run: --ranks " << *ranks << " > 1 needs the distributed engine (not built yet)\n";
      throw CLI::RuntimeError(2);
    }
    // One rank holds one MP group's S tokens.
    RunReport report;
    switch (c.layer.dtype) {
      case DType::Fp32:
        report = time_reference_layer<float>(c, 1);
        break;
      case DType::Fp64:
        report = time_reference_layer<double>(c, 1);
        break;
      default:
        std::cerr << "parm run: dtype " << to_string(c.layer.dtype)
                  << " is not supported by the cpu reference\n";
        throw CLI::RuntimeError(2);
    }
    if (*json)
      std::cout << to_json(c, report).dump(2) << '\n';
    else
      print_text(c, report);
  });
}

}  // namespace parm::cli
