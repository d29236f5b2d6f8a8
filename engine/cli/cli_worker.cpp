// `parm worker --config FILE --result FILE ...`: one rank of a distributed run. `parm run` starts it through
// mpirun; on SLURM clusters start it directly with `srun -n P parm worker ...` (the rank comes from MPI).
// Rank 0 gathers every rank's measurements and writes one RunResult JSON file.
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "engine/backend/backend_availability.h"
#include "engine/cli/arg_rules.h"
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/cli/db_option.h"
#include "engine/comm/comm_mpi.h"
#include "engine/comm/mpi_world.h"
#include "engine/comm/world_clock.h"
#include "engine/core/config_json.h"
#include "engine/core/rank_layout.h"
#include "engine/core/run_result.h"
#include "engine/core/validation.h"
#include "engine/launch/process_watch.h"
#include "engine/run/model_worker.h"
#include "engine/run/trace_collection.h"
#include "engine/run/worker.h"
#include "profiler/trace_budget.h"

namespace parm::cli {
namespace {

struct WorkerArgs {
  std::string config_path;
  std::string result_path;
  std::vector<std::string> schedules;
  std::int64_t timeout_ms = 60'000;
  bool verify = false;
  bool model = false;  // whole-model steps (config.model)
  int die_on_rank = -1;
  std::string db_path;            // rank 0 stores the configuration, ranks, counters and every traced op here
  std::string gate_logits_path;   // the gate routes these logits instead of x*Wg
  std::string dump_routing_path;  // rank 0 writes every schedule's routing here
};

// Loads and checks the configuration on this rank; returns the lines to print when it cannot run.
std::vector<std::string> load_on_rank(const WorkerArgs& args, int world, WorkerOptions& options,
                                      Config& config) {
  const auto only_requested_schedules = [&](Config& c, std::vector<std::string>& problems) {
    for (const std::string& name : args.schedules) {
      const auto kind = parse_schedule(name);
      if (!kind) {
        problems.push_back("--schedules: unknown schedule '" + name +
                           "' (one of B_DS,B_DS2,B0,S1,S1F,S2,S2F)");
        continue;
      }
      options.schedules.push_back(*kind);
    }
    if (!options.schedules.empty()) c.run.schedules = options.schedules;
  };
  MachineLimits machine = MachineLimits::this_machine();
  machine.host_memory_bytes =
      0;  // the launcher checked the host's share; a hostfile's hosts are not this one
  return load_rank_config(args.config_path, world, machine, only_requested_schedules, config);
}

// Temporary file + rename: `parm run` never reads a half-written result.
void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + ec.message());
}

// Rank 0 assembles every rank's gate calls into one document (collective over the world).
void write_routing_dump(const comm::MpiWorld& mpi, const Config& config, const std::vector<GateCall>& mine,
                        const WorkerArgs& args) {
  nlohmann::json calls = nlohmann::json::array();
  for (const GateCall& c : mine) calls.push_back(to_json(c));
  const std::vector<std::string> parts = mpi.gather_to_root(calls.dump());
  if (mpi.rank() != 0) return;
  std::vector<GateCall> all;
  for (const std::string& part : parts)
    for (const auto& c : nlohmann::json::parse(part)) all.push_back(gate_call_from_json(c));
  const std::string source =
      args.gate_logits_path.empty() ? "" : std::filesystem::absolute(args.gate_logits_path).string();
  write_atomically(args.dump_routing_path,
                   routing_dump_document(config, std::move(all), source).dump(1) + "\n");
}

void run_worker(const WorkerArgs& args) {
  const comm::MpiWorld mpi;  // finalises MPI on every way out
  exit_when_orphaned(1);     // a killed `parm run` leaves no rank behind
  const int rank = mpi.rank(), world = mpi.size();

  WorkerOptions options;
  options.timeout = std::chrono::milliseconds(args.timeout_ms);
  options.verify = args.verify;
  options.die_on_rank = args.die_on_rank;
  options.model = args.model;
  Config config;
  std::vector<std::string> problems;
  std::optional<db::Database> database;
  std::int64_t run_id = 0;
  std::optional<GateLogits> gate_logits;
  std::vector<GateCall> gate_calls;
  if (!args.dump_routing_path.empty()) options.gate_calls = &gate_calls;
  try {
    problems = load_on_rank(args, world, options, config);
    if (problems.empty() && !args.gate_logits_path.empty()) {
      if (args.verify)
        problems.push_back("--verify with --gate-logits: the reference layer computes its own logits (x*Wg)");
      else
        gate_logits = read_gate_logits(args.gate_logits_path, config.parallel.mp_groups(),
                                       config.layer.tokens(), config.layer.num_experts);
      if (gate_logits) options.gate_logits = &*gate_logits;
    }
    // The run is recorded (incomplete) before anything executes, so a killed run leaves a marked row.
    if (problems.empty() && rank == 0 && !args.db_path.empty()) {
      database.emplace(db::Database::open(args.db_path, true));
      db::RunInfo info;
      info.name = config.name;
      info.kind = "measured";
      info.backend = std::string(to_string(config.run.backend));
      info.ranks = world;
      info.config_json = config_to_json(config).dump();
      run_id = database->begin_run(info);
    }
  } catch (const std::exception& e) {
    problems.push_back(e.what());
  }
  agree_or_exit(problems, mpi);

  try {
    const RankLayout layout = make_rank_layout(config, rank);
    std::string result_text;
    RankTrace trace;
    trace.rank = rank;
    trace.host = host_name();
    std::int64_t origin_ns = 0;
    {
      comm::CommGroups groups = comm::make_mpi_groups(layout, options.timeout);
      const std::size_t capacity = args.model ? expected_model_trace_events(config, config.run.schedules)
                                              : expected_trace_events(config, config.run.schedules);
      profiler::OpTracer tracer(args.db_path.empty() ? 0 : capacity);
      if (!args.db_path.empty()) {
        options.tracer = &tracer;
        options.gpu_activity = &trace.gpu;  // CUPTI + NVTX where the backend captures (cuda)
      }
      trace.clock.start = comm::measure_clock_offset(mpi);
      trace.start_local_ns = profiler::now_ns();
      origin_ns = trace.start_local_ns;  // rank 0's value is the run's time origin
      RankRunResult mine_result = run_worker_rank(config, options, layout, groups);
      trace.clock.end = comm::measure_clock_offset(mpi);
      trace.end_local_ns = profiler::now_ns();
      const double elapsed = static_cast<double>(trace.end_local_ns - trace.start_local_ns);
      if (elapsed > 0)
        trace.clock.drift_ppm = (trace.clock.end.offset_ns - trace.clock.start.offset_ns) / elapsed * 1e6;
      trace.names = tracer.names();
      trace.events.assign(tracer.events().begin(), tracer.events().end());
      trace.overflow = tracer.overflow();
      mine_result.rank = rank;
      if (mine_result.host.empty()) mine_result.host = trace.host;
      result_text = to_json(mine_result).dump();
    }  // groups freed before MPI is finalised
    const std::vector<std::string> parts = mpi.gather_to_root(result_text);
    if (!args.dump_routing_path.empty()) write_routing_dump(mpi, config, gate_calls, args);
    const std::vector<RankTrace> traces =
        args.db_path.empty() ? std::vector<RankTrace>{} : gather_traces(mpi, trace);
    if (rank == 0) {
      // Once per run: each distinct reason, with the ranks that gave it; the run goes on without GPU rows.
      for (const std::string& line : capture_problems(traces)) std::cerr << "parm worker: " << line << "\n";
      RunResult result;
      result.config = config;
      result.backend = std::string(to_string(config.run.backend));
      result.model = args.model;
      for (const std::string& part : parts)
        result.ranks.push_back(rank_run_result_from_json(nlohmann::json::parse(part)));
      const std::string result_json = to_json(result).dump(1) + "\n";
      write_atomically(args.result_path, result_json);
      if (database) {
        const double uncertainty = store_traces(*database, run_id, origin_ns, traces, result.ranks);
        std::vector<db::CounterRow> counters;
        for (const auto& r : result.ranks)
          for (const auto& s : r.schedules)
            for (const auto& c : s.counters)
              counters.push_back({r.rank, std::string(to_string(s.kind)), c.pass, c.op, c.group, c.purpose,
                                  c.fused, c.bytes, c.calls});
        database->add_counters(run_id, counters);
        database->set_result(run_id, result_json);
        // Only a run whose launcher still waits for it is complete; a killed `parm run` stays incomplete.
        if (launcher_gone()) throw std::runtime_error("the launching parm is gone; the run stays incomplete");
        database->finish_run(run_id);
        // A merged timeline is only as good as the clock alignment: say so when it is coarser than the ops.
        std::int64_t shortest = INT64_MAX;
        for (const auto& t : traces)
          for (const auto& e : t.events) shortest = std::min(shortest, e.end_ns - e.start_ns);
        if (shortest != INT64_MAX && uncertainty > static_cast<double>(shortest))
          std::cerr << "parm worker: clock alignment uncertainty " << uncertainty / 1e3
                    << " us exceeds the shortest traced op (" << static_cast<double>(shortest) / 1e3
                    << " us): cross-rank order of short ops is not reliable\n";
        for (const auto& t : traces)
          if (t.overflow > 0)
            std::cerr << "parm worker: rank " << t.rank << ": " << t.overflow
                      << " trace events did not fit its " << (profiler::kTraceBufferBytes >> 20)
                      << " MiB trace buffer: the stored timeline holds the first " << t.events.size()
                      << " (fewer run.iterations store every one)\n";
      }
    }
  } catch (const std::exception& e) {
    // One line naming the rank, then take the whole job down so no peer waits on a collective forever.
    std::cerr << "parm worker: rank " << rank << ": " << e.what() << std::endl;
    mpi.abort(3);
  }
}

}  // namespace

void add_worker_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("worker",
                                 "One rank of a distributed run; `parm run` starts it with mpirun. On SLURM: "
                                 "srun -n P parm worker --config FILE --result FILE");
  cmd->group("Cluster");
  auto args = std::make_shared<WorkerArgs>();
  cmd->add_option("--config", args->config_path, "configuration JSON file (parallel.ranks = world size)")
      ->required();
  cmd->add_option("--result", args->result_path, "where rank 0 writes the gathered RunResult JSON")
      ->required();
  cmd->add_option("--schedules", args->schedules,
                  "comma-separated schedules (default: the config's run.schedules)")
      ->delimiter(',');
  cmd->add_option("--timeout-ms", args->timeout_ms, "bound on every collective wait, in ms")
      ->check(integer_in(1));
  cmd->add_flag("--verify", args->verify, "compare with the single-process reference after timing");
  cmd->add_flag("--model", args->model, "whole-model training steps (the config's model section)");
  cmd->add_option("--die-on-rank", args->die_on_rank, "test hook: this rank aborts in the middle of the run")
      ->check(integer_in(0, std::numeric_limits<std::int32_t>::max(), "--die-on-rank"))
      ->group("");  // a test hook: hidden from --help
  cmd->add_option("--db", args->db_path, "SQLite project file: rank 0 stores the run and every traced op")
      ->check(db_path_check("worker"));
  cmd->add_option("--gate-logits", args->gate_logits_path,
                  "the gate routes these logits instead of x*Wg: .npy (float32/float64) or JSON, shape "
                  "groups x S x E or S x E");
  cmd->add_option("--dump-routing", args->dump_routing_path,
                  "rank 0 writes every schedule's routing (JSON, README 'Routing dump') here");
  cmd->callback([args] { run_worker(*args); });
}

}  // namespace parm::cli
