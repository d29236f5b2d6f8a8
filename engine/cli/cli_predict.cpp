// `parm predict`, `parm recommend` and `parm sweep`: the cost model of spec parm.md section 6 applied with a
// calibration file, without MPI or ranks (a 32-GPU layout predicts on a laptop).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "db/database.h"
#include "engine/calibration.h"
#include "engine/calibration_source.h"
#include "engine/cli/arg_rules.h"
#include "engine/cli/commands.h"
#include "engine/config_json.h"
#include "engine/prediction_store.h"
#include "engine/recommendation.h"
#include "engine/sizes.h"
#include "engine/timeline_model.h"
#include "engine/validation.h"

namespace parm::cli {
namespace {

std::string name_of(ScheduleKind k) {
  return std::string(to_string(k));
}

Calibration load_calibration_or_exit(const std::string& ref, const std::string& db_path) {
  try {
    return load_calibration_ref(ref, db_path);
  } catch (const std::exception& e) {
    std::cerr << "parm: " << e.what() << '\n';
    throw CLI::RuntimeError(2);
  }
}

void check_layout_or_exit(const Calibration& calib, const Config& config, bool force) {
  if (auto why = calibration_mismatch(calib, config)) {
    if (!force) {
      std::cerr << "parm: " << *why << " (use --force to predict anyway)\n";
      throw CLI::RuntimeError(2);
    }
    std::cerr << "parm: warning: " << *why << " (--force)\n";
  }
}

// The recommendation (engine/recommendation.h): every schedule's timeline, the choice and its reason.
using Prediction = Recommendation;

Prediction predict_or_exit(const Config& config, const Calibration& calib) {
  try {
    return recommend(config, calib);
  } catch (const std::runtime_error& e) {  // a missing fit
    std::cerr << "parm: " << e.what() << '\n';
    throw CLI::RuntimeError(2);
  }
}

std::string reason(const Prediction& p) {
  return parm::recommendation_reason(p);
}

nlohmann::json schedules_json(const Prediction& p) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& t : p.timelines)
    list.push_back({{"schedule", name_of(t.kind)},
                    {"forward_ms", t.forward_ms},
                    {"backward_ms", t.backward_ms},
                    {"total_ms", t.layer_ms},
                    {"forward_comm_ms", t.forward_comm_ms},
                    {"forward_compute_ms", t.forward_compute_ms},
                    {"interference_ms", t.interference_ms},
                    {"speedup_vs_B_DS", p.speedup(t.kind)},
                    {"dominant", t.dominant()}});
  return list;
}

nlohmann::json notes_json(const Prediction& p) {
  std::vector<std::string> notes;
  for (const auto& t : p.timelines)
    for (const auto& n : t.notes)
      if (std::find(notes.begin(), notes.end(), n) == notes.end()) notes.push_back(n);
  return notes;
}

void print_table(std::ostream& os, const Prediction& p, const Calibration& calib) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "config %s: %lld ranks = %lld nodes x %lld, N_MP=%lld N_ESP=%lld N_EP=%lld; calibration %s "
                "(interference x%.3f)\n",
                p.config.name.c_str(), (long long)p.config.parallel.ranks, (long long)p.sizes.nodes,
                (long long)p.config.parallel.gpus_per_node, (long long)p.sizes.N, (long long)p.sizes.n_esp,
                (long long)p.sizes.n_ep, calib.id.c_str(), calib.interference);
  os << buf;
  std::snprintf(buf, sizeof buf, "%-6s %11s %11s %11s %11s %11s %8s  %s\n", "sched", "fwd ms", "bwd ms",
                "total ms", "fwd comm", "interf ms", "vs B_DS", "dominant term");
  os << buf;
  for (const auto& t : p.timelines) {
    std::snprintf(buf, sizeof buf, "%-6s %11.3f %11.3f %11.3f %11.3f %11.3f %7.2fx  %s%s\n",
                  name_of(t.kind).c_str(), t.forward_ms, t.backward_ms, t.layer_ms, t.forward_comm_ms,
                  t.interference_ms, p.speedup(t.kind), t.dominant().c_str(),
                  t.kind == p.chosen ? "  <- chosen" : "");
    os << buf;
  }
  std::snprintf(buf, sizeof buf, "chosen: %s (%.2fx vs B_DS)\n", name_of(p.chosen).c_str(),
                p.speedup(p.chosen));
  os << buf;
  for (const auto& n : notes_json(p)) os << "note: " << n.get<std::string>() << '\n';
}

std::int64_t store_prediction(const std::string& path, const Prediction& p, const Calibration& calib,
                              const nlohmann::json& result) {
  auto db = db::Database::open(path, true);
  db::RunInfo run;
  run.name = p.config.name;
  run.kind = "prediction";
  run.backend = calib.backend;
  run.ranks = static_cast<int>(p.config.parallel.ranks);
  run.config_json = config_to_json(p.config).dump();
  run.result_json = result.dump();
  const std::int64_t id = db.begin_run(run);
  store_predicted_intervals(db, id, p.timelines);
  db.finish_run(id);
  return id;
}

void write_out(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !(out << text)) {
    std::cerr << "parm: cannot write " << path << '\n';
    throw CLI::RuntimeError(1);
  }
}

// ---- sweep ----

struct Grid {
  std::string name;
  Config base;
  std::vector<std::pair<std::string, std::vector<double>>> axes;
};

Grid load_grid_or_exit(const std::string& path) {
  auto fail = [&](const std::string& why) {
    std::cerr << "parm: " << path << ": " << why << '\n';
    throw CLI::RuntimeError(2);
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read the grid file");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::parse_error&) {
    fail("not JSON");
  }
  Grid g;
  g.name = j.value("name", std::string("grid"));
  if (!j.contains("base") || !j["base"].is_object()) fail("missing field 'base' (a configuration)");
  const ConfigLoad load = config_from_json_text(j["base"].dump());
  if (!load.ok()) {
    for (const auto& i : load.issues.items) std::cerr << path << ": base: " << i.line() << '\n';
    throw CLI::RuntimeError(2);
  }
  g.base = *load.config;
  if (!j.contains("axes") || !j["axes"].is_object()) fail("missing field 'axes' (name -> list of values)");
  static const char* known[] = {"batch",      "seq_len",     "hidden", "ffn_ratio",
                                "ffn_hidden", "num_experts", "top_k",  "capacity_factor"};
  for (const auto& [key, values] : j["axes"].items()) {
    if (std::find(std::begin(known), std::end(known), key) == std::end(known))
      fail("unknown axis '" + key + "'");
    if (!values.is_array() || values.empty()) fail("axis '" + key + "' must be a non-empty list of numbers");
    std::vector<double> v;
    for (const auto& x : values) {
      if (!x.is_number()) fail("axis '" + key + "' must be a list of numbers");
      v.push_back(x.get<double>());
    }
    g.axes.emplace_back(key, v);
  }
  return g;
}

void apply_axis(Config& c, const std::string& key, double v) {
  const auto i = static_cast<std::int64_t>(v);
  if (key == "batch")
    c.layer.batch = i;
  else if (key == "seq_len")
    c.layer.seq_len = i;
  else if (key == "hidden")
    c.layer.hidden = i;
  else if (key == "ffn_hidden")
    c.layer.ffn_hidden = i;
  else if (key == "num_experts")
    c.layer.num_experts = i;
  else if (key == "top_k")
    c.layer.top_k = i;
  else if (key == "capacity_factor")
    c.layer.capacity_factor = v;
}

std::vector<Config> expand(const Grid& g) {
  // ffn_ratio (H = ratio * M) is applied last, so the order of the axes does not matter.
  std::vector<std::pair<Config, double>> out{{g.base, 0.0}};
  for (const auto& [key, values] : g.axes) {
    std::vector<std::pair<Config, double>> next;
    next.reserve(out.size() * values.size());
    for (const auto& [c, ratio] : out)
      for (double v : values) {
        Config x = c;
        if (key == "ffn_ratio")
          next.emplace_back(x, v);
        else {
          apply_axis(x, key, v);
          next.emplace_back(x, ratio);
        }
      }
    out = std::move(next);
  }
  std::vector<Config> configs;
  configs.reserve(out.size());
  for (auto& [c, ratio] : out) {
    if (ratio > 0)
      c.layer.ffn_hidden = static_cast<std::int64_t>(ratio * static_cast<double>(c.layer.hidden));
    configs.push_back(c);
  }
  return configs;
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

bool is_grid_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    return j.is_object() && j.contains("axes") && j.contains("base");
  } catch (const nlohmann::json::parse_error&) {
    return false;
  }
}

std::vector<Config> load_grid_configs_or_exit(const std::string& path) {
  return expand(load_grid_or_exit(path));
}

std::string recommendation_reason(const Config& config, const Calibration& calib) {
  return reason(predict_or_exit(config, calib));
}

void add_model_commands(CLI::App& app) {
  // predict
  {
    auto* cmd = app.add_subcommand("predict",
                                   "Predict every schedule's forward/backward timeline from a calibration");
    struct Opts {
      std::string config, calibration, db;
      bool json = false, force = false;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("config", o->config, "configuration JSON file or embedded preset name");
    cmd->add_option("--calibration", o->calibration,
                    "calibration: JSON file, or a calibration run of a project (ID with --db, "
                    "PROJECT.sqlite#ID, PROJECT.sqlite)")
        ->required();
    cmd->add_option("--db", o->db, "store the predicted intervals as a run of kind 'prediction'");
    cmd->add_flag("--json", o->json, "machine-readable output");
    cmd->add_flag("--force", o->force, "predict even when the calibration's layout differs");
    cmd->callback([o] {
      const Config config = load_config_or_exit(o->config);
      const Calibration calib = load_calibration_or_exit(o->calibration, o->db);
      check_layout_or_exit(calib, config, o->force);
      const Prediction p = predict_or_exit(config, calib);
      nlohmann::json out{{"config", config.name},
                         {"calibration", calib.id},
                         {"interference", calib.interference},
                         {"schedules", schedules_json(p)},
                         {"chosen", name_of(p.chosen)},
                         {"speedup_vs_B_DS", p.speedup(p.chosen)},
                         {"dominant", p.of(p.chosen).dominant()},
                         {"notes", notes_json(p)}};
      if (!o->db.empty()) {
        try {
          out["run"] = store_prediction(o->db, p, calib, out);
        } catch (const std::exception& e) {
          std::cerr << "parm: " << e.what() << '\n';
          throw CLI::RuntimeError(1);
        }
      }
      if (o->json) {
        std::cout << out.dump(2) << '\n';
        return;
      }
      print_table(std::cout, p, calib);
      if (out.contains("run")) std::cout << "stored as run " << out["run"] << " in " << o->db << '\n';
    });
  }
  // recommend
  {
    auto* cmd =
        app.add_subcommand("recommend", "Recommend a schedule per layer configuration, with the reason");
    struct Opts {
      std::string config, calibration, out, db;
      bool json = false, force = false;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("config", o->config, "configuration JSON file or embedded preset name");
    cmd->add_option("--calibration", o->calibration,
                    "calibration: JSON file, or a calibration run of a project (ID with --db, "
                    "PROJECT.sqlite#ID, PROJECT.sqlite)")
        ->required();
    cmd->add_option("--out", o->out, "also write the recommendation to this file");
    cmd->add_option("--db", o->db, "project database holding the calibration run of --calibration ID");
    cmd->add_flag("--json", o->json, "machine-readable output");
    cmd->add_flag("--force", o->force, "recommend even when the calibration's layout differs");
    cmd->callback([o] {
      const Config config = load_config_or_exit(o->config);
      const Calibration calib = load_calibration_or_exit(o->calibration, o->db);
      check_layout_or_exit(calib, config, o->force);
      const Prediction p = predict_or_exit(config, calib);
      const nlohmann::json out = recommendation_json(p, calib);
      std::string text;
      if (o->json) {
        text = out.dump(2) + "\n";
      } else {
        std::ostringstream os;
        os << "layer " << config.name << ": " << name_of(p.chosen) << '\n';
        char buf[128];
        for (const auto& t : p.timelines) {
          std::snprintf(buf, sizeof buf, "  %-6s %11.3f ms  %5.2fx vs B_DS%s\n", name_of(t.kind).c_str(),
                        t.layer_ms, p.speedup(t.kind), t.kind == p.chosen ? "  <- chosen" : "");
          os << buf;
        }
        os << "  reason: " << reason(p) << '\n';
        text = os.str();
      }
      std::cout << text;
      if (!o->out.empty()) write_out(o->out, text);
    });
  }
  // sweep
  {
    auto* cmd = app.add_subcommand("sweep", "Predict every schedule over a grid of layer configurations");
    struct Opts {
      std::string grid, calibration, out, db;
      bool json = false, force = false;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("--grid", o->grid, "grid JSON file (base configuration + axes)")->required();
    cmd->add_option("--calibration", o->calibration,
                    "calibration: JSON file, or a calibration run of a project (ID with --db, "
                    "PROJECT.sqlite#ID, PROJECT.sqlite)")
        ->required();
    cmd->add_option("--out", o->out, "write one CSV row per configuration");
    cmd->add_option("--db", o->db, "project database holding the calibration run of --calibration ID");
    cmd->add_flag("--json", o->json, "machine-readable summary");
    cmd->add_flag("--force", o->force, "sweep even when the calibration's layout differs");
    cmd->callback([o] {
      const auto t0 = std::chrono::steady_clock::now();
      const Grid grid = load_grid_or_exit(o->grid);
      const Calibration calib = load_calibration_or_exit(o->calibration, o->db);
      check_layout_or_exit(calib, grid.base, o->force);
      const std::vector<Config> configs = expand(grid);
      std::vector<double> speedups;
      std::map<std::string, int> chosen;
      for (ScheduleKind k : kAllSchedules) chosen[name_of(k)] = 0;
      std::ostringstream csv;
      csv << "index,batch,seq_len,hidden,ffn_hidden,num_experts,top_k,capacity_factor";
      for (ScheduleKind k : kAllSchedules) csv << ',' << name_of(k) << "_ms";
      csv << ",chosen,speedup_vs_B_DS\n";
      int invalid = 0;
      for (std::size_t i = 0; i < configs.size(); ++i) {
        const Config& c = configs[i];
        if (validate(c).has_errors()) {
          ++invalid;
          continue;
        }
        const Prediction p = predict_or_exit(c, calib);
        speedups.push_back(p.speedup(p.chosen));
        ++chosen[name_of(p.chosen)];
        csv << i << ',' << c.layer.batch << ',' << c.layer.seq_len << ',' << c.layer.hidden << ','
            << c.layer.ffn_hidden << ',' << c.layer.num_experts << ',' << c.layer.top_k << ','
            << c.layer.capacity_factor;
        for (const auto& t : p.timelines) csv << ',' << t.layer_ms;
        csv << ',' << name_of(p.chosen) << ',' << p.speedup(p.chosen) << '\n';
      }
      if (!o->out.empty()) write_out(o->out, csv.str());
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const nlohmann::json summary{{"grid", grid.name},
                                   {"calibration", calib.id},
                                   {"configurations", configs.size()},
                                   {"predicted", speedups.size()},
                                   {"invalid", invalid},
                                   {"speedup_vs_B_DS",
                                    {{"min", quantile(speedups, 0)},
                                     {"median", quantile(speedups, 0.5)},
                                     {"max", quantile(speedups, 1)}}},
                                   {"chosen", chosen},
                                   {"elapsed_s", elapsed}};
      if (o->json) {
        std::cout << summary.dump(2) << '\n';
        return;
      }
      std::printf("grid %s: %zu configurations x %zu schedules predicted (%d invalid skipped)\n",
                  grid.name.c_str(), configs.size(), std::size(kAllSchedules), invalid);
      std::printf("speedup of the chosen schedule vs B_DS: min %.3fx  median %.3fx  max %.3fx\n",
                  quantile(speedups, 0), quantile(speedups, 0.5), quantile(speedups, 1));
      std::printf("chosen:");
      for (ScheduleKind k : kAllSchedules) std::printf(" %s %d", name_of(k).c_str(), chosen[name_of(k)]);
      std::printf("\nelapsed %.3f s\n", elapsed);
    });
  }
}

}  // namespace parm::cli
