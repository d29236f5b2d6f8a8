// An emulated cluster on one machine: one Linux network namespace per node (its own hostname, so the ranks of
// one node talk over shared memory), a "switch" namespace holding a bridge, one veth link per node shaped
// with tc (token bucket rate on both ends; delay when the kernel has netem), addresses on a private subnet
// that exists only inside these namespaces, per-namespace hosts files (/etc/netns/NS/hosts), and the launcher
// settings (hostfile, rsh agent, mpirun wrapper) in a state directory with a JSON state file. Nothing touches
// the host's own interfaces: every veth is created inside the switch namespace with its peer directly in the
// node namespace. Errors are ClusterError with one line; a failed `up` removes everything it made.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace parm::cluster {

class ClusterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ClusterSpec {
  std::string name = "parm";
  int nodes = 2;
  int ranks_per_node = 2;
  std::uint64_t bandwidth_bps = 2'000'000'000;  // bits per second of every node link, each direction
  std::uint64_t latency_us = 0;                 // one-way node-to-node delay; needs netem when nonzero
};

struct ClusterNode {
  std::string host;       // hostname inside the node (resolvable in every node's /etc/hosts)
  std::string netns;      // network namespace name
  std::string address;    // on the node interface
  std::string switch_if;  // the link's end in the switch namespace
};

struct ClusterState {
  ClusterSpec spec;
  std::string switch_netns;
  std::string node_if;  // interface name inside every node (for btl/oob_tcp_if_include)
  std::string subnet;   // CIDR, only configured inside the namespaces
  std::vector<ClusterNode> nodes;
  std::filesystem::path dir;       // state directory
  std::filesystem::path hostfile;  // "HOST slots=G" per node
  std::filesystem::path agent;     // plm_rsh_agent script: enters a host's namespace with its hostname
  std::filesystem::path mpirun;    // wrapper: mpirun in the first node with every setting, "$@" appended
};

// "2gbit", "2.5gbit", "500mbit", "100kbit", "1000000bit" or a bare number of bit/s (tc's decimal units).
std::uint64_t parse_rate(std::string_view text);
// "20us", "1ms", "0.5ms", "0" (microseconds when bare).
std::uint64_t parse_latency_us(std::string_view text);
std::string format_rate(std::uint64_t bps);  // "2.5 Gbit/s"

// Lowercase letter then lowercase letters/digits, at most 12 characters (it is part of namespace names).
void check_name(std::string_view name);

// Where state directories live: $PARM_CLUSTER_DIR, else /run/parm-cluster.
std::filesystem::path state_root();
std::filesystem::path state_dir(std::string_view name);

// Namespaces and files with this cluster's names that exist now (empty: nothing of it is left).
std::vector<std::string> leftovers(std::string_view name);

// Root, ip/tc/unshare on PATH, namespaces permitted; throws ClusterError naming what is missing.
void check_prerequisites();

// Builds the cluster; on any failure (or SIGINT/SIGTERM meanwhile) removes what it made and throws.
ClusterState cluster_up(const ClusterSpec& spec);
// Removes every namespace (after killing the processes left in it), /etc/netns entry and the state dir of
// this name; idempotent. Returns false when there was nothing to remove. Throws if something stays.
bool cluster_down(std::string_view name);
// The state of a cluster that is up; nullopt when there is no state file of that name.
std::optional<ClusterState> load_cluster(std::string_view name);
// The names of clusters with a state file.
std::vector<std::string> list_clusters();
// The cluster, or ClusterError "no cluster named X (start one with: parm cluster up --name X ...)".
ClusterState require_cluster(std::string_view name);

std::string to_json_text(const ClusterState& state);

}  // namespace parm::cluster
