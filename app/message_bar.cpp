#include "app/message_bar.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTabBar>
#include <QTabWidget>
#include <algorithm>

namespace parm::app {

MessageBar::MessageBar(QTabWidget* tabs) : QFrame(tabs), tabs_(tabs), label_(new QLabel) {
  setObjectName("messageBar");
  setAutoFillBackground(true);
  setFrameShape(QFrame::StyledPanel);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(8, 4, 8, 4);
  label_->setObjectName("messageText");
  label_->setWordWrap(true);
  label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* close = new QPushButton(tr("Dismiss"));
  close->setObjectName("dismissMessage");
  connect(close, &QPushButton::clicked, this, &MessageBar::dismiss);
  layout->addWidget(label_, 1);
  layout->addWidget(close);
  tabs_->installEventFilter(this);
  hide();
}

void MessageBar::showMessage(const QString& text, bool error) {
  error_ = error;
  label_->setText(text);
  applyTone();
  place();
  show();
  raise();
}

void MessageBar::dismiss() {
  label_->clear();
  hide();
}

QString MessageBar::text() const {
  return isHidden() ? QString() : label_->text();
}

bool MessageBar::eventFilter(QObject* watched, QEvent* event) {
  if (watched == tabs_ && (event->type() == QEvent::Resize || event->type() == QEvent::LayoutRequest))
    place();
  return QFrame::eventFilter(watched, event);
}

void MessageBar::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange && !signalsBlocked()) {
    const QSignalBlocker block(this);  // applyTone sets the palette, which sends PaletteChange again
    applyTone();
  }
  QFrame::changeEvent(event);
}

// Just under the tab bar, the page's full width, as tall as the wrapped text needs.
void MessageBar::place() {
  const int top = tabs_->tabBar()->isVisible() ? tabs_->tabBar()->geometry().bottom() + 1 : 0;
  const int width = tabs_->width();
  const int height = layout() ? layout()->heightForWidth(width) : sizeHint().height();
  setGeometry(0, top, width, std::max(height, sizeHint().height()));
}

void MessageBar::applyTone() {
  const bool dark = tabs_->palette().color(QPalette::Window).lightness() < 128;
  QPalette p = tabs_->palette();
  if (dark) {
    p.setColor(QPalette::Window, error_ ? QColor(0x5c, 0x1e, 0x24) : QColor(0x5a, 0x48, 0x12));
    p.setColor(QPalette::WindowText, QColor(0xf5, 0xe6, 0xe6));
  } else {
    p.setColor(QPalette::Window, error_ ? QColor(0xf8, 0xd7, 0xda) : QColor(0xff, 0xf3, 0xcd));
    p.setColor(QPalette::WindowText, QColor(0x33, 0x1a, 0x1a));
  }
  setPalette(p);
}

}  // namespace parm::app
