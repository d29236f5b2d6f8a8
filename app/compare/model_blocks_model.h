// A whole-model run's blocks (engine/model/model_blocks.h) as a two-level tree for the Compare page: one
// collapsible row per embedding, Transformer block, head and gradient sync, its parts as children; a column
// per schedule with the measured ms per step (the slowest rank's busy time, forward and backward summed).
// Empty for a layer run.
#pragma once

#include <QAbstractItemModel>
#include <QStringList>

#include "engine/model/model_blocks.h"

namespace parm::app {

class ModelBlocksModel : public QAbstractItemModel {
  Q_OBJECT

 public:
  static constexpr int ValueRole = Qt::UserRole;  // the ms as a double (sorting, tests)

  explicit ModelBlocksModel(QObject* parent = nullptr);

  // `schedules` in the order the columns show them (the run's); schedules a row lacks show "-".
  void setBlocks(std::vector<parm::ModelBlockTimes> blocks, QStringList schedules);
  void clear();
  bool empty() const { return blocks_.empty(); }

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  // internalId: 0 for a block row, 1 + the block's row for a part row.
  const std::map<std::string, double>* times(const QModelIndex& index) const;

  std::vector<parm::ModelBlockTimes> blocks_;
  QStringList schedules_;
};

}  // namespace parm::app
