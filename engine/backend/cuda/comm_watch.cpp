#include "engine/backend/cuda/comm_watch.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace parm::backend::cuda {
namespace {

// Keyed by context address: the context is the shell's, and its struct (a seam of every part) has no field
// for this.
std::mutex registry_mutex;
// Weak: the groups own their watcher, and a watcher must not keep its groups alive.
std::map<const CudaContext*, std::vector<std::weak_ptr<CommWatcher>>> registry;

std::vector<std::shared_ptr<CommWatcher>> watchers_of(const CudaContext& context) {
  std::lock_guard lock(registry_mutex);
  std::vector<std::shared_ptr<CommWatcher>> alive;
  const auto it = registry.find(&context);
  if (it == registry.end()) return alive;
  std::erase_if(it->second, [](const std::weak_ptr<CommWatcher>& w) { return w.expired(); });
  for (const auto& w : it->second)
    if (auto p = w.lock()) alive.push_back(std::move(p));
  return alive;
}

}  // namespace

void watch_comm(const CudaContext& context, const std::shared_ptr<CommWatcher>& watcher) {
  std::lock_guard lock(registry_mutex);
  registry[&context].push_back(watcher);
}

void unwatch_comm(const CudaContext& context, const CommWatcher* watcher) {
  std::lock_guard lock(registry_mutex);
  const auto it = registry.find(&context);
  if (it == registry.end()) return;
  std::erase_if(it->second, [&](const std::weak_ptr<CommWatcher>& w) {
    const auto p = w.lock();
    return !p || p.get() == watcher;
  });
  if (it->second.empty()) registry.erase(it);
}

void wait_watching_comm(const CudaContext& context, const std::function<bool()>& reached) {
  const auto watchers = watchers_of(context);
  const auto total_progress = [&] {
    std::uint64_t sum = 0;
    for (const auto& w : watchers) sum += w->progress();
    return sum;
  };
  std::uint64_t seen = total_progress();
  auto last_progress = std::chrono::steady_clock::now();
  auto pause = std::chrono::microseconds(2);
  // Ranks that share a GPU also share the cores: back off from a busy poll to 1 ms sleeps.
  while (!reached()) {
    for (const auto& w : watchers) w->rethrow_failure();
    const auto now = std::chrono::steady_clock::now();
    if (const std::uint64_t p = total_progress(); p != seen) {
      seen = p;
      last_progress = now;
    } else if (now - last_progress >= context.timeout) {
      for (const auto& w : watchers) w->on_stall();  // throws when a comm op is stuck
      last_progress = now;                           // only local work is slow: keep waiting
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
  for (const auto& w : watchers) w->rethrow_failure();
}

}  // namespace parm::backend::cuda
