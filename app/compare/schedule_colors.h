// One colour per schedule, shared by the sweep scatter and heat map so a schedule reads the same everywhere.
#pragma once

#include <QColor>
#include <QString>

namespace parm::app {

QColor scheduleColor(const QString& schedule);

}  // namespace parm::app
