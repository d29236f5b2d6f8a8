#include "engine/calibrate/calibration_run.h"

#include <chrono>
#include <memory>
#include <sstream>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/calibrate/blocks.h"
#include "engine/calibrate/chunks.h"
#include "engine/calibrate/collectives.h"
#include "engine/calibrate/compute.h"
#include "engine/calibrate/overheads.h"
#include "engine/calibrate/pipeline.h"
#include "engine/calibrate/report.h"
#include "engine/calibrate/run_environment.h"
#include "engine/comm/comm_mpi.h"
#include "engine/run/rank_backend.h"

namespace parm::calibrate {

CalibrationOutcome run_calibration(const Config& config, const RankLayout& layout,
                                   const comm::MpiWorld& world, const CalibrationOptions& options) {
  const Harness harness(world, options.sweep);
  std::vector<Measurement> fits;
  std::ostringstream table;
  double interference = 1.0;
  // One backend per rank, as the worker builds it: every family enqueues the executor's own ops on it.
  const std::unique_ptr<backend::Backend> backend =
      make_rank_backend(config, layout.rank, std::chrono::milliseconds(options.timeout_ms));
  const RecordedEnvironment where = record_environment(*backend, world);
  write_table_header(table, config, options);
  write_environment(table, where);
  {
    comm::CommGroups transport = comm::make_mpi_groups(layout, std::chrono::milliseconds(options.timeout_ms));
    const backend::StreamGroups groups = backend->make_groups(transport);
    interference = time_collectives(config, *backend, groups, harness, fits, table);
    // What the alpha-beta terms miss, after the collectives whose fits the pipeline uses.
    time_sync_overheads(config, *backend, groups, harness, fits, table);
    time_pipeline(config, layout, *backend, transport, harness, fits, table);
    backend->synchronize();
    harness.barrier();
  }  // groups freed before the compute kernels run alone
  time_compute(config, *backend, harness, fits, table);
  time_blocks(config, *backend, harness, fits, table);  // a model's attention, LayerNorm, elementwise ops
  // Last: the chunked layer's residual over the model built from every fit above.
  time_chunks(config, layout, *backend, harness, options, interference, fits, table);
  Calibration calibration = make_calibration(config, options, interference, fits);
  apply_environment(where, calibration);
  return {std::move(calibration), table.str()};
}

}  // namespace parm::calibrate
