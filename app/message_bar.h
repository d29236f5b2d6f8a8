// The window's one-line message bar, laid over the top of the page under the tab bar instead of in the
// layout: showing it never moves the page (a click aimed at a field lands on that field). Errors and notices
// have their own tones, chosen from the palette's lightness so they read in light and dark themes.
#pragma once

#include <QFrame>

class QLabel;
class QTabWidget;

namespace parm::app {

class MessageBar : public QFrame {
  Q_OBJECT
 public:
  // Overlays the pages of `tabs` (a child of its parent widget, kept at its width under its tab bar).
  explicit MessageBar(QTabWidget* tabs);

  void showMessage(const QString& text, bool error);
  void dismiss();
  QString text() const;  // empty when dismissed

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  void place();
  void applyTone();

  QTabWidget* tabs_;
  QLabel* label_;
  bool error_ = true;
};

}  // namespace parm::app
