// Help > Keyboard shortcuts (also "?" and F1): every shortcut of the window's menus and of the timeline
// canvas (timeline_view.h: wheel, drags, W/S/A/D, F, Esc), as a two-column table, in a non-modal dialog.
#pragma once

#include <QDialog>
#include <QList>
#include <QPair>

class QMenuBar;

namespace parm::app {

class ShortcutSheet : public QDialog {
  Q_OBJECT
 public:
  // The menu bar's actions that have a shortcut are read when the sheet is built.
  explicit ShortcutSheet(const QMenuBar* menus, QWidget* parent = nullptr);

  // (keys, what they do) as listed, menus first, then the timeline's.
  const QList<QPair<QString, QString>>& entries() const { return entries_; }
  // The timeline canvas's keys and mouse gestures (not QActions: the canvas handles them itself).
  static QList<QPair<QString, QString>> timelineEntries();

 private:
  QList<QPair<QString, QString>> entries_;
};

}  // namespace parm::app
