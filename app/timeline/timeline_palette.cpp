#include "app/timeline/timeline_palette.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace parm::app {

QColor opClassColour(OpClass c) {
  static const std::array<QColor, static_cast<std::size_t>(OpClass::Count)> palette{
      QColor(0x4e, 0x79, 0xa7),  // compute
      QColor(0xba, 0xb0, 0xac),  // split/copy
      QColor(0xf2, 0x8e, 0x2b),  // AlltoAll
      QColor(0x59, 0xa1, 0x4f),  // AllGather
      QColor(0xb0, 0x7a, 0xa1),  // ReduceScatter
      QColor(0xe1, 0x57, 0x59),  // AllReduce
      QColor(0x76, 0xb7, 0xb2),  // SAA pipeline
      QColor(0x9c, 0x75, 0x5f),  // RSA pipeline
      QColor(0xff, 0x9d, 0xa7),  // RS>A2A>AG pipeline
      QColor(0x88, 0x88, 0x88),  // other
      QColor(0x76, 0xb9, 0x00),  // GPU kernel
      QColor(0xd9, 0xb3, 0x2b),  // GPU memcpy
      QColor(0x9a, 0x7f, 0xd1),  // GPU memset
  };
  const auto i = static_cast<std::size_t>(c);
  return i < palette.size() ? palette[i] : palette[static_cast<std::size_t>(OpClass::Other)];
}

QColor mixColours(const QColor& a, const QColor& b, double t) {
  t = std::clamp(t, 0.0, 1.0);
  auto mix = [t](double x, double y) { return static_cast<int>(std::lround(x + (y - x) * t)); };
  return QColor(mix(a.red(), b.red()), mix(a.green(), b.green()), mix(a.blue(), b.blue()),
                mix(a.alpha(), b.alpha()));
}

double relativeLuminance(const QColor& c) {
  auto linear = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * linear(c.redF()) + 0.7152 * linear(c.greenF()) + 0.0722 * linear(c.blueF());
}

QColor textColourOn(const QColor& fill) {
  // Contrast with black is (L + 0.05) / 0.05, with white 1.05 / (L + 0.05): equal at L ~ 0.179.
  return relativeLuminance(fill) > 0.179 ? QColor(Qt::black) : QColor(Qt::white);
}

QColor predictedFill(OpClass c, const QColor& background) {
  return mixColours(opClassColour(c), background, 0.35);
}

TimelineColours TimelineColours::from(const QPalette& palette) {
  TimelineColours t;
  t.background = palette.color(QPalette::Base);
  t.text = palette.color(QPalette::Text);
  t.axisBackground = palette.color(QPalette::Window);
  t.axisText = palette.color(QPalette::WindowText);
  t.headerBand = mixColours(t.background, t.text, 0.06);
  t.predictedBand = mixColours(t.background, QColor(0xe0, 0xb0, 0x20), 0.07);
  t.gpuBand = mixColours(t.background, QColor(0x76, 0xb9, 0x00), 0.06);
  t.rowLine = mixColours(t.background, t.text, 0.11);
  t.gridLine = mixColours(t.background, t.text, 0.15);
  t.outline = t.text;
  t.flowInk = t.text;
  t.flowInk.setAlpha(170);
  t.selectionEdge = palette.color(QPalette::Highlight);
  t.selectionFill = t.selectionEdge;
  t.selectionFill.setAlpha(45);
  return t;
}

}  // namespace parm::app
