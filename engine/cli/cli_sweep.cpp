// `parm sweep --grid G --calibration C [--out F]`: every schedule predicted over a grid of layer
// configurations. Streams: configurations are made one at a time from their index (engine/grid_file.h), each
// CSV row is written as soon as it is computed, and the summary keeps a bounded sample, so memory does not
// grow with the grid. Progress goes to stderr about once a second.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "engine/cli/arg_rules.h"
#include "engine/cli/commands.h"
#include "engine/cli/db_option.h"
#include "engine/cli/model_support.h"
#include "engine/core/config_issue.h"
#include "engine/core/validation.h"
#include "engine/schedules/schedule_registry.h"

namespace parm::cli {
namespace {

const std::string kWho = "parm sweep";

// Min, max and the median of the chosen schedule's speedup in constant memory: exact up to kSample
// predictions, beyond that the median of a uniform reservoir sample (fixed seed: reruns print the same).
class SpeedupSummary {
 public:
  static constexpr std::size_t kSample = 1 << 16;

  void add(double x) {
    ++count_;
    min_ = count_ == 1 ? x : std::min(min_, x);
    max_ = count_ == 1 ? x : std::max(max_, x);
    if (sample_.size() < kSample) {
      sample_.push_back(x);
      return;
    }
    std::uniform_int_distribution<std::uint64_t> pick(0, count_ - 1);
    if (const std::uint64_t j = pick(rng_); j < kSample) sample_[j] = x;
  }
  std::uint64_t count() const { return count_; }
  double min() const { return count_ ? min_ : 0; }
  double max() const { return count_ ? max_ : 0; }
  bool median_estimated() const { return count_ > kSample; }
  double median() const {
    if (sample_.empty()) return 0;
    std::vector<double> v = sample_;
    const std::size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + mid, v.end());
    const double hi = v[mid];
    if (v.size() % 2) return hi;
    return (*std::max_element(v.begin(), v.begin() + mid) + hi) / 2;
  }

 private:
  std::uint64_t count_ = 0;
  double min_ = 0, max_ = 0;
  std::vector<double> sample_;
  std::mt19937_64 rng_{20261201};
};

struct SweepArgs {
  std::string grid, calibration, out, db;
  std::int64_t limit = 0;
  bool json = false, force = false, quiet = false;
  SelectionSpace space;
};

class Progress {
 public:
  Progress(std::uint64_t total, bool quiet) : total_(total), quiet_(quiet) {}
  void tick(std::uint64_t done) {
    if (quiet_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::seconds(1) && done != total_) return;
    if (done == total_ && !shown_) return;  // a sweep that finished within a second needs no progress line
    last_ = now;
    shown_ = true;
    std::fprintf(stderr, "%s: %llu/%llu configurations (%.0f%%)\n", kWho.c_str(), (unsigned long long)done,
                 (unsigned long long)total_, 100.0 * double(done) / double(total_));
  }

 private:
  std::uint64_t total_;
  bool quiet_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

void write_header(std::ostream& csv, const std::vector<ScheduleKind>& candidates) {
  csv << "index,batch,seq_len,hidden,ffn_hidden,num_experts,top_k,capacity_factor";
  for (ScheduleKind k : candidates) csv << ',' << to_string(k) << "_ms";
  csv << ",chosen,speedup_vs_B_DS,parm_best,speedup_vs_parm_best\n";
}

void write_row(std::ostream& csv, std::uint64_t index, const Config& c, const Recommendation& p) {
  csv << index << ',' << c.layer.batch << ',' << c.layer.seq_len << ',' << c.layer.hidden << ','
      << c.layer.ffn_hidden << ',' << c.layer.num_experts << ',' << c.layer.top_k << ','
      << c.layer.capacity_factor;
  for (const auto& t : p.timelines) csv << ',' << t.layer_ms;
  csv << ',' << to_string(p.chosen) << ',' << p.speedup(p.chosen) << ',' << to_string(p.parm_best) << ','
      << p.speedup_vs_parm(p.chosen) << '\n';
}

void run_sweep(const SweepArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const Grid grid = load_grid_or_exit(a.grid);
  std::uint64_t count = 0;
  const std::uint64_t picks = grid_pick_count(grid, a.grid, a.limit, kWho, count);
  const Calibration calib = load_calibration_or_exit(a.calibration, a.db, kWho);
  check_layout_or_exit(calib, grid.base, a.force, kWho);

  const SelectionSpace& space = a.space;
  const std::vector<ScheduleKind> candidates = space.candidates(grid.base.parallel);
  std::ofstream out;
  if (!a.out.empty()) {
    out.open(a.out, std::ios::binary | std::ios::trunc);
    if (!out) {
      std::cerr << kWho << ": --out " << a.out << ": cannot write\n";
      throw CLI::RuntimeError(1);
    }
    write_header(out, candidates);
  }
  if (!a.quiet && picks > 1000)
    std::fprintf(stderr, "%s: predicting %llu of %llu configurations of %s\n", kWho.c_str(),
                 (unsigned long long)picks, (unsigned long long)count, a.grid.c_str());
  SpeedupSummary speedups, over_parm;
  std::map<std::string, std::uint64_t> chosen;
  for (ScheduleKind k : candidates) chosen[std::string(to_string(k))] = 0;
  std::uint64_t degrees_apart = 0;  // layers whose best forward and backward degrees differ
  std::uint64_t hierarchical = 0;   // layers whose chosen option runs a 2DH AlltoAll
  std::uint64_t invalid = 0;
  std::string first_invalid;
  Progress progress(picks, a.quiet || a.json);
  for (std::uint64_t i = 0; i < picks; ++i) {
    const std::uint64_t index = evenly_spaced(i, picks, count);
    const Config c = grid_configuration(grid, index);
    if (const ConfigIssues issues = validate(c); issues.has_errors()) {
      if (invalid++ == 0) first_invalid = "#" + std::to_string(index) + ": " + issues.errors().front().line();
    } else {
      const Recommendation p = predict_or_exit(c, calib, kWho, space);
      speedups.add(p.speedup(p.chosen));
      over_parm.add(p.speedup_vs_parm(p.chosen));
      if (p.best_degree(Direction::Forward) != p.best_degree(Direction::Backward)) ++degrees_apart;
      if (spec_of(p.chosen).alltoall == AlltoAllAlgorithm::Hierarchical) ++hierarchical;
      ++chosen[std::string(to_string(p.chosen))];
      if (out.is_open()) write_row(out, index, c, p);
    }
    if ((i & 255) == 255 || i + 1 == picks) {
      if (out.is_open()) out.flush();
      progress.tick(i + 1);
    }
    if (out.is_open() && !out) {
      std::cerr << kWho << ": --out " << a.out << ": write failed\n";
      throw CLI::RuntimeError(1);
    }
  }
  if (speedups.count() == 0) {
    if (out.is_open()) {
      out.close();
      std::error_code ec;
      std::filesystem::remove(a.out, ec);  // a header alone would look like a result
    }
    std::cerr << kWho << ": " << a.grid << ": every one of the " << picks
              << " configurations is invalid (first: " << first_invalid << ")\n";
    throw CLI::RuntimeError(2);
  }
  if (invalid > 0)
    std::cerr << kWho << ": " << invalid << " of " << picks
              << " configurations are invalid and were skipped (first: " << first_invalid << ")\n";
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.json) {
    const nlohmann::json summary{{"grid", grid.name},
                                 {"calibration", calib.id},
                                 {"grid_configurations", count},
                                 {"configurations", picks},
                                 {"predicted", speedups.count()},
                                 {"invalid", invalid},
                                 {"speedup_vs_B_DS",
                                  {{"min", speedups.min()},
                                   {"median", speedups.median()},
                                   {"median_estimated", speedups.median_estimated()},
                                   {"max", speedups.max()}}},
                                 {"chosen", chosen},
                                 {"speedup_vs_parm_best",
                                  {{"min", over_parm.min()},
                                   {"median", over_parm.median()},
                                   {"median_estimated", over_parm.median_estimated()},
                                   {"max", over_parm.max()}}},
                                 {"degrees", space.degrees},
                                 {"hierarchical_chosen", hierarchical},
                                 {"degrees_apart", degrees_apart},
                                 {"elapsed_s", elapsed}};
    std::cout << summary.dump(2) << '\n';
    return;
  }
  std::printf("grid %s: %llu configurations x %zu schedules predicted (%llu invalid skipped)\n",
              grid.name.c_str(), (unsigned long long)picks, candidates.size(), (unsigned long long)invalid);
  if (picks < count)
    std::printf("(--limit: %llu evenly spaced of %llu)\n", (unsigned long long)picks,
                (unsigned long long)count);
  std::printf("speedup of the chosen schedule vs B_DS: min %.3fx  median %.3fx%s  max %.3fx\n",
              speedups.min(), speedups.median(), speedups.median_estimated() ? " (from a sample)" : "",
              speedups.max());
  std::printf(
      "speedup of the chosen schedule vs Parm's best (S1/S2/S1F/S2F, r = 1): min %.3fx  median %.3fx  "
      "max %.3fx\n",
      over_parm.min(), over_parm.median(), over_parm.max());
  std::printf("chosen:");
  for (ScheduleKind k : candidates)
    if (const std::uint64_t n = chosen[std::string(to_string(k))]; n > 0 || spec_of(k).base.empty())
      std::printf(" %s %llu", std::string(to_string(k)).c_str(), (unsigned long long)n);
  if (space.widened())
    std::printf(
        "\nlayers whose best forward and backward degrees differ: %llu; with a hierarchical (2DH) "
        "AlltoAll: %llu",
        (unsigned long long)degrees_apart, (unsigned long long)hierarchical);
  std::printf("\nelapsed %.3f s\n", elapsed);
}

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("sweep", "Predict every schedule over a grid of layer configurations");
  auto a = std::make_shared<SweepArgs>();
  cmd->add_option("--grid", a->grid, "grid JSON file (base configuration + axes)")->required();
  add_calibration_option(cmd, a->calibration);
  cmd->add_option("--out", a->out, "write one CSV row per configuration, as each is predicted")
      ->check(not_a_database_check("sweep", "--out"));
  cmd->add_option("--db", a->db, "project database holding the calibration run of --calibration ID")
      ->check(db_path_check("sweep"));
  cmd->add_option("--limit", a->limit,
                  "predict K evenly spaced configurations (needed above " +
                      std::to_string(kMaxGridWithoutLimit) + "; K >= the grid's size takes them all)")
      ->check(integer_in(1, std::numeric_limits<std::int64_t>::max()));
  cmd->add_flag("--json", a->json, "machine-readable summary (no progress lines)");
  cmd->add_flag("--quiet", a->quiet, "no progress lines on stderr");
  cmd->add_flag("--force", a->force, "sweep even when the calibration's layout differs");
  add_selection_options(cmd, a->space);
  cmd->callback([a] { run_sweep(*a); });
}

}  // namespace parm::cli
