// What the model subcommands (predict, recommend, sweep, validate) share: a calibration loaded and checked
// against the layout, a grid loaded, a prediction made; each failure is one line prefixed by `who`
// ("parm sweep") and CLI::RuntimeError(2).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "engine/core/config.h"
#include "engine/core/grid_file.h"
#include "engine/model/calibration.h"
#include "engine/model/recommendation.h"

namespace parm::cli {

Calibration load_calibration_or_exit(const std::string& ref, const std::string& db_path,
                                     const std::string& who);

// Refuses (or with `force` warns about) a calibration measured on another layout shape.
void check_layout_or_exit(const Calibration& calib, const Config& config, bool force, const std::string& who);

// Every schedule's timeline and the choice (over `space`: the pipeline degrees); a missing fit is refused.
Recommendation predict_or_exit(const Config& config, const Calibration& calib, const std::string& who,
                               const SelectionSpace& space = {});

// `--degrees 1,2,4,8` (with `--same-degrees`) and `--alltoall flat,2dh` of predict, recommend, sweep and
// validate: the pipeline degrees and AlltoAll algorithms the selection runs over.
void add_selection_options(CLI::App* cmd, SelectionSpace& space);

Grid load_grid_or_exit(const std::string& path);

// The configurations `--limit` picks from a grid of `count`: K evenly spaced (all when K >= count or K is 0).
// Refuses a grid above kMaxGridWithoutLimit configurations when no --limit is given, or one whose size
// overflows.
std::uint64_t grid_pick_count(const Grid& grid, const std::string& path, std::int64_t limit,
                              const std::string& who, std::uint64_t& count);
// Index of pick `i` of `k` spread evenly over `count` (0, count/k, 2count/k, ...), without overflow.
std::uint64_t evenly_spaced(std::uint64_t i, std::uint64_t k, std::uint64_t count);

// The required --calibration option of predict, recommend, sweep and validate: one text for what it accepts.
CLI::Option* add_calibration_option(CLI::App* cmd, std::string& calibration);

}  // namespace parm::cli
