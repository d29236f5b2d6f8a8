#include "engine/core/rank_devices.h"

#include <algorithm>
#include <cstdio>

namespace parm {

std::string describe_device(const RankDevice& device) {
  std::string out = device.name.empty() ? "unnamed device" : device.name;
  if (device.memory_bytes > 0) {
    char memory[48];
    std::snprintf(memory, sizeof memory, " (%.1f GiB)",
                  static_cast<double>(device.memory_bytes) / (1ull << 30));
    out += memory;
  }
  if (!device.driver.empty()) out += ", " + device.driver;
  return out;
}

std::string rank_ranges(std::vector<int> ranks) {
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  std::string out;
  for (std::size_t i = 0; i < ranks.size();) {
    std::size_t j = i;
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(ranks[i]);
    if (j > i) out += "-" + std::to_string(ranks[j]);
    i = j + 1;
  }
  return out;
}

std::vector<std::string> device_lines(const std::vector<RankRunResult>& ranks) {
  std::vector<std::pair<std::string, std::vector<int>>> groups;  // description -> its ranks, first-use order
  for (const RankRunResult& r : ranks) {
    const std::string description = describe_device(r.device);
    auto it =
        std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == description; });
    if (it == groups.end()) it = groups.insert(groups.end(), {description, {}});
    it->second.push_back(r.rank);
  }
  std::vector<std::string> out;
  for (const auto& [description, members] : groups)
    out.push_back("rank " + rank_ranges(members) + ": " + description);
  return out;
}

}  // namespace parm
