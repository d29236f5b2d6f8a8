#include "app/compare/schedule_colors.h"

#include <iterator>
#include <string>

#include "engine/core/config.h"
#include "engine/schedules/schedule_registry.h"

namespace parm::app {

QColor scheduleColor(const QString& schedule) {
  // Qualitative palette (Tableau 10), in registry order; unknown names grey.
  static const QColor palette[] = {
      QColor(0x4e, 0x79, 0xa7), QColor(0xf2, 0x8e, 0x2b), QColor(0xe1, 0x57, 0x59), QColor(0x76, 0xb7, 0xb2),
      QColor(0x59, 0xa1, 0x4f), QColor(0xed, 0xc9, 0x48), QColor(0xb0, 0x7a, 0xa1)};
  // A pipelined variant ("S1r4") takes its schedule's colour, lighter with each doubling of r; a
  // hierarchical one ("S1h", "S1r4h") the same, darker.
  const std::optional<ScheduleKind> kind = parse_schedule(schedule.toStdString());
  if (!kind) return QColor(0x9d, 0x9d, 0x9d);
  const ScheduleKind base = base_of(*kind);
  std::size_t i = 0;
  for (ScheduleKind k : all_schedules()) {
    if (k == base) {
      QColor c = palette[i % std::size(palette)];
      for (int r = spec_of(*kind).pipeline_degree.forward; r > 1; r /= 2) c = c.lighter(118);
      return spec_of(*kind).alltoall == AlltoAllAlgorithm::Hierarchical ? c.darker(140) : c;
    }
    ++i;
  }
  return QColor(0x9d, 0x9d, 0x9d);
}

}  // namespace parm::app
