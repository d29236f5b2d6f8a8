#include "app/models/collective_volumes_model.h"

#include <QLocale>

#include "engine/core/sizes.h"

namespace parm::app {

namespace {

QString qs(std::string_view s) {
  return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

}  // namespace

void CollectiveVolumesModel::setConfig(const std::optional<Config>& config) {
  std::vector<Row> rows;
  if (config) {
    const DerivedSizes sizes = derive_sizes(*config);
    for (ScheduleKind s : config->run.schedules)
      for (CollectiveVolume& v : schedule_volumes(*config, sizes, s)) rows.push_back({s, std::move(v)});
  }
  beginResetModel();
  rows_ = std::move(rows);
  endResetModel();
}

qint64 CollectiveVolumesModel::totalBytes(const QString& schedule) const {
  qint64 total = -1;
  for (const Row& r : rows_)
    if (qs(to_string(r.schedule)) == schedule) total = (total < 0 ? 0 : total) + r.volume.bytes;
  return total;
}

int CollectiveVolumesModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int CollectiveVolumesModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : NUM_COLUMNS;
}

QVariant CollectiveVolumesModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Row& r = rows_[static_cast<std::size_t>(index.row())];
  const CollectiveVolume& v = r.volume;
  const int column = index.column();
  switch (role) {
    case Qt::DisplayRole:
      switch (column) {
        case ScheduleColumn:
          return qs(to_string(r.schedule));
        case PassColumn:
          return qs(to_string(v.pass));
        case CollectiveColumn:
          return v.fused.empty() ? qs(to_string(v.collective))
                                 : QStringLiteral("%1/%2").arg(qs(v.fused), qs(to_string(v.collective)));
        case GroupColumn:
          return QStringLiteral("%1 (%2)").arg(qs(to_string(v.group))).arg(v.group_size);
        case PurposeColumn:
          return qs(v.purpose);
        case BytesColumn:
          return QLocale::c().toString(static_cast<qlonglong>(v.bytes));
        case WireBytesColumn:
          return QLocale::c().toString(v.wire_bytes, 'f', 0);
      }
      return {};
    case Qt::TextAlignmentRole:
      return column == BytesColumn || column == WireBytesColumn
                 ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter))
                 : QVariant();
    case Qt::ToolTipRole:
      return tr("%1 elements in a group of %2; %3 bytes on the wire per GPU")
          .arg(v.elements)
          .arg(v.group_size)
          .arg(v.wire_bytes, 0, 'f', 0);
    case RawValueRole:
      if (column == BytesColumn) return QVariant::fromValue<qlonglong>(v.bytes);
      if (column == WireBytesColumn) return v.wire_bytes;
      return {};
  }
  return {};
}

QVariant CollectiveVolumesModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case ScheduleColumn:
      return tr("Schedule");
    case PassColumn:
      return tr("Pass");
    case CollectiveColumn:
      return tr("Collective");
    case GroupColumn:
      return tr("Group");
    case PurposeColumn:
      return tr("Purpose");
    case BytesColumn:
      return tr("Bytes / GPU");
    case WireBytesColumn:
      return tr("Wire bytes / GPU");
  }
  return {};
}

}  // namespace parm::app
