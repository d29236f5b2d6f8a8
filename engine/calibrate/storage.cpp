#include "engine/calibrate/storage.h"

#include <vector>

#include "db/database.h"
#include "engine/core/config_json.h"

namespace parm::calibrate {

StoredCalibration store_calibration(const std::string& db_path, const Config& config, const Calibration& c,
                                    int ranks) {
  db::Database database = db::Database::open(db_path, true);
  db::RunInfo info;
  info.name = config.name;
  info.kind = "calibration";
  info.backend = c.backend;
  info.ranks = ranks;
  info.config_json = config_to_json(config).dump();
  const std::int64_t run = database.begin_run(info);
  std::vector<db::CalibrationRow> rows;
  for (const auto& f : c.fits)
    rows.push_back(
        {f.op, f.communicator, f.fit.alpha * 1e-3, f.fit.beta * 1e-3, f.fit.r2, std::int64_t(f.fit.samples)});
  database.add_calibration(run, rows);
  database.set_result(run, to_json(c).dump(1));
  database.finish_run(run);
  return {run, rows.size()};
}

}  // namespace parm::calibrate
