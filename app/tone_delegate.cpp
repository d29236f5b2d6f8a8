#include "app/tone_delegate.h"

#include <QColor>
#include <QPalette>

#include "app/models/tone.h"

namespace parm::app {

void ToneDelegate::initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const {
  QStyledItemDelegate::initStyleOption(option, index);
  const QVariant tone = index.data(ToneRole);
  if (!tone.isValid()) return;
  switch (static_cast<Tone>(tone.toInt())) {
    case Tone::Warning:
      option->palette.setColor(QPalette::Text, QColor(0xa0, 0x60, 0x00));
      break;
    case Tone::Error:
      option->palette.setColor(QPalette::Text, QColor(0xc0, 0x20, 0x20));
      break;
    case Tone::Normal:
      break;
  }
}

}  // namespace parm::app
