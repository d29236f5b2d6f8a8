// Rows of a sweep: one per layer configuration, its parameters (grid axes), every schedule's predicted layer
// ms, the measured ms when the rows come from a validation run, the chosen schedule and its speedup vs B_DS.
// Loaded from the CSV `parm sweep --out` writes (predictions) or from a validation run's report (predicted
// and measured, parameters from each measured run's configuration). Also the heat map of the chosen schedule
// over two parameters.
#pragma once

#include <QAbstractTableModel>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>
#include <vector>

namespace parm::app {

struct SweepRow {
  QString label;  // "#index" of the sweep, or the validation report's config label
  QMap<QString, double>
      params;  // batch, seq_len, hidden, ffn_hidden, num_experts, top_k, capacity_factor, ...
  QMap<QString, double> predicted;  // schedule -> predicted layer ms
  QMap<QString, double> measured;   // schedule -> measured layer ms (validation rows only)
  QString chosen;                   // predicted best
  QString measuredBest;             // validation rows only
  double speedup = 0;               // predicted B_DS / predicted chosen
};

// One cell: the schedule chosen most often among the rows matching it (ties: registry order), how many
// of them chose it, and the median speedup vs B_DS of those rows.
struct HeatCell {
  QString schedule;
  double speedup = 0;
  int count = 0;
  int total = 0;  // rows in the cell; 0 = empty cell
};

struct HeatMap {
  QString xParam, yParam;
  QList<double> xs, ys;                      // distinct values, ascending
  std::vector<std::vector<HeatCell>> cells;  // [y][x]
};

class SweepModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  static constexpr int ValueRole = Qt::UserRole;  // raw number (double, layer times in ms) where numeric

  explicit SweepModel(QObject* parent = nullptr);

  // Each returns the one-line error (rows cleared) or empty on success.
  QString loadSweepCsv(const QString& path);
  QString loadSweepCsvText(const QByteArray& text, const QString& what = QStringLiteral("sweep CSV"));
  QString loadValidationRun(const QString& dbPath, qint64 runId);
  void setRows(std::vector<SweepRow> rows);
  void clear();
  const std::vector<SweepRow>& rows() const { return rows_; }

  QStringList params() const;                             // every parameter the rows carry, in column order
  QStringList variedParams() const;                       // those with more than one value
  QList<double> paramValues(const QString& param) const;  // distinct, ascending
  QStringList schedules() const;                          // predicted columns, registry order
  bool hasMeasured() const;

  // The chosen schedule over (x, y). Parameters in `fixed` keep only rows with that value; every other
  // parameter is aggregated (most frequent choice per cell).
  HeatMap heatMap(const QString& xParam, const QString& yParam,
                  const QMap<QString, double>& fixed = {}) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  enum class Kind { Label, Param, Predicted, Measured, Chosen, MeasuredBest, Speedup };
  struct Col {
    Kind kind;
    QString key;
  };
  void rebuildColumns();

  std::vector<SweepRow> rows_;
  std::vector<Col> cols_;
  // Layer times read in ms, or in us when every one is under 1 ms (a microbenchmark-sized layer).
  double timeScale_ = 1;
  QString timeUnit_ = QStringLiteral("ms");
};

}  // namespace parm::app
