#include "engine/cli/model_support.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "engine/cli/arg_rules.h"
#include "engine/model/calibration_source.h"

namespace parm::cli {
namespace {

[[noreturn]] void refuse(const std::string& who, const std::string& line) {
  std::cerr << who << ": " << line << '\n';
  throw CLI::RuntimeError(2);
}

}  // namespace

Calibration load_calibration_or_exit(const std::string& ref, const std::string& db_path,
                                     const std::string& who) {
  try {
    return load_calibration_ref(ref, db_path);
  } catch (const std::exception& e) {
    refuse(who, e.what());
  }
}

void check_layout_or_exit(const Calibration& calib, const Config& config, bool force,
                          const std::string& who) {
  if (auto why = calibration_mismatch(calib, config)) {
    if (!force) refuse(who, *why + " (use --force to predict anyway)");
    std::cerr << who << ": warning: " << *why << " (--force)\n";
  }
}

Recommendation predict_or_exit(const Config& config, const Calibration& calib, const std::string& who,
                               const SelectionSpace& space) {
  try {
    return recommend(config, calib, space);
  } catch (const std::runtime_error& e) {  // a missing fit
    refuse(who, e.what());
  }
}

void add_selection_options(CLI::App* cmd, SelectionSpace& space) {
  cmd->add_option("--degrees", space.degrees,
                  "pipeline degrees r to select over as well (1,2,4,8: each schedule also in r capacity "
                  "chunks, named <schedule>r<r>, and at every pair of them, forward F and backward B, "
                  "named <schedule>f<F>b<B>)")
      ->delimiter(',')
      ->check(CLI::IsMember({1, 2, 4, 8}));
  cmd->add_flag_callback(
      "--same-degrees", [&space] { space.separate_degrees = false; },
      "with --degrees: each option at one degree both ways (no f<F>b<B> pairs: a quarter of the options "
      "at 4 degrees)");
  cmd->add_option_function<std::vector<std::string>>(
         "--alltoall",
         [&space](const std::vector<std::string>& names) {
           space.algorithms.clear();
           for (const std::string& n : names) space.algorithms.push_back(*parse_alltoall_algorithm(n));
         },
         "AlltoAll algorithms to select over (flat,2dh: each unfused schedule also with a hierarchical "
         "AlltoAll, named <schedule>[r<r>]h; offered where an EP group has 2+ ranks per node on 2+ nodes)")
      ->delimiter(',')
      ->check(CLI::IsMember({"flat", "2dh"}));
}

Grid load_grid_or_exit(const std::string& path) {
  GridLoad load = load_grid_file(path);
  if (!load.ok()) {
    for (const auto& line : load.errors) std::cerr << line << '\n';
    throw CLI::RuntimeError(2);
  }
  return std::move(*load.grid);
}

std::uint64_t grid_pick_count(const Grid& grid, const std::string& path, std::int64_t limit,
                              const std::string& who, std::uint64_t& count) {
  const auto n = grid_configuration_count(grid);
  if (!n)
    refuse(who, path + ": the grid has more than 2^64 configurations (the product of its axis lengths)");
  count = *n;
  if (limit <= 0 && count > kMaxGridWithoutLimit)
    refuse(who, path + ": " + std::to_string(count) + " configurations is above the " +
                    std::to_string(kMaxGridWithoutLimit) +
                    " a grid may have without --limit (--limit K takes " + "K evenly spaced ones; --limit " +
                    std::to_string(count) + " takes them all)");
  if (limit <= 0) return count;
  return std::min<std::uint64_t>(count, static_cast<std::uint64_t>(limit));
}

std::uint64_t evenly_spaced(std::uint64_t i, std::uint64_t k, std::uint64_t count) {
  // With count = q k + r, i count / k = i q + (i r) / k; i r can pass 64 bits, so it is formed in 128.
  const std::uint64_t q = count / k, r = count % k;
  __extension__ using Wide = unsigned __int128;
  return i * q + static_cast<std::uint64_t>(static_cast<Wide>(i) * r / k);
}

CLI::Option* add_calibration_option(CLI::App* cmd, std::string& calibration) {
  return cmd
      ->add_option("--calibration", calibration,
                   "calibration: JSON file, or a calibration run of a project (ID with --db, "
                   "PROJECT.sqlite#ID, PROJECT.sqlite)")
      ->required();
}

}  // namespace parm::cli
