#include "app/compare/schedule_colors.h"

#include <iterator>
#include <string>

#include "engine/core/config.h"

namespace parm::app {

QColor scheduleColor(const QString& schedule) {
  // Qualitative palette (Tableau 10), in registry order; unknown names grey.
  static const QColor palette[] = {
      QColor(0x4e, 0x79, 0xa7), QColor(0xf2, 0x8e, 0x2b), QColor(0xe1, 0x57, 0x59), QColor(0x76, 0xb7, 0xb2),
      QColor(0x59, 0xa1, 0x4f), QColor(0xed, 0xc9, 0x48), QColor(0xb0, 0x7a, 0xa1)};
  std::size_t i = 0;
  for (ScheduleKind k : all_schedules()) {
    if (schedule.toStdString() == std::string(to_string(k))) return palette[i % std::size(palette)];
    ++i;
  }
  return QColor(0x9d, 0x9d, 0x9d);
}

}  // namespace parm::app
