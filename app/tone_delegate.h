// Paints a cell's text in the colour of its tone (app/models/tone.h): the item models stay Qt Core only and
// the colours live with the widgets.
#pragma once

#include <QStyledItemDelegate>

namespace parm::app {

class ToneDelegate : public QStyledItemDelegate {
  Q_OBJECT

 public:
  using QStyledItemDelegate::QStyledItemDelegate;

 protected:
  void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override;
};

}  // namespace parm::app
