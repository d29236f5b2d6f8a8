#include "engine/calibrate/measurement.h"

#include <cstdio>

namespace parm::calibrate {
namespace {

std::string fit_text(const Measurement& m) {
  char buf[256];
  if (m.fit.fitted)
    std::snprintf(buf, sizeof buf, "fit: t_ms = %.6g + %.6g * n   (r2 %.4f, %d sizes)%s\n", m.fit.line.alpha,
                  m.fit.line.beta, m.fit.line.r2, m.fit.line.samples,
                  m.fit.through_origin ? "; through the origin (unconstrained alpha < 0)" : "");
  else
    std::snprintf(buf, sizeof buf, "fit: none (fewer than two sizes)\n");
  return buf;
}

}  // namespace

Measurement measurement(std::string op, std::string communicator, int group_size) {
  Measurement m;
  m.op = std::move(op);
  m.communicator = std::move(communicator);
  m.group_size = group_size;
  return m;
}

void write_fit_line(std::ostream& table, const Measurement& m) {
  table << "# " << fit_text(m);
}

void write_named_fit_line(std::ostream& table, const Measurement& m) {
  table << "# " << m.op << ' ' << fit_text(m);
}

const LinearFit* fitted_line(const std::vector<Measurement>& fits, const std::string& op) {
  for (const Measurement& m : fits)
    if (m.op == op && m.fit.fitted) return &m.fit.line;
  return nullptr;
}

}  // namespace parm::calibrate
