#include "app/timeline/timeline_legend.h"

#include <QFontMetrics>
#include <QPainter>
#include <array>

#include "app/timeline/timeline_palette.h"

namespace parm::app {
namespace {

constexpr int kSwatch = 12;   // swatch side, px
constexpr int kGap = 5;       // swatch to label
constexpr int kSpacing = 14;  // entry to entry
constexpr int kLineGap = 3;

int entryWidth(const LegendEntry& e, const QFontMetrics& m) {
  return kSwatch + kGap + m.horizontalAdvance(e.label);
}
int lineHeight(const QFontMetrics& m) {
  return std::max(kSwatch, m.height());
}

// Calls place(entry, x, y) for each entry of a left-to-right layout wrapped at `width`; returns the height.
template <typename Place>
int layOut(const std::vector<LegendEntry>& entries, const QFontMetrics& m, int width, Place place) {
  if (entries.empty()) return 0;
  int x = 0, y = 0;
  const int h = lineHeight(m);
  for (const LegendEntry& e : entries) {
    const int w = entryWidth(e, m);
    if (x > 0 && x + w > width) {
      x = 0;
      y += h + kLineGap;
    }
    place(e, x, y);
    x += w + kSpacing;
  }
  return y + h;
}

}  // namespace

QString legendLabel(OpClass c) {
  switch (c) {
    case OpClass::Local:
      return QStringLiteral("local (split/copy)");
    case OpClass::GpuKernel:
      return QStringLiteral("GPU kernel");
    case OpClass::GpuMemcpy:
      return QStringLiteral("GPU copy");
    case OpClass::GpuMemset:
      return QStringLiteral("GPU memset");
    default:
      return opClassName(c);
  }
}

std::vector<LegendEntry> legendEntries(const TimelineData& data) {
  std::array<bool, static_cast<std::size_t>(OpClass::Count)> present{};
  for (const TimelineEvent& e : data.measured()) present[static_cast<std::size_t>(e.cls)] = true;
  for (const TimelineEvent& e : data.predicted()) present[static_cast<std::size_t>(e.cls)] = true;
  for (const TimelineRow& r : data.rows())  // GPU rows carry their class per entry
    if (r.gpu())
      for (OpClass c : r.cls) present[static_cast<std::size_t>(c)] = true;
  std::vector<LegendEntry> out;
  for (std::size_t i = 0; i < present.size(); ++i)
    if (present[i]) out.push_back({legendLabel(static_cast<OpClass>(i)), static_cast<OpClass>(i), false});
  if (!data.predicted().empty())
    out.push_back({QStringLiteral("predicted (lighter, dashed)"), OpClass::Other, true});
  return out;
}

int legendHeight(const std::vector<LegendEntry>& entries, const QFontMetrics& metrics, int width) {
  return layOut(entries, metrics, width, [](const LegendEntry&, int, int) {});
}

void paintLegend(QPainter& p, const QRect& area, const std::vector<LegendEntry>& entries,
                 const TimelineColours& colours) {
  const QFontMetrics m = p.fontMetrics();
  const int h = lineHeight(m);
  p.save();
  layOut(entries, m, area.width(), [&](const LegendEntry& e, int x, int y) {
    const QRect swatch(area.left() + x, area.top() + y + (h - kSwatch) / 2, kSwatch, kSwatch);
    if (e.predicted) {
      p.fillRect(swatch, predictedFill(OpClass::Other, colours.background));
      p.setPen(QPen(colours.text, 1, Qt::DashLine));
      p.setBrush(Qt::NoBrush);
      p.drawRect(swatch.adjusted(0, 0, -1, -1));
    } else {
      p.fillRect(swatch, opClassColour(e.cls));
    }
    p.setPen(colours.text);
    p.drawText(QRect(swatch.right() + 1 + kGap, area.top() + y, m.horizontalAdvance(e.label) + 2, h),
               Qt::AlignLeft | Qt::AlignVCenter, e.label);
  });
  p.restore();
}

TimelineLegend::TimelineLegend(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
  setToolTip(tr("Colours of the timeline's bars: op classes present in this run"));
}

void TimelineLegend::setData(const TimelineData* timeline) {
  entries_ = timeline ? legendEntries(*timeline) : std::vector<LegendEntry>{};
  updateGeometry();
  update();
}

int TimelineLegend::heightForWidth(int width) const {
  return legendHeight(entries_, fontMetrics(), std::max(1, width - 8)) + 6;
}

QSize TimelineLegend::sizeHint() const {
  return {400, heightForWidth(width() > 0 ? width() : 800)};
}

void TimelineLegend::paintEvent(QPaintEvent*) {
  QPainter p(this);
  const TimelineColours colours = TimelineColours::from(palette());
  p.fillRect(rect(), colours.axisBackground);
  TimelineColours onWindow = colours;
  onWindow.text = colours.axisText;
  onWindow.background = colours.axisBackground;
  paintLegend(p, rect().adjusted(4, 3, -4, -3), entries_, onWindow);
}

}  // namespace parm::app
