#include "engine/calibrate/calibration_run.h"

#include <chrono>
#include <sstream>
#include <vector>

#include "engine/calibrate/collectives.h"
#include "engine/calibrate/compute.h"
#include "engine/calibrate/overheads.h"
#include "engine/calibrate/pipeline.h"
#include "engine/calibrate/report.h"
#include "engine/comm/comm_mpi.h"

namespace parm::calibrate {

CalibrationOutcome run_calibration(const Config& config, const RankLayout& layout,
                                   const comm::MpiWorld& world, const CalibrationOptions& options) {
  const Harness harness(world, options.sweep);
  std::vector<Measurement> fits;
  std::ostringstream table;
  write_table_header(table, config, options);
  double interference = 1.0;
  {
    comm::CommGroups groups = comm::make_mpi_groups(layout, std::chrono::milliseconds(options.timeout_ms));
    interference = time_collectives(config, groups, harness, fits, table);
    // What the alpha-beta terms miss, after the collectives whose fits the pipeline uses.
    time_sync_overheads(config, groups, harness, fits, table);
    time_pipeline(config, layout, groups, harness, fits, table);
    harness.barrier();
  }  // groups freed before the compute kernels run alone
  time_compute(config, harness, fits, table);
  return {make_calibration(config, options, interference, fits), table.str()};
}

}  // namespace parm::calibrate
