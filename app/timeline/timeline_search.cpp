#include "app/timeline/timeline_search.h"

#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QToolButton>
#include <algorithm>
#include <tuple>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_view.h"

namespace parm::app {

TimelineSearchBar::TimelineSearchBar(TimelineView* view, QWidget* parent) : QWidget(parent), view_(view) {
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  edit_ = new QLineEdit;
  edit_->setPlaceholderText(tr("Search ops (name, group, purpose)"));
  edit_->setClearButtonEnabled(true);
  edit_->setMinimumWidth(200);
  edit_->setToolTip(tr("Enter or F3: next match, Shift+Enter or Shift+F3: previous, Esc: clear"));
  auto* previous = new QToolButton;
  previous->setArrowType(Qt::UpArrow);
  previous->setToolTip(tr("Previous match (Shift+Enter, Shift+F3)"));
  auto* next = new QToolButton;
  next->setArrowType(Qt::DownArrow);
  next->setToolTip(tr("Next match (Enter, F3)"));
  count_ = new QLabel;
  count_->setMinimumWidth(count_->fontMetrics().horizontalAdvance(QStringLiteral("00000 of 000000")));
  layout->addWidget(edit_);
  layout->addWidget(previous);
  layout->addWidget(next);
  layout->addWidget(count_);
  connect(edit_, &QLineEdit::textChanged, this, [this] { search(); });
  connect(previous, &QToolButton::clicked, this, &TimelineSearchBar::previous);
  connect(next, &QToolButton::clicked, this, &TimelineSearchBar::next);
  edit_->installEventFilter(this);
  if (view_) view_->installEventFilter(this);  // F3 works from the canvas too
}

void TimelineSearchBar::setTimeline(const TimelineData* timeline) {
  data_ = timeline;
  search();
}

void TimelineSearchBar::setText(const QString& text) {
  edit_->setText(text);
}

QString TimelineSearchBar::text() const {
  return edit_->text();
}

void TimelineSearchBar::clearQuietly() {
  const QSignalBlocker block(edit_);
  edit_->clear();
  matches_.clear();
  current_ = -1;
  owning_ = false;
  showCount();
}

void TimelineSearchBar::search() {
  matches_.clear();
  current_ = -1;
  const QString text = edit_->text().trimmed();
  if (data_ && !text.isEmpty()) {
    const QStringList& strings = data_->strings();
    std::vector<bool> hit(static_cast<std::size_t>(strings.size()));
    for (qsizetype i = 0; i < strings.size(); ++i)
      hit[static_cast<std::size_t>(i)] = strings[i].contains(text, Qt::CaseInsensitive);
    auto is = [&](std::int32_t s) { return s >= 0 && hit[static_cast<std::size_t>(s)]; };
    matches_ = shownMeasured(
        *data_, {}, [&](const TimelineEvent& e) { return is(e.op) || is(e.group) || is(e.purpose); });
    const auto& events = data_->measured();
    auto order = [&](std::int32_t i) {
      const TimelineEvent& e = events[static_cast<std::size_t>(i)];
      return std::make_tuple(e.section, data_->displayStart(e), e.rank, e.lane);
    };
    std::stable_sort(matches_.begin(), matches_.end(),
                     [&](std::int32_t a, std::int32_t b) { return order(a) < order(b); });
  }
  // An empty box leaves alone a highlight it did not set (TimelineWidget::selectOps').
  if (view_ && (owning_ || !text.isEmpty())) view_->setHighlighted(matches_);
  owning_ = !text.isEmpty();
  showCount();
}

void TimelineSearchBar::next() {
  step(1);
}

void TimelineSearchBar::previous() {
  step(-1);
}

void TimelineSearchBar::step(int by) {
  if (matches_.empty()) return;
  const int n = matchCount();
  current_ = current_ < 0 ? (by > 0 ? 0 : n - 1) : ((current_ + by) % n + n) % n;
  showCount();
  emit jumpTo(EventRef{false, matches_[static_cast<std::size_t>(current_)]});
}

void TimelineSearchBar::showCount() {
  if (edit_->text().trimmed().isEmpty())
    count_->clear();
  else if (matches_.empty())
    count_->setText(tr("no match"));
  else if (current_ < 0)
    count_->setText(tr("%1 matches").arg(matchCount()));
  else
    count_->setText(tr("%1 of %2").arg(current_ + 1).arg(matchCount()));
}

bool TimelineSearchBar::eventFilter(QObject* watched, QEvent* event) {
  if (event->type() != QEvent::KeyPress) return QWidget::eventFilter(watched, event);
  const auto* key = static_cast<QKeyEvent*>(event);
  const bool back = key->modifiers() & Qt::ShiftModifier;
  if (key->key() == Qt::Key_F3 ||
      (watched == edit_ && (key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter))) {
    step(back ? -1 : 1);
    return true;
  }
  if (watched == edit_ && key->key() == Qt::Key_Escape && !edit_->text().isEmpty()) {
    edit_->clear();
    return true;
  }
  return QWidget::eventFilter(watched, event);
}

}  // namespace parm::app
