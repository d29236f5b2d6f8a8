#include "app/models/config_issues_model.h"

#include <QStringList>

#include "app/models/tone.h"

namespace parm::app {

void ConfigIssuesModel::setIssues(const ConfigIssues& issues) {
  beginResetModel();
  issues_ = issues.items;
  endResetModel();
}

int ConfigIssuesModel::errorCount() const {
  int n = 0;
  for (const auto& i : issues_) n += i.severity == ConfigIssue::Severity::Error ? 1 : 0;
  return n;
}

bool ConfigIssuesModel::concerns(const QString& issueField, const QString& field) {
  if (!issueField.startsWith(field)) return false;
  return issueField.size() == field.size() || issueField[field.size()] == u'.' ||
         issueField[field.size()] == u'[';
}

QString ConfigIssuesModel::messagesFor(const QString& field) const {
  QStringList lines;
  for (const auto& i : issues_)
    if (concerns(QString::fromStdString(i.field), field)) lines << QString::fromStdString(i.line());
  return lines.join(u'\n');
}

int ConfigIssuesModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(issues_.size());
}

int ConfigIssuesModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : NUM_COLUMNS;
}

QVariant ConfigIssuesModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const ConfigIssue& issue = issues_[static_cast<std::size_t>(index.row())];
  const bool error = issue.severity == ConfigIssue::Severity::Error;
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case SeverityColumn:
          return error ? tr("error") : tr("warning");
        case FieldColumn:
          return QString::fromStdString(issue.field);
        case ValueColumn:
          return QString::fromStdString(issue.value);
        case RuleColumn:
          return QString::fromStdString(issue.rule);
      }
      return {};
    case Qt::ToolTipRole:
      return QString::fromStdString(issue.line());
    case ToneRole:
      return index.column() == SeverityColumn ? QVariant(int(error ? Tone::Error : Tone::Warning))
                                              : QVariant();
    case FieldRole:
      return QString::fromStdString(issue.field);
    case IsErrorRole:
      return error;
  }
  return {};
}

QVariant ConfigIssuesModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case SeverityColumn:
      return tr("Severity");
    case FieldColumn:
      return tr("Field");
    case ValueColumn:
      return tr("Value");
    case RuleColumn:
      return tr("Rule");
  }
  return {};
}

}  // namespace parm::app
