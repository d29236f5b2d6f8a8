#include "engine/calibrate/report.h"

#include <cstdio>
#include <ctime>
#include <string>

namespace parm::calibrate {
namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

void write_table_header(std::ostream& table, const Config& config, const CalibrationOptions& options) {
  const ParallelConfig& p = config.parallel;
  const SweepOptions& s = options.sweep;
  char head[512];
  std::snprintf(head, sizeof head,
                "# parm calibrate: config %s, %lld ranks (%lld node%s x %lld), mp %lld esp %lld ep %lld, %s\n"
                "# sizes %lld..%lld B x%g%s, warm-up %d, iterations %d; time = median call of the slowest "
                "rank (host clock, world barrier before each block)\n",
                config.name.c_str(), (long long)p.ranks, (long long)p.nodes(), p.nodes() == 1 ? "" : "s",
                (long long)p.gpus_per_node, (long long)p.mp, (long long)p.esp, (long long)p.ep(),
                options.cluster.empty() ? "local ranks" : ("emulated cluster " + options.cluster).c_str(),
                (long long)s.begin, (long long)s.end, s.factor, s.quick ? " (quick: 3 sizes)" : "", s.warmup,
                s.iters);
  table << head;
}

Calibration make_calibration(const Config& config, const CalibrationOptions& options, double interference,
                             const std::vector<Measurement>& fits) {
  Calibration c;
  c.created_at = utc_now();
  c.id = "calib-" + c.created_at + "-" + config.name;
  c.layout = config.parallel;
  c.dtype = config.layer.dtype;
  c.cluster = options.cluster;
  c.interference = interference;
  for (const Measurement& m : fits) {
    if (!m.fit.fitted) continue;
    c.fits.push_back({m.op, m.communicator, m.group_size, m.fit.line, m.samples, m.shape});
  }
  return c;
}

}  // namespace parm::calibrate
