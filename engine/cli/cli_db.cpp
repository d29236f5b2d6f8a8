// `parm runs`, `parm show`, `parm export` (perfetto, csv, nsys), `parm import-nsys` and `parm merge`: read
// and convert the runs stored in a project database (db/). Bad input (missing file or run, corrupt or foreign
// file, bad format) exits 2 with one line.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

#include "db/database.h"
#include "db/exporters.h"
#include "db/file_probe.h"
#include "db/gpu_activity.h"
#include "db/run_copy.h"
#include "engine/cli/arg_rules.h"
#include "engine/cli/commands.h"
#include "engine/cli/db_option.h"
#include "engine/cli/show_verdict.h"
#include "engine/cli/stored_reports.h"
#include "engine/cli/summary_table.h"
#include "engine/core/run_result.h"

namespace parm::cli {
namespace {

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

[[noreturn]] void refuse(const std::string& command, const std::string& line, int code = 2) {
  std::cerr << "parm " << command << ": " << line << '\n';
  throw CLI::RuntimeError(code);
}

db::Database open_or_refuse(const std::string& command, const std::string& path, bool create) {
  try {
    return db::Database::open(path, create);
  } catch (const db::DbError& e) {
    refuse(command, e.what());
  }
}

db::RunInfo run_or_refuse(const std::string& command, const db::Database& d, std::int64_t id) {
  std::optional<db::RunInfo> run = d.run(id);
  if (!run)
    refuse(command, d.path() + ": no run " + std::to_string(id) + " (see `parm runs --db " + d.path() + "`)");
  return *run;
}

void add_runs(CLI::App& app) {
  auto* cmd = app.add_subcommand("runs", "List the runs stored in a project database");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("--db", *path, "project database file")->required()->check(db_path_check("runs"));
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->callback([path, json] {
    const db::Database d = open_or_refuse("runs", *path, false);
    nlohmann::json rows = nlohmann::json::array();
    if (!*json)
      std::printf("%5s  %-20s %-12s %5s %-10s %-20s %10s\n", "id", "name", "kind", "ranks", "status",
                  "started_at", "events");
    for (const db::RunInfo& r : d.runs()) {
      const std::int64_t events = d.event_count(r.id);
      if (*json)
        rows.push_back({{"id", r.id},
                        {"name", r.name},
                        {"kind", r.kind},
                        {"backend", r.backend},
                        {"ranks", r.ranks},
                        {"complete", r.complete},
                        {"started_at", r.started_at},
                        {"events", events}});
      else
        std::printf("%5lld  %-20s %-12s %5d %-10s %-20s %10lld\n", (long long)r.id, r.name.c_str(),
                    r.kind.c_str(), r.ranks, r.complete ? "complete" : "incomplete", r.started_at.c_str(),
                    (long long)events);
    }
    if (*json) std::cout << nlohmann::json{{"db", *path}, {"runs", rows}}.dump(2) << '\n';
  });
}

nlohmann::json gpu_json(const db::GpuSummary& gpu) {
  return {{"kernels", gpu.kernels},
          {"memcpys", gpu.memcpys},
          {"memsets", gpu.memsets},
          {"dropped_records", gpu.dropped_records},
          {"captured_ranks", gpu.captured_ranks},
          {"unavailable_ranks", gpu.unavailable_ranks},
          {"status", gpu.first_status}};
}

void add_show(CLI::App& app) {
  auto* cmd = app.add_subcommand("show", "Print the per-schedule summary of a stored run again");
  auto path = std::make_shared<std::string>();
  auto id = std::make_shared<std::int64_t>(0);
  auto json = std::make_shared<bool>(false);
  auto verdict = std::make_shared<bool>(false);
  cmd->add_option("--db", *path, "project database file")->required()->check(db_path_check("show"));
  cmd->add_option("--run", *id, "run id (see `parm runs`)")->required()->check(integer_in(1, kMaxId));
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->add_flag(
      "--verdict", *verdict,
      "only the verdict: measured best within noise, its speedup over B_DS with the p10-p90 spread, "
      "the predicted best and what it is for (a validation run: of the run it measured)");
  cmd->callback([path, id, json, verdict] {
    const db::Database d = open_or_refuse("show", *path, false);
    const db::RunInfo run = run_or_refuse("show", d, *id);
    if (*verdict) {
      if (run.kind == "calibration")
        refuse("show", d.path() + ": run " + std::to_string(run.id) + " is a calibration: it has no verdict");
      try {
        return print_verdict(d, run.id, *json);
      } catch (const std::exception& e) {
        refuse("show", d.path() + ": run " + std::to_string(run.id) + ": " + e.what());
      }
    }
    // Validation and calibration runs store a report or fits, not a RunResult: show those instead.
    if (run.kind == "calibration") return print_calibration_fits(d, run, *json);
    if (run.kind == "validation") {
      try {
        return print_validation_report(run, nlohmann::json::parse(run.result_json), *json);
      } catch (const std::exception& e) {
        refuse("show",
               d.path() + ": run " + std::to_string(run.id) + " has an unreadable report: " + e.what());
      }
    }
    std::optional<RunResult> result;
    if (!run.result_json.empty()) {
      try {
        result = run_result_from_json(nlohmann::json::parse(run.result_json));
      } catch (const std::exception& e) {
        refuse("show",
               d.path() + ": run " + std::to_string(run.id) + " has an unreadable result: " + e.what());
      }
    }
    const std::vector<ScheduleSummary> rows = result ? summarize(*result) : std::vector<ScheduleSummary>{};
    if (*json) {
      nlohmann::json schedules = nlohmann::json::array();
      const std::map<ScheduleKind, ScheduleSpreads> spreads =
          result ? schedule_spreads(*result) : std::map<ScheduleKind, ScheduleSpreads>{};
      for (const ScheduleSummary& r : rows) schedules.push_back(summary_row_json(r, spreads));
      nlohmann::json out = run_header_json(run);
      out["events"] = d.event_count(run.id);
      out["gpu"] = gpu_json(db::gpu_summary(d, run.id));
      out["summary"] = schedules;
      std::cout << out.dump(2) << '\n';
      return;
    }
    print_run_line(run);
    if (const db::GpuSummary gpu = db::gpu_summary(d, run.id);
        gpu.captured_ranks + gpu.unavailable_ranks > 0 || gpu.kernels > 0)
      std::printf(
          "gpu: %lld kernels, %lld copies, %lld memsets; %lld dropped records; CUPTI on %d of %d ranks%s\n",
          (long long)gpu.kernels, (long long)gpu.memcpys, (long long)gpu.memsets,
          (long long)gpu.dropped_records, gpu.captured_ranks, gpu.captured_ranks + gpu.unavailable_ranks,
          gpu.first_status.empty() ? "" : (" (" + gpu.first_status + ")").c_str());
    if (!result) {
      std::printf("no per-schedule summary stored for this run\n");
      return;
    }
    const Config& c = result->config;
    print_summary_table(c, rows, schedule_spreads(*result));
  });
}

// Writes next to the target and renames, so a failed export never leaves a truncated file under its name.
template <typename Write>
void write_atomically(const std::string& out, Write&& write) {
  const std::filesystem::path target(out);
  const std::filesystem::path tmp =
      target.parent_path() / ("." + target.filename().string() + ".tmp" + std::to_string(::getpid()));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) refuse("export", out + ": cannot write (directory missing or not writable)");
    try {
      write(f);
      f.flush();
      if (!f) throw db::DbError(out + ": write failed (disk full?)");
    } catch (...) {
      f.close();
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    refuse("export", out + ": cannot rename the finished export into place");
  }
}

void add_export(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "export",
      "Export a stored run as Perfetto/Chrome trace JSON, CSV or an Nsight Systems-shaped SQLite file");
  auto path = std::make_shared<std::string>();
  auto id = std::make_shared<std::int64_t>(0);
  auto format = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("--db", *path, "project database file")->required()->check(db_path_check("export"));
  cmd->add_option("--run", *id, "run id (see `parm runs`)")->required()->check(integer_in(1, kMaxId));
  cmd->add_option(
         "--format", *format,
         "perfetto (Chrome trace JSON, opens in ui.perfetto.dev), csv, or nsys (a new SQLite file with "
         "only Nsight Systems' tables of the run's GPU activity, for nsys scripts; needs --out)")
      ->required();
  cmd->add_option("--out,-o", *out, "output file (default: standard output; nsys: required, must not exist)");
  cmd->callback([path, id, format, out] {
    if (*format != "perfetto" && *format != "csv" && *format != "nsys")
      refuse("export", "--format: unknown format '" + *format + "' (one of perfetto, csv, nsys)");
    if (*format == "nsys" && out->empty())
      refuse("export", "--format nsys writes an SQLite file: name it with --out FILE");
    const db::Database d = open_or_refuse("export", *path, false);
    run_or_refuse("export", d, *id);
    if (*format == "nsys") {  // refuses an existing --out itself (the project included), writes atomically
      try {
        db::export_nsys(d, *id, *out);
      } catch (const db::DbError& e) {
        refuse("export", e.what(), std::filesystem::exists(*out) ? 2 : 1);
      }
      return;
    }
    // Renaming the export over the project would replace it under its own open connection.
    if (const auto target = db::file_identity(*out);
        !out->empty() && target && target == db::file_identity(*path))
      refuse("export",
             "--out " + *out + ": is the project file itself (--db); write the export to another file");
    refuse_database_output("export", "--out", *out);
    const auto write = [&](std::ostream& os) {
      if (*format == "perfetto")
        db::export_perfetto(d, *id, os);
      else
        db::export_csv(d, *id, os);
    };
    try {
      if (out->empty()) {
        std::ios::sync_with_stdio(false);
        write(std::cout);
        std::cout.flush();
      } else {
        write_atomically(*out, write);
      }
    } catch (const db::DbError& e) {
      refuse("export", e.what(), 1);
    }
  });
}

void add_import_nsys(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("import-nsys",
                         "Import kernels, memcpys, memsets and NVTX ranges of an Nsight Systems SQLite "
                         "export as a run (one rank "
                         "per process and GPU; the GPU rows also into the project's GPU activity tables)");
  auto file = std::make_shared<std::string>();
  auto path = std::make_shared<std::string>();
  cmd->add_option("file", *file, "Nsight Systems export (nsys export --type sqlite)")->required();
  cmd->add_option("--db", *path, "project database file (created when missing)")
      ->required()
      ->check(db_path_check("import-nsys"));
  cmd->callback([file, path] {
    try {  // the source first: a refused import creates no project and touches no file
      db::check_nsys_source(*file, *path);
    } catch (const db::DbError& e) {
      refuse("import-nsys", e.what());
    }
    db::Database d = open_or_refuse("import-nsys", *path, true);
    try {
      std::cout << db::import_nsys(d, *file) << '\n';
    } catch (const db::DbError& e) {
      refuse("import-nsys", e.what());
    }
  });
}

// Another project's runs into this one: what a cluster's project file brings back to the desktop's.
void add_merge(CLI::App& app) {
  auto* cmd = app.add_subcommand("merge",
                                 "Copy every run of another project file (events, GPU activity, predictions, "
                                 "counters) into this project, with new run ids");
  auto file = std::make_shared<std::string>();
  auto path = std::make_shared<std::string>();
  cmd->add_option("file", *file, "the project file whose runs are copied (read only)")->required();
  cmd->add_option("--db", *path, "project database file (created when missing)")
      ->required()
      ->check(db_path_check("merge"));
  cmd->callback([file, path] {
    try {  // the source first: a refused merge creates no project
      db::check_copy_source(*file, *path);
    } catch (const db::DbError& e) {
      refuse("merge", e.what());
    }
    db::Database d = open_or_refuse("merge", *path, true);
    try {
      for (const db::CopiedRun& r : db::copy_runs(d, *file))
        std::cout << "run " << r.source_id << " " << r.name << " ("
                  << (r.complete ? "complete" : "incomplete") << ") is run " << r.id << '\n';
    } catch (const db::DbError& e) {
      refuse("merge", e.what());
    }
  });
}

}  // namespace

void add_db_commands(CLI::App& app) {
  add_runs(app);
  add_show(app);
  add_export(app);
  add_import_nsys(app);
  add_merge(app);
}

}  // namespace parm::cli
