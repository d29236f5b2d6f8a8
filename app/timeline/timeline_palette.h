// The timeline's colours. Data classes (op kinds) keep fixed colours so a class reads the same in every
// theme; everything else (background, text, grid, bands, selection, arrows) comes from the widget's QPalette,
// so a dark palette gives a dark timeline. Text on a coloured bar is black or white by the bar's luminance.
#pragma once

#include <QColor>
#include <QPalette>

#include "app/timeline/timeline_data.h"

namespace parm::app {

// The fixed colour of an op class (measured bars; predicted bars are predictedFill() of it).
QColor opClassColour(OpClass c);
// A predicted bar: the class colour washed towards the background, lighter on light and darker on dark.
QColor predictedFill(OpClass c, const QColor& background);
// Black or white, whichever reads better on `fill` (relative luminance, WCAG).
QColor textColourOn(const QColor& fill);
double relativeLuminance(const QColor& c);
// `a` moved towards `b` by t in [0, 1].
QColor mixColours(const QColor& a, const QColor& b, double t);

// The palette-derived colours of one paint.
struct TimelineColours {
  QColor background;      // rows area
  QColor text;            // labels on the background
  QColor axisBackground;  // the ruler
  QColor axisText;
  QColor headerBand;     // an expanded node's row
  QColor predictedBand;  // behind predicted rows
  QColor gpuBand;        // behind GPU rows
  QColor rowLine;        // between rows
  QColor gridLine;       // ticks across the rows
  QColor outline;        // hover outlines
  QColor flowInk;        // flow arrows
  QColor selectionFill;
  QColor selectionEdge;
  static TimelineColours from(const QPalette& palette);
};

}  // namespace parm::app
