// The engine's validation result as a table (severity, field, value, rule): the GUI shows the same lines
// `parm check` prints, next to the configuration being edited.
#pragma once

#include <QAbstractTableModel>

#include "engine/core/config_issue.h"

namespace parm::app {

class ConfigIssuesModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { SeverityColumn, FieldColumn, ValueColumn, RuleColumn, NUM_COLUMNS };
  enum Role { FieldRole = Qt::UserRole + 1, IsErrorRole };

  using QAbstractTableModel::QAbstractTableModel;

  void setIssues(const ConfigIssues& issues);
  int errorCount() const;
  // The issues' lines ("error: parallel.mp = 3: ...") that concern `field` ("parallel.mp"), or a field under
  // it
  // ("run.schedules" also takes "run.schedules[2]"), one per line; empty when none.
  QString messagesFor(const QString& field) const;
  // Whether `issueField` concerns `field` (equal, or `field` followed by '.' or '[').
  static bool concerns(const QString& issueField, const QString& field);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  std::vector<ConfigIssue> issues_;
};

}  // namespace parm::app
