#include "engine/model/op_wait.h"

#include <algorithm>
#include <vector>

namespace parm {
namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

bool is_collective(const OpKey& key) {
  const std::string& op = std::get<2>(key);
  for (const char* c : {"AlltoAll", "AllGather", "ReduceScatter", "AllReduce", "GradAllReduce"})
    if (op.find(c) != std::string::npos) return true;
  return false;
}

template <class Keep>
std::map<OpKey, WaitTransfer> aggregate(const MeasuredOps& ops, Keep keep) {
  struct Sum {
    double total = 0, wait = 0;
  };
  std::vector<std::map<int, std::map<int, Sum>>> sums(ops.keys.size());  // key -> iteration -> rank
  std::vector<bool> wanted(ops.keys.size());
  for (std::size_t k = 0; k < ops.keys.size(); ++k) wanted[k] = is_collective(ops.keys[k]);
  for (const MeasuredOps::Interval& iv : ops.intervals) {
    if (!wanted[iv.key] || !keep(iv)) continue;
    Sum& s = sums[iv.key][iv.iteration][iv.rank];
    s.total += 1e-6 * static_cast<double>(iv.end_ns - iv.start_ns);
    s.wait += 1e-6 * static_cast<double>(iv.wait_ns);
  }
  std::map<OpKey, WaitTransfer> out;
  for (std::size_t k = 0; k < ops.keys.size(); ++k) {
    if (sums[k].empty()) continue;
    std::vector<double> waits, transfers;
    for (const auto& [it, ranks] : sums[k]) {
      const auto slowest = std::max_element(ranks.begin(), ranks.end(), [](const auto& a, const auto& b) {
        return a.second.total < b.second.total;
      });
      waits.push_back(slowest->second.wait);
      transfers.push_back(slowest->second.total - slowest->second.wait);
    }
    out[ops.keys[k]] = {median(waits), median(transfers)};
  }
  return out;
}

bool overlaps(const MeasuredOps::Interval& iv, const TimeRange& range) {
  return iv.end_ns > range.start_ns && iv.start_ns < range.end_ns;
}

}  // namespace

std::map<OpKey, WaitTransfer> aggregate_wait_transfer(const MeasuredOps& ops,
                                                      const std::optional<TimeRange>& range) {
  return aggregate(ops, [&](const MeasuredOps::Interval& iv) { return !range || overlaps(iv, *range); });
}

std::map<OpKey, WaitTransfer> aggregate_wait_transfer(const MeasuredOps& ops, const ScheduleRanges& ranges) {
  std::vector<const TimeRange*> by_key(ops.keys.size(), nullptr);
  for (std::size_t k = 0; k < ops.keys.size(); ++k)
    if (const auto it = ranges.find(std::get<0>(ops.keys[k])); it != ranges.end()) by_key[k] = &it->second;
  return aggregate(ops, [&](const MeasuredOps::Interval& iv) {
    return by_key[iv.key] != nullptr && overlaps(iv, *by_key[iv.key]);
  });
}

}  // namespace parm
