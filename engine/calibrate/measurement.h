// One calibrated operation: what was timed (operation, communicator, group size), its samples, its fit, and
// how the table shows the fit (nccl-tests style: `#`-commented lines).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "engine/model/fit.h"

namespace parm::calibrate {

struct Measurement {
  std::string op, communicator;
  int group_size = 1;
  std::vector<FitSample> samples;
  GuardedFit fit;
  std::string shape;  // a compute fit's shape family ("M 1024, Hs 2048, ..."); empty for collectives
};

// A measurement of `op` on `communicator` with nothing measured yet.
Measurement measurement(std::string op, std::string communicator, int group_size = 1);

// "# fit: t_ms = alpha + beta * n   (r2 ..., k sizes)", or "# fit: none ..." when there is no fit.
void write_fit_line(std::ostream& table, const Measurement& m);
// The same line named, "# gate fit: ...", for tables that time several ops per row.
void write_named_fit_line(std::ostream& table, const Measurement& m);

// The fitted line of `op` among `fits`, or nullptr.
const LinearFit* fitted_line(const std::vector<Measurement>& fits, const std::string& op);

}  // namespace parm::calibrate
