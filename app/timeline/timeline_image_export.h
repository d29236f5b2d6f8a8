// The timeline as an image (PNG or any raster format Qt writes, or SVG by suffix): a title line (project
// file, run, schedules, mode, iteration, visible time range), the colour legend, then the row tree and the
// canvas cut to the rows actually shown, so no empty widget area is exported.
#pragma once

#include <QPalette>
#include <QString>
#include <vector>

#include "app/timeline/timeline_legend.h"

class QTreeView;
class QWidget;

namespace parm::app {

class TimelineData;

struct TimelineImage {
  QString title;
  std::vector<LegendEntry> legend;
  QWidget* content = nullptr;  // rendered from its top left
  int contentHeight = 0;       // px of `content` to render (the rows shown)
  QPalette palette;            // background and text of the title and legend
};

// "project.sqlite · run 3 (demo) · B_DS, S1 · measured vs predicted, median iteration (B_DS 1, S1 2) ·
// visible 0 ns - 1.23 ms".
QString timelineImageTitle(const TimelineData& data, const QString& dbPath, bool sideBySide,
                           const QString& iterationChoice, double visibleStartNs, double visibleEndNs);
// Bottom of the last row the tree shows, in tree viewport coordinates (0 when none).
int shownRowsBottom(const QTreeView& tree);
// Header (title + legend) height at a width, for tests and the layout.
int timelineImageHeaderHeight(const TimelineImage& image, int width);
bool writeTimelineImage(const QString& path, const TimelineImage& image, QString* error);

}  // namespace parm::app
