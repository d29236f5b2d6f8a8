// Two runs before/after (engine/model/run_diff.h) as a table: one row per schedule (Rows::Schedules) or per
// (schedule, phase, op, purpose) (Rows::Ops), with the before and after medians, their p10-p90 spread, the
// change and the verdict of the one noise rule. Faster rows carry Tone::Normal, slower ones Tone::Warning.
#pragma once

#include <QAbstractTableModel>

#include "engine/model/run_diff.h"

namespace parm::app {

class RunDiffModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum class Rows { Schedules, Ops };
  enum Column { Schedule, Phase, Op, Purpose, Before, After, Change, Verdict, ColumnCount };
  static constexpr int ValueRole = Qt::UserRole;  // before/after p50 (ms), change (%): raw doubles

  explicit RunDiffModel(Rows rows, QObject* parent = nullptr);

  void setDiff(const parm::RunDiff& diff);
  void clear();
  const std::vector<parm::DiffRow>& diffRows() const { return rows_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  Rows kind_;
  std::vector<parm::DiffRow> rows_;
};

}  // namespace parm::app
