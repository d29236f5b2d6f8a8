#include "app/compare/model_blocks_model.h"

namespace parm::app {

ModelBlocksModel::ModelBlocksModel(QObject* parent) : QAbstractItemModel(parent) {}

void ModelBlocksModel::setBlocks(std::vector<parm::ModelBlockTimes> blocks, QStringList schedules) {
  beginResetModel();
  blocks_ = std::move(blocks);
  schedules_ = std::move(schedules);
  endResetModel();
}

void ModelBlocksModel::clear() {
  setBlocks({}, {});
}

QModelIndex ModelBlocksModel::index(int row, int column, const QModelIndex& parent) const {
  if (!hasIndex(row, column, parent)) return {};
  if (!parent.isValid()) return createIndex(row, column, quintptr(0));
  return createIndex(row, column, quintptr(parent.row() + 1));
}

QModelIndex ModelBlocksModel::parent(const QModelIndex& child) const {
  if (!child.isValid() || child.internalId() == 0) return {};
  return createIndex(int(child.internalId() - 1), 0, quintptr(0));
}

int ModelBlocksModel::rowCount(const QModelIndex& parent) const {
  if (!parent.isValid()) return int(blocks_.size());
  if (parent.internalId() != 0 || parent.column() != 0) return 0;  // parts have no children
  return int(blocks_[std::size_t(parent.row())].parts.size());
}

int ModelBlocksModel::columnCount(const QModelIndex&) const {
  return 1 + int(schedules_.size());
}

const std::map<std::string, double>* ModelBlocksModel::times(const QModelIndex& index) const {
  if (index.internalId() == 0) return &blocks_[std::size_t(index.row())].ms;
  return &blocks_[std::size_t(index.internalId() - 1)].parts[std::size_t(index.row())].ms;
}

QVariant ModelBlocksModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
  const bool block = index.internalId() == 0;
  if (index.column() == 0) {
    if (role != Qt::DisplayRole) return {};
    const std::string& name =
        block ? blocks_[std::size_t(index.row())].block
              : blocks_[std::size_t(index.internalId() - 1)].parts[std::size_t(index.row())].part;
    return QString::fromStdString(name);
  }
  const auto* ms = times(index);
  const auto it = ms->find(schedules_[index.column() - 1].toStdString());
  if (role == ValueRole) return it == ms->end() ? QVariant() : QVariant(it->second);
  if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role != Qt::DisplayRole) return {};
  return it == ms->end() ? QStringLiteral("-") : QString::number(it->second, 'f', 3);
}

QVariant ModelBlocksModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  if (section == 0) return tr("Block / part");
  if (section - 1 < schedules_.size()) return tr("%1 ms").arg(schedules_[section - 1]);
  return {};
}

}  // namespace parm::app
