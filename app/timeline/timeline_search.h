// The timeline toolbar's search box: measured ops whose name, group or purpose contains the text (any case)
// are highlighted and the rest dimmed (TimelineView::setHighlighted); Enter / F3 jumps to the next match,
// Shift+Enter / Shift+F3 to the previous one (jumpTo(): the widget centres and selects it), Esc clears; the
// label counts "12 of 340". Matches are the events shown in the current build, in time order per schedule.
#pragma once

#include <QWidget>
#include <vector>

#include "app/timeline/timeline_selection.h"

class QLabel;
class QLineEdit;

namespace parm::app {

class TimelineData;
class TimelineView;

class TimelineSearchBar : public QWidget {
  Q_OBJECT
 public:
  explicit TimelineSearchBar(TimelineView* view, QWidget* parent = nullptr);

  void setTimeline(const TimelineData* timeline);  // after a load or a rebuild: searches again
  void setText(const QString& text);
  QString text() const;
  void clearQuietly();  // empties the box without touching the view's highlight (selectOps owns it then)
  int matchCount() const { return static_cast<int>(matches_.size()); }
  int current() const { return current_; }  // index into the matches, -1 before the first jump
  const std::vector<std::int32_t>& matches() const { return matches_; }
  void next();
  void previous();
  QLineEdit* edit() const { return edit_; }
  QLabel* countLabel() const { return count_; }

 signals:
  void jumpTo(parm::app::EventRef event);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void search();
  void step(int by);
  void showCount();

  TimelineView* view_ = nullptr;
  const TimelineData* data_ = nullptr;
  QLineEdit* edit_ = nullptr;
  QLabel* count_ = nullptr;
  std::vector<std::int32_t> matches_;  // measured() indices in jump order
  int current_ = -1;
  bool owning_ = false;  // the view's highlight is this search's
};

}  // namespace parm::app
