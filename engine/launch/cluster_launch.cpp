#include "engine/launch/cluster_launch.h"

namespace parm::cluster {

std::vector<std::string> launch_wrapper(const ClusterState& s) {
  const ClusterNode& first = s.nodes.at(0);
  return {"ip",        "netns",   "exec",
          first.netns, "unshare", "--uts",
          "sh",        "-c",      "hostname \"$0\" && exec \"$@\"",
          first.host};
}

std::vector<std::string> launcher_args(const ClusterState& s) {
  return {"--mca",
          "plm_rsh_agent",
          s.agent.string(),
          "--mca",
          "pml",
          "ob1",
          "--mca",
          "btl",
          "self,vader,tcp",
          "--mca",
          "btl_tcp_if_include",
          s.node_if,
          "--mca",
          "oob_tcp_if_include",
          s.node_if,
          "--bind-to",
          "none"};
}

void apply_cluster(const ClusterState& s, LaunchOptions& o) {
  const int slots = s.spec.nodes * s.spec.ranks_per_node;
  if (o.ranks > slots)
    throw ClusterError("cluster '" + s.spec.name + "' has " + std::to_string(slots) + " slots (" +
                       std::to_string(s.spec.nodes) + " nodes x " + std::to_string(s.spec.ranks_per_node) +
                       "); " + std::to_string(o.ranks) + " ranks do not fit");
  o.wrapper = launch_wrapper(s);
  o.launcher_args = launcher_args(s);
  o.hostfile = s.hostfile.string();
}

}  // namespace parm::cluster
