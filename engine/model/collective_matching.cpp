#include "engine/model/collective_matching.h"

#include <map>
#include <tuple>

namespace parm {

std::vector<CollectiveSplit> split_collectives(const std::vector<db::EventRow>& events) {
  using Key = std::tuple<std::int32_t, std::int32_t, std::int32_t, std::int32_t, std::int32_t, std::int64_t>;
  auto key_of = [](const db::EventRow& e) {
    return Key{e.schedule, e.iteration, e.phase, e.group, e.comm, e.seq};
  };
  std::map<Key, std::int64_t> last_arrival;
  for (const db::EventRow& e : events) {
    if (e.seq < 0) continue;
    const auto [it, fresh] = last_arrival.emplace(key_of(e), e.start_ns);
    if (!fresh) it->second = std::max(it->second, e.start_ns);
  }
  std::vector<CollectiveSplit> out;
  out.reserve(events.size());
  for (const db::EventRow& e : events)
    out.push_back(e.seq < 0 ? CollectiveSplit{0, std::max<std::int64_t>(0, e.end_ns - e.start_ns)}
                            : split_collective(e.start_ns, e.end_ns, last_arrival.at(key_of(e))));
  return out;
}

}  // namespace parm
