#include "engine/launch/emulated_cluster.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "engine/launch/command_capture.h"

extern char** environ;

namespace parm::cluster {
namespace fs = std::filesystem;
namespace {

constexpr const char* kNodeIf = "parm0";  // the node's end of its link, same name in every node
constexpr const char* kBridge = "br0";
constexpr const char* kSubnetPrefix = "10.77.0.";

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// Runs a setup step; a failure becomes one line naming the command and its first line of output.
void must(const std::vector<std::string>& words) {
  const CommandResult r = run_command(words);
  if (r.exit_code != 0)
    throw ClusterError(
        "`" + joined(words) + "` failed: " +
        (r.output.empty() ? "exit code " + std::to_string(r.exit_code) : first_line(r.output)));
}

std::string switch_netns(std::string_view name) {
  return "parm-" + std::string(name) + "-sw";
}
std::string node_netns(std::string_view name, int i) {
  return "parm-" + std::string(name) + "-n" + std::to_string(i);
}

std::regex own_netns_pattern(std::string_view name) {
  return std::regex("parm-" + std::string(name) + "-(sw|n[0-9]+)");
}

std::vector<std::string> own_namespaces(std::string_view name) {
  std::vector<std::string> out;
  const std::regex re = own_netns_pattern(name);
  std::error_code ec;
  for (const auto& dir : {fs::path("/run/netns"), fs::path("/etc/netns")}) {
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string n = e.path().filename().string();
      if (std::regex_match(n, re)) out.push_back(dir == "/run/netns" ? n : (dir / n).string());
    }
  }
  return out;
}

bool on_path(const std::string& tool) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && ::access((fs::path(dir) / tool).c_str(), X_OK) == 0) return true;
  return false;
}

void write_file(const fs::path& path, const std::string& text, bool executable = false) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw ClusterError("cannot write " + path.string());
  if (executable)
    fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
}

std::string sh_quote(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

ClusterState plan(const ClusterSpec& spec) {
  ClusterState s;
  s.spec = spec;
  s.switch_netns = switch_netns(spec.name);
  s.node_if = kNodeIf;
  s.subnet = std::string(kSubnetPrefix) + "0/24";
  for (int i = 0; i < spec.nodes; ++i) {
    ClusterNode n;
    n.host = spec.name;
    n.host.append("-node").append(std::to_string(i));
    n.netns = node_netns(spec.name, i);
    n.address = kSubnetPrefix;
    n.address.append(std::to_string(i + 1));
    n.switch_if = "n";
    n.switch_if.append(std::to_string(i));
    s.nodes.push_back(n);
  }
  s.dir = state_dir(spec.name);
  s.hostfile = s.dir / "hostfile";
  s.agent = s.dir / "rsh-agent";
  s.mpirun = s.dir / "mpirun";
  return s;
}

// tc shaping of one end of a link: token bucket at the rate; netem delay under it when asked.
void shape(const std::string& netns, const std::string& dev, const ClusterSpec& spec,
           std::uint64_t delay_us) {
  const std::uint64_t bytes_per_s = spec.bandwidth_bps / 8;
  // Burst: 2 ms at the rate (at least 256 KiB so GSO packets pass); queue: 25 ms (at least 1 MiB) so TCP
  // keeps the link full instead of backing off on drops.
  const std::uint64_t burst = std::max<std::uint64_t>(256 * 1024, bytes_per_s / 500);
  const std::uint64_t limit = std::max<std::uint64_t>(1 << 20, bytes_per_s / 40) + burst;
  const std::vector<std::string> base = {"ip", "netns", "exec", netns, "tc", "qdisc", "add", "dev", dev};
  auto tbf = base;
  tbf.insert(tbf.end(), {"root", "handle", "1:", "tbf", "rate", std::to_string(spec.bandwidth_bps) + "bit",
                         "burst", std::to_string(burst), "limit", std::to_string(limit)});
  must(tbf);
  if (delay_us == 0) return;
  auto netem = base;
  netem.insert(netem.end(), {"parent", "1:1", "handle", "10:", "netem", "delay",
                             std::to_string(delay_us) + "us", "limit", "100000"});
  const CommandResult r = run_command(netem);
  if (r.exit_code == 0) return;
  if (r.output.find("unknown") != std::string::npos)
    throw ClusterError("--inter-latency " + std::to_string(spec.latency_us) +
                       "us needs the netem qdisc (kernel module sch_netem), which this kernel lacks; "
                       "leave --inter-latency at 0");
  throw ClusterError("`" + joined(netem) + "` failed: " + first_line(r.output));
}

void build(const ClusterState& s) {
  const ClusterSpec& spec = s.spec;
  fs::create_directories(s.dir);
  const std::string& sw = s.switch_netns;
  must({"ip", "netns", "add", sw});
  must({"ip", "-n", sw, "link", "set", "lo", "up"});
  must({"ip", "-n", sw, "link", "add", kBridge, "type", "bridge"});
  must({"ip", "-n", sw, "link", "set", kBridge, "up"});
  std::string hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost\n";
  for (const ClusterNode& n : s.nodes) hosts += n.address + "\t" + n.host + "\n";
  // Half of the one-way delay on each end: a packet between nodes leaves one node and one switch port.
  const std::uint64_t half_delay = (spec.latency_us + 1) / 2;
  for (const ClusterNode& n : s.nodes) {
    must({"ip", "netns", "add", n.netns});
    must({"ip", "-n", sw, "link", "add", n.switch_if, "type", "veth", "peer", "name", kNodeIf, "netns",
          n.netns});
    must({"ip", "-n", sw, "link", "set", n.switch_if, "master", kBridge});
    must({"ip", "-n", sw, "link", "set", n.switch_if, "up"});
    must({"ip", "-n", n.netns, "link", "set", "lo", "up"});
    must({"ip", "-n", n.netns, "addr", "add", n.address + "/24", "dev", kNodeIf});
    must({"ip", "-n", n.netns, "link", "set", kNodeIf, "up"});
    shape(n.netns, kNodeIf, spec, half_delay);
    shape(sw, n.switch_if, spec, spec.latency_us - half_delay);
    const fs::path etc = fs::path("/etc/netns") / n.netns;
    fs::create_directories(etc);
    write_file(etc / "hosts", hosts);
  }

  std::string hostfile;
  for (const ClusterNode& n : s.nodes)
    hostfile += n.host + " slots=" + std::to_string(spec.ranks_per_node) + "\n";
  write_file(s.hostfile, hostfile);

  // Open MPI calls the agent as `AGENT [options] HOST COMMAND...` and, like ssh, expects a shell to run the
  // command words; the node's processes share one UTS namespace per daemon so they all see the node's name.
  std::string agent = "#!/bin/sh\n# plm_rsh_agent of emulated cluster " + spec.name +
                      ": runs Open MPI's command inside HOST's network namespace under HOST's hostname.\n"
                      "while [ $# -gt 0 ]; do case \"$1\" in -*) shift;; *) break;; esac; done\n"
                      "host=$1; shift\ncase \"$host\" in\n";
  for (const ClusterNode& n : s.nodes) agent += "  " + n.host + "|" + n.address + ") ns=" + n.netns + ";;\n";
  agent +=
      "  *) echo \"parm cluster agent: unknown host $host\" >&2; exit 255;;\nesac\n"
      "exec ip netns exec \"$ns\" unshare --uts sh -c 'hostname \"$0\" && eval \"$1\"' \"$host\" \"$*\"\n";
  write_file(s.agent, agent, true);

  const ClusterNode& first = s.nodes.front();
  std::string wrapper = "#!/bin/sh\n# mpirun on emulated cluster " + spec.name + ": e.g. " +
                        s.mpirun.string() + " -np " + std::to_string(spec.nodes * spec.ranks_per_node) +
                        " PROGRAM\n";
  if (::geteuid() == 0)
    wrapper +=
        "export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1}\n"
        "export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}\n";
  wrapper += "exec ip netns exec " + first.netns + " unshare --uts sh -c 'hostname \"$0\" && exec \"$@\"' " +
             first.host + " ${MPIEXEC:-mpirun} --hostfile " + sh_quote(s.hostfile.string()) +
             " --mca plm_rsh_agent " + sh_quote(s.agent.string()) +
             " --mca pml ob1 --mca btl self,vader,tcp" + " --mca btl_tcp_if_include " + kNodeIf +
             " --mca oob_tcp_if_include " + kNodeIf + " --bind-to none \"$@\"\n";
  write_file(s.mpirun, wrapper, true);
  write_file(s.dir / "state.json", to_json_text(s) + "\n");
}

nlohmann::json to_json(const ClusterState& s) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const ClusterNode& n : s.nodes)
    nodes.push_back(
        {{"host", n.host}, {"netns", n.netns}, {"address", n.address}, {"switch_if", n.switch_if}});
  return {{"name", s.spec.name},
          {"nodes", s.spec.nodes},
          {"ranks_per_node", s.spec.ranks_per_node},
          {"inter_bandwidth_bps", s.spec.bandwidth_bps},
          {"inter_latency_us", s.spec.latency_us},
          {"switch_netns", s.switch_netns},
          {"node_if", s.node_if},
          {"subnet", s.subnet},
          {"node_list", nodes},
          {"dir", s.dir.string()},
          {"hostfile", s.hostfile.string()},
          {"agent", s.agent.string()},
          {"mpirun", s.mpirun.string()}};
}

ClusterState from_json(const nlohmann::json& j) {
  ClusterState s;
  s.spec.name = j.at("name").get<std::string>();
  s.spec.nodes = j.at("nodes").get<int>();
  s.spec.ranks_per_node = j.at("ranks_per_node").get<int>();
  s.spec.bandwidth_bps = j.at("inter_bandwidth_bps").get<std::uint64_t>();
  s.spec.latency_us = j.at("inter_latency_us").get<std::uint64_t>();
  s.switch_netns = j.at("switch_netns").get<std::string>();
  s.node_if = j.at("node_if").get<std::string>();
  s.subnet = j.at("subnet").get<std::string>();
  for (const auto& n : j.at("node_list"))
    s.nodes.push_back({n.at("host").get<std::string>(), n.at("netns").get<std::string>(),
                       n.at("address").get<std::string>(), n.at("switch_if").get<std::string>()});
  s.dir = j.at("dir").get<std::string>();
  s.hostfile = j.at("hostfile").get<std::string>();
  s.agent = j.at("agent").get<std::string>();
  s.mpirun = j.at("mpirun").get<std::string>();
  return s;
}

// Blocks SIGINT/SIGTERM/SIGHUP while alive, so a Ctrl-C during `up` cannot leave half a cluster: `pending()`
// tells whether one arrived, and the destructor restores the mask (delivering it).
class SignalHold {
 public:
  SignalHold() {
    sigemptyset(&set_);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set_, s);
    ::sigprocmask(SIG_BLOCK, &set_, &old_);
  }
  ~SignalHold() { ::sigprocmask(SIG_SETMASK, &old_, nullptr); }
  SignalHold(const SignalHold&) = delete;
  SignalHold& operator=(const SignalHold&) = delete;
  bool pending() const {
    sigset_t p;
    sigpending(&p);
    for (int s : {SIGINT, SIGTERM, SIGHUP})
      if (sigismember(&p, s)) return true;
    return false;
  }

 private:
  sigset_t set_{}, old_{};
};

}  // namespace

std::uint64_t parse_rate(std::string_view text) {
  static const std::regex re(R"(\s*([0-9]+(?:\.[0-9]+)?)\s*(bit|kbit|mbit|gbit|tbit)?\s*)",
                             std::regex::icase);
  std::cmatch m;
  if (!std::regex_match(text.begin(), text.end(), m, re))
    throw ClusterError("--inter-bandwidth '" + std::string(text) +
                       "': expected a rate like 2gbit, 2.5gbit, 500mbit (bits per second)");
  std::string unit = m[2].str();
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
  const double scale = unit == "kbit"   ? 1e3
                       : unit == "mbit" ? 1e6
                       : unit == "gbit" ? 1e9
                       : unit == "tbit" ? 1e12
                                        : 1;
  const double bps = std::stod(m[1].str()) * scale;
  if (bps < 1e5 || bps > 1e12)
    throw ClusterError("--inter-bandwidth '" + std::string(text) + "': must be between 100kbit and 1000gbit");
  return static_cast<std::uint64_t>(std::llround(bps));
}

std::uint64_t parse_latency_us(std::string_view text) {
  static const std::regex re(R"(\s*([0-9]+(?:\.[0-9]+)?)\s*(us|ms|s)?\s*)", std::regex::icase);
  std::cmatch m;
  if (!std::regex_match(text.begin(), text.end(), m, re))
    throw ClusterError("--inter-latency '" + std::string(text) + "': expected a delay like 20us, 1ms or 0");
  std::string unit = m[2].str();
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
  const double us = std::stod(m[1].str()) * (unit == "ms" ? 1e3 : unit == "s" ? 1e6 : 1);
  if (us > 10e6) throw ClusterError("--inter-latency '" + std::string(text) + "': at most 10s");
  return static_cast<std::uint64_t>(std::llround(us));
}

std::string format_rate(std::uint64_t bps) {
  char buf[64];
  if (bps >= 1'000'000'000)
    std::snprintf(buf, sizeof buf, "%g Gbit/s", double(bps) / 1e9);
  else if (bps >= 1'000'000)
    std::snprintf(buf, sizeof buf, "%g Mbit/s", double(bps) / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%g kbit/s", double(bps) / 1e3);
  return buf;
}

void check_name(std::string_view name) {
  static const std::regex re("[a-z][a-z0-9]{0,11}");
  if (!std::regex_match(name.begin(), name.end(), re))
    throw ClusterError("--name '" + std::string(name) +
                       "': use a lowercase letter then up to 11 lowercase letters or digits");
}

fs::path state_root() {
  const char* env = std::getenv("PARM_CLUSTER_DIR");
  return env && *env ? fs::path(env) : fs::path("/run/parm-cluster");
}

fs::path state_dir(std::string_view name) {
  return state_root() / std::string(name);
}

std::vector<std::string> leftovers(std::string_view name) {
  std::vector<std::string> out = own_namespaces(name);
  std::error_code ec;
  if (fs::exists(state_dir(name), ec)) out.push_back(state_dir(name).string());
  return out;
}

void check_prerequisites() {
  if (::geteuid() != 0)
    throw ClusterError(
        "needs root: network namespaces, veth links and tc shaping need CAP_NET_ADMIN (run as root)");
  for (const auto& [tool, package] :
       {std::pair<std::string, std::string>{"ip", "iproute2"}, {"tc", "iproute2"}, {"unshare", "util-linux"}})
    if (!on_path(tool)) throw ClusterError("'" + tool + "' not found on PATH (install " + package + ")");
  // Namespaces may be forbidden even to root (containers without CAP_SYS_ADMIN): try one.
  const std::string probe = "parm-probe" + std::to_string(::getpid());
  const CommandResult add = run_command({"ip", "netns", "add", probe});
  run_command({"ip", "netns", "del", probe});
  if (add.exit_code != 0)
    throw ClusterError(
        "cannot create network namespaces here (`ip netns add` failed: " + first_line(add.output) + ")");
}

ClusterState cluster_up(const ClusterSpec& spec) {
  check_name(spec.name);
  if (spec.nodes < 1 || spec.nodes > 200)
    throw ClusterError("--nodes " + std::to_string(spec.nodes) + ": 1 to 200");
  if (spec.ranks_per_node < 1)
    throw ClusterError("--ranks-per-node " + std::to_string(spec.ranks_per_node) + ": at least 1");
  check_prerequisites();
  if (const auto left = leftovers(spec.name); !left.empty())
    throw ClusterError("a cluster named '" + spec.name + "' already exists (" + left.front() +
                       "); remove it with: parm cluster down --name " + spec.name);
  const ClusterState s = plan(spec);
  SignalHold hold;
  struct Rollback {
    std::string name;
    bool armed = true;
    ~Rollback() {
      if (!armed) return;
      try {
        cluster_down(name);
      } catch (...) {  // the original error is the one to report
      }
    }
  } rollback{spec.name};
  try {
    build(s);
  } catch (const fs::filesystem_error& e) {
    throw ClusterError(e.what());
  }
  if (hold.pending()) throw ClusterError("interrupted; removed what was made");
  rollback.armed = false;
  return s;
}

bool cluster_down(std::string_view name) {
  check_name(name);
  const std::vector<std::string> before = leftovers(name);
  if (before.empty()) return false;
  const std::regex re = own_netns_pattern(name);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/run/netns", ec)) {
    const std::string ns = e.path().filename().string();
    if (!std::regex_match(ns, re)) continue;
    // Processes left inside (ranks of a killed run) would keep the namespace alive after its name is gone.
    const CommandResult pids = run_command({"ip", "netns", "pids", ns});
    std::stringstream list(pids.output);
    for (long pid = 0; list >> pid;)
      if (pid > 1) ::kill(static_cast<pid_t>(pid), SIGKILL);
    // Deleting a node's namespace deletes its veth pair (and the switch port) with it.
    run_command({"ip", "netns", "del", ns});
  }
  for (const auto& e : fs::directory_iterator("/etc/netns", ec))
    if (std::regex_match(e.path().filename().string(), re)) fs::remove_all(e.path(), ec);
  fs::remove_all(state_dir(name), ec);
  if (const auto after = leftovers(name); !after.empty())
    throw ClusterError("could not remove " + after.front() + " of cluster '" + std::string(name) + "'");
  return true;
}

std::optional<ClusterState> load_cluster(std::string_view name) {
  check_name(name);
  std::ifstream in(state_dir(name) / "state.json");
  if (!in) return std::nullopt;
  try {
    return from_json(nlohmann::json::parse(in));
  } catch (const std::exception& e) {
    throw ClusterError("unreadable state file " + (state_dir(name) / "state.json").string() + ": " +
                       e.what());
  }
}

std::vector<std::string> list_clusters() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(state_root(), ec))
    if (fs::exists(e.path() / "state.json", ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

ClusterState require_cluster(std::string_view name) {
  auto s = load_cluster(name);
  if (!s)
    throw ClusterError("no cluster named '" + std::string(name) +
                       "' (start one with: parm cluster up --name " + std::string(name) +
                       " --nodes N --ranks-per-node G)");
  return *s;
}

std::string to_json_text(const ClusterState& state) {
  return to_json(state).dump(2);
}

}  // namespace parm::cluster
