// `parm predict` and `parm recommend` (`parm sweep`: cli_sweep.cpp): the cost model of spec parm.md section 6
// applied with a calibration file, without MPI or ranks (a 32-GPU layout predicts on a laptop).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "db/database.h"
#include "engine/cli/arg_rules.h"
#include "engine/cli/commands.h"
#include "engine/cli/db_option.h"
#include "engine/cli/model_predict.h"
#include "engine/cli/model_support.h"
#include "engine/core/config_json.h"
#include "engine/core/sizes.h"
#include "engine/model/calibration.h"
#include "engine/model/prediction_store.h"
#include "engine/model/recommendation.h"
#include "engine/model/timeline_model.h"
#include "engine/schedules/schedule_registry.h"

namespace parm::cli {
namespace {

std::string name_of(ScheduleKind k) {
  return std::string(to_string(k));
}

// The recommendation (engine/recommendation.h): every schedule's timeline, the choice and its reason.
using Prediction = Recommendation;

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

}  // namespace

std::string recommendation_reason(const Config& config, const Calibration& calib,
                                  const SelectionSpace& space) {
  return reason(predict_or_exit(config, calib, "parm validate", space));
}

void add_model_commands(CLI::App& app) {
  // predict
  {
    auto* cmd = app.add_subcommand("predict",
                                   "Predict every schedule's forward/backward timeline from a calibration");
    struct Opts {
      std::string config, calibration, db;
      bool json = false, force = false, model = false;
      SelectionSpace space;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("config", o->config, "configuration JSON file or embedded preset name");
    add_calibration_option(cmd, o->calibration);
    cmd->add_option("--db", o->db, "store the predicted intervals as a run of kind 'prediction'")
        ->check(db_path_check("predict"));
    cmd->add_flag(
        "--model", o->model,
        "the whole model's training step (the config's model section) per schedule, and its choice");
    add_selection_options(cmd, o->space);
    cmd->add_flag("--json", o->json, "machine-readable output");
    cmd->add_flag("--force", o->force, "predict even when the calibration's layout differs");
    cmd->callback([o] {
      require_storable_db("predict", o->db);
      const Config config = load_config_or_exit(o->config);
      if (!o->model) note_model_layer(config, "parm predict");
      const Calibration calib = load_calibration_or_exit(o->calibration, o->db, "parm predict");
      check_layout_or_exit(calib, config, o->force, "parm predict");
      if (o->model) {
        // The whole model's step per schedule of run.schedules, each also at the --degrees and --alltoall
        // listed.
        Config widened = config;
        if (o->space.widened()) widened.run.schedules = o->space.widen(config.run.schedules, config.parallel);
        const std::vector<ModelPrediction> predictions =
            predict_model_or_exit(widened, calib, "parm predict");
        if (o->json)
          std::cout << model_prediction_json(config, calib, predictions).dump(2) << '\n';
        else
          print_model_prediction(config, calib, predictions);
        return;
      }
      const Prediction p = predict_or_exit(config, calib, "parm predict", o->space);
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
      SelectionSpace space;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("config", o->config, "configuration JSON file or embedded preset name");
    add_calibration_option(cmd, o->calibration);
    cmd->add_option("--out", o->out, "also write the recommendation to this file")
        ->check(not_a_database_check("recommend", "--out"));
    cmd->add_option("--db", o->db, "project database holding the calibration run of --calibration ID")
        ->check(db_path_check("recommend"));
    cmd->add_flag("--json", o->json, "machine-readable output");
    cmd->add_flag("--force", o->force, "recommend even when the calibration's layout differs");
    add_selection_options(cmd, o->space);
    cmd->callback([o] {
      const Config config = load_config_or_exit(o->config);
      note_model_layer(config, "parm recommend");
      const Calibration calib = load_calibration_or_exit(o->calibration, o->db, "parm recommend");
      check_layout_or_exit(calib, config, o->force, "parm recommend");
      const Prediction p = predict_or_exit(config, calib, "parm recommend", o->space);
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
        if (o->space.widened()) {
          std::snprintf(buf, sizeof buf,
                        "  vs Parm's best (%s): %.2fx; degrees forward/backward apart: %d/%d (%.3f ms)\n",
                        name_of(p.parm_best).c_str(), p.speedup_vs_parm(p.chosen),
                        p.best_degree(Direction::Forward), p.best_degree(Direction::Backward),
                        p.separate_degrees_ms());
          os << buf;
        }
        text = os.str();
      }
      std::cout << text;
      if (!o->out.empty()) write_out(o->out, text);
    });
  }
  add_sweep_command(app);
}

}  // namespace parm::cli
