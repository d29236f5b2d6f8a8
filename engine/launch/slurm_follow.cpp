#include "engine/launch/slurm_follow.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <thread>

#include "engine/launch/command_capture.h"

namespace parm::slurm {
namespace {

std::atomic<int> g_signal{0};

extern "C" void note_signal(int sig) {
  g_signal = sig;
}

// Our SIGINT / SIGTERM handlers while we follow (no SA_RESTART: a sleep ends at once).
class SignalNote {
 public:
  SignalNote() {
    g_signal = 0;
    struct sigaction a {};
    a.sa_handler = note_signal;
    sigemptyset(&a.sa_mask);
    ::sigaction(SIGINT, &a, &old_int_);
    ::sigaction(SIGTERM, &a, &old_term_);
  }
  ~SignalNote() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  SignalNote(const SignalNote&) = delete;
  SignalNote& operator=(const SignalNote&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// A file another process appends to, copied to `to` from where the last call stopped.
class Tail {
 public:
  Tail(std::string path, std::FILE* to, std::string* last_run_line = nullptr)
      : path_(std::move(path)), to_(to), last_run_line_(last_run_line) {}
  void pump() {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return;
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (chunk.empty()) return;
    offset_ += chunk.size();
    std::fwrite(chunk.data(), 1, chunk.size(), to_);
    std::fflush(to_);
    if (!last_run_line_) return;
    partial_ += chunk;
    std::size_t nl;
    while ((nl = partial_.find('\n')) != std::string::npos) {
      const std::string line = partial_.substr(0, nl);
      partial_.erase(0, nl + 1);
      if (line.rfind("parm run: ", 0) == 0) *last_run_line_ = line;
    }
  }

 private:
  std::string path_;
  std::FILE* to_;
  std::string* last_run_line_;
  std::size_t offset_ = 0;
  std::string partial_;
};

std::string describe(const JobInfo& j) {
  if (j.state == "PENDING")
    return j.reason.empty() || j.reason == "None" ? "PENDING" : "PENDING (" + j.reason + ")";
  if (j.state == "RUNNING" && !j.nodes.empty()) return "RUNNING on " + j.nodes;
  return j.state;
}

}  // namespace

constexpr std::chrono::seconds kAfterCancel{10};
constexpr std::chrono::seconds kCompletingLimit{60};

FollowOutcome follow_job(const std::string& id, const FollowTools& tools, const std::string& out_path,
                         const std::string& err_path, const std::function<void(const std::string&)>& note,
                         int poll_ms) {
  const SignalNote signals;
  FollowOutcome o;
  Tail out(out_path, stdout), err(err_path, stderr, &o.last_run_line);
  std::string shown;
  bool seen = false;
  int unknown = 0;
  // A job ending stays COMPLETING until its processes are gone; that can hang on a node (a step daemon
  // stuck in its teardown). After our own cancel we wait a little, otherwise longer, then say so.
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> cancelled_at, completing_since;
  while (true) {
    if (g_signal != 0 && !cancelled_at) {
      o.signal = g_signal;
      run_command({tools.scancel, id});
      cancelled_at = Clock::now();
    }
    if (cancelled_at && Clock::now() - *cancelled_at > kAfterCancel) break;  // the caller says we cancelled
    if (completing_since && Clock::now() - *completing_since > kCompletingLimit) {
      o.stuck_completing = true;
      break;
    }
    const CommandResult r = run_command({tools.scontrol, "show", "job", "-o", id});
    const auto info = r.exit_code == 0 ? parse_scontrol_job(r.output) : std::nullopt;
    out.pump();
    err.pump();
    if (info) {
      seen = true;
      unknown = 0;
      o.last = *info;
      const std::string now = describe(*info);
      if (is_finished(info->state)) break;  // the caller's last line says how it ended
      if (info->state != "COMPLETING")
        completing_since.reset();
      else if (!completing_since)
        completing_since = Clock::now();
      if (now != shown) {
        note(now);
        shown = now;
      }
    } else if (++unknown > (seen ? 3 : 20)) {  // purged after MinJobAge, or never registered
      o.lost = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
  // The last lines reach the shared folder after the state does.
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    out.pump();
    err.pump();
  }
  return o;
}

}  // namespace parm::slurm
