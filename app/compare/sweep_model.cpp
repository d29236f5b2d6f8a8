#include "app/compare/sweep_model.h"

#include <QFile>
#include <algorithm>
#include <exception>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "db/database.h"
#include "engine/core/config.h"
#include "engine/core/config_json.h"
#include "engine/core/json_input.h"

namespace parm::app {
namespace {

QStringList allSchedules() {
  QStringList out;
  for (ScheduleKind k : all_schedules()) out << QString::fromStdString(std::string(to_string(k)));
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

QMap<QString, double> paramsOf(const Config& c) {
  return {{QStringLiteral("batch"), double(c.layer.batch)},
          {QStringLiteral("seq_len"), double(c.layer.seq_len)},
          {QStringLiteral("hidden"), double(c.layer.hidden)},
          {QStringLiteral("ffn_hidden"), double(c.layer.ffn_hidden)},
          {QStringLiteral("num_experts"), double(c.layer.num_experts)},
          {QStringLiteral("top_k"), double(c.layer.top_k)},
          {QStringLiteral("capacity_factor"), c.layer.capacity_factor},
          {QStringLiteral("ranks"), double(c.parallel.ranks)},
          {QStringLiteral("mp"), double(c.parallel.mp)},
          {QStringLiteral("ep"), double(c.parallel.ep())},
          {QStringLiteral("esp"), double(c.parallel.esp)}};
}

// Parameter columns in a stable, meaningful order (the sweep CSV's), then any others by name.
const QStringList kParamOrder = {QStringLiteral("batch"),
                                 QStringLiteral("seq_len"),
                                 QStringLiteral("hidden"),
                                 QStringLiteral("ffn_hidden"),
                                 QStringLiteral("num_experts"),
                                 QStringLiteral("top_k"),
                                 QStringLiteral("capacity_factor"),
                                 QStringLiteral("ranks"),
                                 QStringLiteral("mp"),
                                 QStringLiteral("ep"),
                                 QStringLiteral("esp")};

}  // namespace

SweepModel::SweepModel(QObject* parent) : QAbstractTableModel(parent) {
  rebuildColumns();
}

QString SweepModel::loadSweepCsv(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    clear();
    return tr("%1: cannot read (%2)").arg(path, f.errorString());
  }
  return loadSweepCsvText(f.readAll(), path);
}

QString SweepModel::loadSweepCsvText(const QByteArray& text, const QString& what) {
  // The format of `parm sweep --out`: index, the layer parameters, <schedule>_ms..., chosen, speedup_vs_B_DS,
  // parm_best, speedup_vs_parm_best.
  const QList<QByteArray> lines = text.split('\n');
  if (lines.isEmpty() || !lines.front().startsWith("index,")) {
    clear();
    return tr("%1: not a parm sweep CSV (no 'index,' header)").arg(what);
  }
  const QList<QByteArray> header = lines.front().trimmed().split(',');
  const int chosenCol = int(header.indexOf("chosen"));
  const int speedupCol = int(header.indexOf("speedup_vs_B_DS"));
  if (chosenCol < 0 || speedupCol < 0) {
    clear();
    return tr("%1: not a parm sweep CSV (no chosen / speedup_vs_B_DS column)").arg(what);
  }
  std::vector<SweepRow> rows;
  for (int li = 1; li < lines.size(); ++li) {
    const QByteArray line = lines[li].trimmed();
    if (line.isEmpty()) continue;
    const QList<QByteArray> f = line.split(',');
    if (f.size() != header.size()) {
      clear();
      return tr("%1: line %2 has %3 fields, the header %4")
          .arg(what)
          .arg(li + 1)
          .arg(f.size())
          .arg(header.size());
    }
    SweepRow r;
    for (int c = 0; c < header.size(); ++c) {
      const QString name = QString::fromUtf8(header[c]);
      bool ok = true;
      if (c == 0) {
        r.label = QStringLiteral("#") + QString::fromUtf8(f[c]);
      } else if (c == chosenCol) {
        r.chosen = QString::fromUtf8(f[c]);
      } else if (c == speedupCol) {
        r.speedup = f[c].toDouble(&ok);
      } else if (name == QLatin1String("parm_best") || name == QLatin1String("speedup_vs_parm_best")) {
        continue;  // issue 19's comparison with Parm's best: the heat map shows the speedup vs B_DS
      } else if (name.endsWith(QLatin1String("_ms"))) {
        r.predicted[name.chopped(3)] = f[c].toDouble(&ok);
      } else {
        r.params[name] = f[c].toDouble(&ok);
      }
      if (!ok) {
        clear();
        return tr("%1: line %2: '%3' is not a number").arg(what).arg(li + 1).arg(QString::fromUtf8(f[c]));
      }
    }
    rows.push_back(std::move(r));
  }
  setRows(std::move(rows));
  return {};
}

QString SweepModel::loadValidationRun(const QString& dbPath, qint64 runId) {
  try {
    const auto db = db::Database::open(dbPath.toStdString(), false);
    const auto run = db.run(runId);
    if (!run) throw db::DbError(db.path() + ": no run " + std::to_string(runId));
    if (run->kind != "validation")
      throw db::DbError("run " + std::to_string(runId) + " is a " + run->kind + " run, not a validation");
    // Through the engine's reader: a damaged report is one line naming the run, not a library exception.
    const JsonDocument doc = parse_json_text(run->result_json, "run " + std::to_string(runId) + " report");
    if (!doc.ok()) throw db::DbError(doc.error);
    const nlohmann::json& report = *doc.value;
    std::vector<SweepRow> rows;
    for (const auto& layer : report.at("layers")) {
      SweepRow r;
      r.label = QString::fromStdString(layer.value("config", std::string()));
      r.chosen = QString::fromStdString(layer.value("predicted_best", std::string()));
      r.measuredBest = QString::fromStdString(layer.value("measured_best", std::string()));
      for (const auto& s : layer.at("schedules")) {
        const QString name = QString::fromStdString(s.at("schedule").get<std::string>());
        r.predicted[name] = s.value("predicted_ms", 0.0);
        r.measured[name] = s.value("measured_ms", 0.0);
      }
      const double mine = r.predicted.value(r.chosen);
      r.speedup = mine > 0 ? r.predicted.value(QString::fromUtf8(to_string(kSpeedupBaseline))) / mine : 0.0;
      // The parameters: the measured run's configuration (the report keeps only a label).
      if (layer.contains("measured_run"))
        if (const auto m = db.run(layer["measured_run"].get<std::int64_t>()))
          if (const ConfigLoad load = config_from_json_text(m->config_json); load.config)
            r.params = paramsOf(*load.config);
      rows.push_back(std::move(r));
    }
    setRows(std::move(rows));
    return {};
  } catch (const std::exception& e) {
    clear();
    return QString::fromStdString(e.what()).replace(QLatin1Char('\n'), QLatin1Char(' '));
  }
}

void SweepModel::setRows(std::vector<SweepRow> rows) {
  beginResetModel();
  rows_ = std::move(rows);
  rebuildColumns();
  endResetModel();
}

void SweepModel::clear() {
  setRows({});
}

QStringList SweepModel::params() const {
  std::set<QString> names;
  for (const auto& r : rows_)
    for (auto it = r.params.begin(); it != r.params.end(); ++it) names.insert(it.key());
  QStringList out;
  for (const QString& p : kParamOrder)
    if (names.erase(p)) out << p;
  for (const QString& p : names) out << p;
  return out;
}

QStringList SweepModel::variedParams() const {
  QStringList out;
  for (const QString& p : params())
    if (paramValues(p).size() > 1) out << p;
  return out;
}

QList<double> SweepModel::paramValues(const QString& param) const {
  std::set<double> values;
  for (const auto& r : rows_)
    if (r.params.contains(param)) values.insert(r.params.value(param));
  return QList<double>(values.begin(), values.end());
}

QStringList SweepModel::schedules() const {
  std::set<QString> names;
  for (const auto& r : rows_)
    for (auto it = r.predicted.begin(); it != r.predicted.end(); ++it) names.insert(it.key());
  QStringList out;
  for (const QString& s : allSchedules())
    if (names.erase(s)) out << s;
  for (const QString& s : names) out << s;
  return out;
}

bool SweepModel::hasMeasured() const {
  return std::any_of(rows_.begin(), rows_.end(), [](const SweepRow& r) { return !r.measured.isEmpty(); });
}

HeatMap SweepModel::heatMap(const QString& xParam, const QString& yParam,
                            const QMap<QString, double>& fixed) const {
  HeatMap m;
  m.xParam = xParam;
  m.yParam = yParam;
  m.xs = paramValues(xParam);
  m.ys = paramValues(yParam);
  m.cells.assign(std::size_t(m.ys.size()), std::vector<HeatCell>(std::size_t(m.xs.size())));
  // cell -> schedule -> speedups of the rows choosing it
  std::map<std::pair<qsizetype, qsizetype>, std::map<QString, std::vector<double>>> votes;
  for (const SweepRow& r : rows_) {
    if (!r.params.contains(xParam) || !r.params.contains(yParam)) continue;
    bool keep = true;
    for (auto it = fixed.begin(); it != fixed.end() && keep; ++it)
      keep = r.params.contains(it.key()) && r.params.value(it.key()) == it.value();
    if (!keep) continue;
    const qsizetype xi = m.xs.indexOf(r.params.value(xParam));
    const qsizetype yi = m.ys.indexOf(r.params.value(yParam));
    votes[{yi, xi}][r.chosen].push_back(r.speedup);
  }
  const QStringList order = allSchedules();
  auto rank = [&](const QString& s) {
    const qsizetype i = order.indexOf(s);
    return i < 0 ? order.size() : i;
  };
  for (const auto& [cell, bySchedule] : votes) {
    HeatCell& c = m.cells[std::size_t(cell.first)][std::size_t(cell.second)];
    for (const auto& [schedule, speedups] : bySchedule) {
      const int n = int(speedups.size());
      c.total += n;
      if (n > c.count || (n == c.count && rank(schedule) < rank(c.schedule))) {
        c.count = n;
        c.schedule = schedule;
        c.speedup = median(speedups);
      }
    }
  }
  return m;
}

void SweepModel::rebuildColumns() {
  double largest = 0;
  for (const SweepRow& r : rows_)
    for (const QMap<QString, double>* m : {&r.predicted, &r.measured})
      for (double v : *m) largest = std::max(largest, v);
  const bool micro = largest > 0 && largest < 1;
  timeScale_ = micro ? 1e3 : 1.0;
  timeUnit_ = micro ? QStringLiteral("us") : QStringLiteral("ms");
  cols_.clear();
  cols_.push_back({Kind::Label, {}});
  for (const QString& p : params()) cols_.push_back({Kind::Param, p});
  // Without rows the columns are still there (a table with headers says what would be shown): every schedule.
  const QStringList scheds = rows_.empty() ? allSchedules() : schedules();
  for (const QString& s : scheds) cols_.push_back({Kind::Predicted, s});
  if (hasMeasured())
    for (const QString& s : scheds) cols_.push_back({Kind::Measured, s});
  cols_.push_back({Kind::Chosen, {}});
  if (hasMeasured()) cols_.push_back({Kind::MeasuredBest, {}});
  cols_.push_back({Kind::Speedup, {}});
}

int SweepModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(rows_.size());
}

int SweepModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(cols_.size());
}

QVariant SweepModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const SweepRow& r = rows_[std::size_t(index.row())];
  const Col& c = cols_[std::size_t(index.column())];
  if (role == Qt::TextAlignmentRole)
    return c.kind == Kind::Label || c.kind == Kind::Chosen || c.kind == Kind::MeasuredBest
               ? QVariant()
               : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
  if (role != Qt::DisplayRole && role != ValueRole) return {};
  auto num = [&](const QMap<QString, double>& map) -> QVariant {
    if (!map.contains(c.key)) return {};
    return role == ValueRole ? QVariant(map.value(c.key))
                             : QVariant(QString::number(map.value(c.key), 'g', 6));
  };
  auto time = [&](const QMap<QString, double>& map) -> QVariant {
    if (!map.contains(c.key)) return role == ValueRole ? QVariant() : QVariant(QStringLiteral("-"));
    return role == ValueRole ? QVariant(map.value(c.key))
                             : QVariant(QString::number(map.value(c.key) * timeScale_, 'f', 3));
  };
  switch (c.kind) {
    case Kind::Label:
      return r.label;
    case Kind::Param:
      return num(r.params);
    case Kind::Predicted:
      return time(r.predicted);
    case Kind::Measured:
      return time(r.measured);
    case Kind::Chosen:
      return r.chosen;
    case Kind::MeasuredBest:
      return r.measuredBest;
    case Kind::Speedup:
      return role == ValueRole ? QVariant(r.speedup)
                               : QVariant(QString::number(r.speedup, 'f', 3) + QLatin1Char('x'));
  }
  return {};
}

QVariant SweepModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 || section >= int(cols_.size()))
    return {};
  const Col& c = cols_[std::size_t(section)];
  switch (c.kind) {
    case Kind::Label:
      return tr("Config");
    case Kind::Param:
      return c.key;
    case Kind::Predicted:
      return tr("%1 predicted %2").arg(c.key, timeUnit_);
    case Kind::Measured:
      return tr("%1 measured %2").arg(c.key, timeUnit_);
    case Kind::Chosen:
      return tr("Chosen");
    case Kind::MeasuredBest:
      return tr("Measured best");
    case Kind::Speedup:
      return tr("Speedup vs B_DS");
  }
  return {};
}

}  // namespace parm::app
