#include "app/shortcut_sheet.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QMenu>
#include <QMenuBar>
#include <QTableWidget>
#include <QVBoxLayout>

namespace parm::app {

namespace {

QString plain(QString text) {
  return text.remove(u'&').remove(QStringLiteral("..."));
}

// Every action with a shortcut under `menu`, named "Menu > Item".
void collect(const QMenu* menu, const QString& path, QList<QPair<QString, QString>>& out) {
  for (const QAction* action : menu->actions()) {
    if (action->menu()) {
      collect(action->menu(), path + " > " + plain(action->text()), out);
      continue;
    }
    QStringList keys;
    for (const QKeySequence& k : action->shortcuts()) keys << k.toString(QKeySequence::NativeText);
    if (!keys.isEmpty()) out.append({keys.join(QStringLiteral(", ")), path + " > " + plain(action->text())});
  }
}

}  // namespace

QList<QPair<QString, QString>> ShortcutSheet::timelineEntries() {
  return {
      {tr("Wheel"), tr("Timeline: zoom around the pointer")},
      {tr("Left drag"), tr("Timeline: pan")},
      {tr("Shift+left drag, right drag"), tr("Timeline: select a time range (the tables follow it)")},
      {tr("Esc"), tr("Timeline: clear the selected range")},
      {QStringLiteral("W / S"), tr("Timeline: zoom in / out")},
      {QStringLiteral("A / D"), tr("Timeline: pan left / right")},
      {QStringLiteral("F"), tr("Timeline: fit the run to the view")},
      {tr("Hover"), tr("Timeline: an op's details; its collective's members across ranks")},
  };
}

ShortcutSheet::ShortcutSheet(const QMenuBar* menus, QWidget* parent) : QDialog(parent) {
  setObjectName("shortcutSheet");
  setWindowTitle(tr("Keyboard shortcuts"));
  if (menus)
    for (const QAction* top : menus->actions())
      if (top->menu()) collect(top->menu(), plain(top->text()), entries_);
  entries_ += timelineEntries();

  auto* table = new QTableWidget(static_cast<int>(entries_.size()), 2, this);
  table->setObjectName("shortcutTable");
  table->setHorizontalHeaderLabels({tr("Keys"), tr("Action")});
  table->verticalHeader()->hide();
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table->setSelectionBehavior(QAbstractItemView::SelectRows);
  for (int r = 0; r < entries_.size(); ++r) {
    table->setItem(r, 0, new QTableWidgetItem(entries_[r].first));
    table->setItem(r, 1, new QTableWidgetItem(entries_[r].second));
  }
  table->resizeColumnsToContents();
  table->horizontalHeader()->setStretchLastSection(true);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(table);
  layout->addWidget(buttons);
  resize(640, 520);
}

}  // namespace parm::app
