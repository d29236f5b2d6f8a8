#include "app/compare/comparison_data.h"

#include <exception>

#include "db/database.h"

namespace parm::app {

ComparisonData loadComparisonData(const QString& dbPath, qint64 measuredRun) {
  ComparisonData out;
  try {
    const auto db = db::Database::open(dbPath.toStdString(), false);
    out.comparison = compare_run(db, measuredRun);
    const std::vector<db::EventRow> events = db.events(measuredRun);
    out.measured = load_measured_ops(db, events);
    out.predicted = predicted_ops(db, measuredRun);
    out.verdict = verdict_for_run(db, measuredRun, out.comparison);
    out.breakdowns = time_breakdowns(events, db.predictions(measuredRun), db);
    out.blocks = model_block_times(aggregate_measured_ops(out.measured));
  } catch (const std::exception& e) {
    out = {};
    out.error = QString::fromStdString(e.what()).replace(QLatin1Char('\n'), QLatin1Char(' ')).trimmed();
  }
  return out;
}

}  // namespace parm::app
