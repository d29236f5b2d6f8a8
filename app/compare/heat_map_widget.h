// Paints a HeatMap: one cell per (x, y) value pair, filled with the chosen schedule's colour, with the
// schedule and its speedup vs B_DS as text (and "n/m" when an aggregated cell's rows disagree).
#pragma once

#include <QWidget>

#include "app/compare/sweep_model.h"

namespace parm::app {

class HeatMapWidget : public QWidget {
  Q_OBJECT

 public:
  explicit HeatMapWidget(QWidget* parent = nullptr);
  void setHeatMap(const HeatMap& map);
  const HeatMap& heatMap() const { return map_; }
  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;  // tooltips per cell

 private:
  QRect plotRect() const;
  bool cellAt(QPoint p, int* xi, int* yi) const;
  HeatMap map_;
};

}  // namespace parm::app
