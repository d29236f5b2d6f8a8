// `parm cluster up|status|down`: an emulated cluster of network namespaces on this machine (see
// engine/cluster/emulated_cluster.h); `parm run --cluster NAME` then runs the engine on it.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/cli/arg_rules.h"
#include "engine/cli/commands.h"
#include "engine/launch/emulated_cluster.h"

namespace parm::cli {
namespace {

using cluster::ClusterError;
using cluster::ClusterState;

struct UpArgs {
  std::string name = "parm";
  int nodes = 0;
  int ranks_per_node = 0;
  std::string bandwidth = "2gbit";
  std::string latency = "0";
  bool json = false;
};

[[noreturn]] void fail(const std::string& command, const std::string& line, int code) {
  std::cerr << "parm cluster " << command << ": " << line << '\n';
  throw CLI::RuntimeError(code);
}

bool namespace_exists(const std::string& ns) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::path("/run/netns") / ns, ec);
}

void print_state(const ClusterState& s) {
  const cluster::ClusterSpec& p = s.spec;
  std::printf("cluster %s: %d node%s x %d ranks, inter-node links %s each way, latency %llu us\n",
              p.name.c_str(), p.nodes, p.nodes == 1 ? "" : "s", p.ranks_per_node,
              cluster::format_rate(p.bandwidth_bps).c_str(), (unsigned long long)p.latency_us);
  std::printf("subnet %s on %s inside the namespaces only; switch namespace %s%s\n", s.subnet.c_str(),
              s.node_if.c_str(), s.switch_netns.c_str(),
              namespace_exists(s.switch_netns) ? "" : " (MISSING)");
  std::printf("  %-4s %-16s %-16s %s\n", "node", "host", "namespace", "address");
  for (std::size_t i = 0; i < s.nodes.size(); ++i)
    std::printf("  %-4zu %-16s %-16s %s%s\n", i, s.nodes[i].host.c_str(), s.nodes[i].netns.c_str(),
                s.nodes[i].address.c_str(), namespace_exists(s.nodes[i].netns) ? "" : " (MISSING)");
  std::printf("hostfile %s\nrun: parm run CONFIG --cluster %s   or   %s -np %d PROGRAM\n", s.hostfile.c_str(),
              p.name.c_str(), s.mpirun.c_str(), p.nodes * p.ranks_per_node);
}

void up(const UpArgs& a) {
  cluster::ClusterSpec spec;
  spec.name = a.name;
  spec.nodes = a.nodes;
  spec.ranks_per_node = a.ranks_per_node;
  try {
    cluster::check_name(a.name);
    spec.bandwidth_bps = cluster::parse_rate(a.bandwidth);
    spec.latency_us = cluster::parse_latency_us(a.latency);
  } catch (const ClusterError& e) {
    fail("up", e.what(), 2);
  }
  ClusterState s;
  try {
    s = cluster::cluster_up(spec);
  } catch (const ClusterError& e) {
    fail("up", e.what(), 1);
  }
  if (a.json)
    std::cout << cluster::to_json_text(s) << '\n';
  else
    print_state(s);
}

}  // namespace

void add_cluster_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "cluster",
      "Emulated cluster on this machine (root): one network namespace per node, shaped inter-node links");
  cmd->require_subcommand(1);

  auto* up_cmd =
      cmd->add_subcommand("up", "create the nodes, the switch, the shaped links and the launcher files");
  auto ua = std::make_shared<UpArgs>();
  up_cmd->add_option("--nodes", ua->nodes, "number of nodes N")->required()->check(integer_in(1, 200));
  up_cmd->add_option("--ranks-per-node", ua->ranks_per_node, "ranks (slots) per node G")
      ->required()
      ->check(integer_in(1));
  up_cmd
      ->add_option("--inter-bandwidth", ua->bandwidth,
                   "rate of every node link, each way (tc units: 2gbit, 500mbit)")
      ->capture_default_str();
  up_cmd
      ->add_option("--inter-latency", ua->latency,
                   "one-way node-to-node delay (20us, 1ms); nonzero needs the netem qdisc")
      ->capture_default_str();
  up_cmd->add_option("--name", ua->name, "cluster name (part of namespace names)")->capture_default_str();
  up_cmd->add_flag("--json", ua->json, "print the state as JSON");
  up_cmd->callback([ua] { up(*ua); });

  auto* status_cmd =
      cmd->add_subcommand("status", "show the emulated clusters (or one) and their launch settings");
  auto sname = std::make_shared<std::string>();
  auto sjson = std::make_shared<bool>(false);
  status_cmd->add_option("--name", *sname, "only this cluster (error if it does not exist)");
  status_cmd->add_flag("--json", *sjson, "machine-readable output");
  status_cmd->callback([sname, sjson] {
    try {
      std::vector<ClusterState> states;
      if (!sname->empty()) {
        states.push_back(cluster::require_cluster(*sname));
      } else {
        for (const std::string& n : cluster::list_clusters())
          if (auto s = cluster::load_cluster(n)) states.push_back(*s);
      }
      if (*sjson) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& s : states) out.push_back(nlohmann::json::parse(cluster::to_json_text(s)));
        std::cout << (sname->empty() ? out : out.at(0)).dump(2) << '\n';
        return;
      }
      if (states.empty())
        std::printf("no emulated cluster is up (parm cluster up --nodes N --ranks-per-node G)\n");
      for (std::size_t i = 0; i < states.size(); ++i) {
        if (i) std::printf("\n");
        print_state(states[i]);
      }
    } catch (const ClusterError& e) {
      fail("status", e.what(), 1);
    }
  });

  auto* down_cmd = cmd->add_subcommand("down", "remove every namespace, link and file of the cluster");
  auto dname = std::make_shared<std::string>("parm");
  down_cmd->add_option("--name", *dname, "cluster name")->capture_default_str();
  down_cmd->callback([dname] {
    try {
      if (::geteuid() != 0) throw ClusterError("needs root (run as root)");
      if (!cluster::cluster_down(*dname))
        throw ClusterError("no cluster named '" + *dname + "' (nothing to remove)");
      std::printf("cluster %s removed\n", dname->c_str());
    } catch (const ClusterError& e) {
      fail("down", e.what(), 1);
    }
  });
}

}  // namespace parm::cli
