#include "app/models/derived_sizes_model.h"

#include <QLocale>

#include "engine/core/rank_memory.h"
#include "engine/core/sizes.h"

namespace parm::app {

void DerivedSizesModel::setConfig(const std::optional<Config>& config) {
  std::vector<Row> rows;
  if (config) {
    const DerivedSizes d = derive_sizes(*config);
    const QString cap = d.dynamic_capacity ? tr(" (estimate: drop_tokens is false)") : QString();
    rows = {
        {QStringLiteral("S"), d.S, tr("tokens per MP group (batch * seq_len)")},
        {QStringLiteral("N_MP"), d.N, tr("model-parallel degree")},
        {QStringLiteral("N_ESP"), d.n_esp, tr("expert-sharding degree")},
        {QStringLiteral("N_EP"), d.n_ep, tr("expert-parallel degree (ranks / mp)")},
        {QStringLiteral("E_loc"), d.local_experts, tr("experts per rank")},
        {QStringLiteral("H_shard"), d.h_shard, tr("ffn columns of each expert on one rank")},
        {QStringLiteral("nodes"), d.nodes, tr("nodes (ranks / gpus_per_node)")},
        {QStringLiteral("C0"), d.C0, tr("capacity of S tokens") + cap},
        {QStringLiteral("C1"), d.C1, tr("capacity of S/N_MP tokens (S1's split)") + cap},
        {QStringLiteral("C2"), d.C2, tr("C0 rounded up to a multiple of N_MP") + cap},
        {QStringLiteral("D0"), d.D0, tr("elements of E*C0*M")},
        {QStringLiteral("D1"), d.D1, tr("elements of E*C1*M")},
        {QStringLiteral("D2"), d.D2, tr("elements of E*C2*M")},
        {QStringLiteral("b"), d.bytes_per_element, tr("bytes per element")},
    };
    // Validated, so the estimate fits 64 bits and this machine's share; shown so the margin is visible.
    if (const auto m = estimate_rank_memory(*config, d))
      rows.push_back(
          {QStringLiteral("mem"), m->total,
           tr("bytes of one rank's buffers at their peak (schedule %1)")
               .arg(QString::fromUtf8(to_string(m->peak_schedule).data(),
                                      static_cast<qsizetype>(to_string(m->peak_schedule).size())))});
  }
  // Same symbols in the same order: only the values change, so views keep their state.
  const bool sameShape = rows.size() == rows_.size() && !rows.empty();
  if (sameShape) {
    rows_ = std::move(rows);
    emit dataChanged(index(0, 0), index(rowCount() - 1, NUM_COLUMNS - 1));
    return;
  }
  beginResetModel();
  rows_ = std::move(rows);
  endResetModel();
}

qint64 DerivedSizesModel::value(const QString& symbol) const {
  for (const Row& r : rows_)
    if (r.symbol == symbol) return r.value;
  return -1;
}

int DerivedSizesModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int DerivedSizesModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : NUM_COLUMNS;
}

QVariant DerivedSizesModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Row& r = rows_[static_cast<std::size_t>(index.row())];
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case SymbolColumn:
          return r.symbol;
        case ValueColumn:
          return QLocale::c().toString(r.value);
        case MeaningColumn:
          return r.meaning;
      }
      return {};
    case Qt::TextAlignmentRole:
      return index.column() == ValueColumn ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter)) : QVariant();
    case RawValueRole:
      return r.value;
  }
  return {};
}

QVariant DerivedSizesModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case SymbolColumn:
      return tr("Size");
    case ValueColumn:
      return tr("Value");
    case MeaningColumn:
      return tr("Meaning");
  }
  return {};
}

}  // namespace parm::app
