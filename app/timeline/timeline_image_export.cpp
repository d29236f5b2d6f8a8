#include "app/timeline/timeline_image_export.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QFontMetrics>
#include <QImage>
#include <QPainter>
#include <QSvgGenerator>
#include <QTreeView>
#include <algorithm>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_format.h"
#include "app/timeline/timeline_palette.h"

namespace parm::app {
namespace {

constexpr int kMargin = 8;

QString tr(const char* text) {
  return QCoreApplication::translate("TimelineImage", text);
}

QFont titleFont() {
  QFont f;
  f.setBold(true);
  return f;
}

// Paints title, legend and content at the device's origin; `size` is the whole image.
void paintImage(QPainter& p, const TimelineImage& image, const QSize& size) {
  const TimelineColours colours = TimelineColours::from(image.palette);
  p.fillRect(QRect(QPoint(0, 0), size), colours.background);
  p.setFont(titleFont());
  const QFontMetrics tm = p.fontMetrics();
  p.setPen(colours.text);
  const QRect titleRect(kMargin, kMargin, size.width() - 2 * kMargin, tm.height());
  p.drawText(titleRect, Qt::AlignLeft | Qt::AlignVCenter,
             tm.elidedText(image.title, Qt::ElideMiddle, titleRect.width()));
  p.setFont(QFont());
  const int legendTop = titleRect.bottom() + 1 + kMargin / 2;
  const int legendH = legendHeight(image.legend, p.fontMetrics(), size.width() - 2 * kMargin);
  paintLegend(p, QRect(kMargin, legendTop, size.width() - 2 * kMargin, legendH), image.legend, colours);
  const int top = timelineImageHeaderHeight(image, size.width());
  if (image.content && image.contentHeight > 0)
    image.content->render(&p, QPoint(0, top), QRegion(0, 0, image.content->width(), image.contentHeight));
}

}  // namespace

QString timelineImageTitle(const TimelineData& data, const QString& dbPath, bool sideBySide,
                           const QString& iterationChoice, double visibleStartNs, double visibleEndNs) {
  QStringList schedules, iterations;
  for (const TimelineSection& s : data.sections()) {
    schedules << s.schedule;
    if (s.chosenIteration >= 0) iterations << QStringLiteral("%1 %2").arg(s.schedule).arg(s.chosenIteration);
  }
  QString mode;
  if (data.mode() == TimelineMode::Aligned) {
    mode = tr("measured vs predicted, %1").arg(iterationChoice);
    if (!iterations.isEmpty()) mode += QStringLiteral(" (%1)").arg(iterations.join(QStringLiteral(", ")));
  } else {
    mode = tr("whole run");
  }
  if (sideBySide) mode += tr(", side by side");
  const QString run = data.runName().isEmpty() ? tr("run %1").arg(data.runId())
                                               : tr("run %1 (%2)").arg(data.runId()).arg(data.runName());
  const QString sep = QStringLiteral("  \u00b7  ");
  return QStringList{QFileInfo(dbPath).fileName(), run,
                     schedules.isEmpty() ? tr("no schedules") : schedules.join(QStringLiteral(", ")), mode,
                     tr("visible %1 - %2").arg(formatDuration(visibleStartNs), formatDuration(visibleEndNs))}
      .join(sep);
}

int shownRowsBottom(const QTreeView& tree) {
  const int viewportHeight = tree.viewport()->height();
  int bottom = 0;
  for (QModelIndex i = tree.indexAt(QPoint(1, 1)); i.isValid(); i = tree.indexBelow(i)) {
    const QRect r = tree.visualRect(i);
    if (r.top() >= viewportHeight) break;
    bottom = std::max(bottom, r.bottom() + 1);
  }
  return std::min(bottom, viewportHeight);
}

int timelineImageHeaderHeight(const TimelineImage& image, int width) {
  const int title = QFontMetrics(titleFont()).height();
  const int legend = legendHeight(image.legend, QFontMetrics(QFont()), width - 2 * kMargin);
  return kMargin + title + kMargin / 2 + legend + kMargin;
}

bool writeTimelineImage(const QString& path, const TimelineImage& image, QString* error) {
  auto fail = [&](const QString& why) {
    if (error) *error = path + ": " + why;
    return false;
  };
  const int width = image.content ? std::max(400, image.content->width()) : 800;
  const QSize size(width, timelineImageHeaderHeight(image, width) + std::max(0, image.contentHeight));
  if (QFileInfo(path).suffix().compare(QLatin1String("svg"), Qt::CaseInsensitive) == 0) {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(size);
    svg.setViewBox(QRect(QPoint(0, 0), size));
    svg.setTitle(image.title);
    QPainter p;
    if (!p.begin(&svg)) return fail(tr("cannot write SVG"));
    paintImage(p, image, size);
    p.end();
  } else {
    QImage out(size, QImage::Format_ARGB32_Premultiplied);
    out.fill(image.palette.color(QPalette::Base));
    QPainter p(&out);
    paintImage(p, image, size);
    p.end();
    if (!out.save(path)) return fail(tr("cannot write image (unwritable, or an unknown image format)"));
  }
  if (QFileInfo(path).size() <= 0) return fail(tr("export wrote nothing"));
  return true;
}

}  // namespace parm::app
