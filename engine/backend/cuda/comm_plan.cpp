#include "engine/backend/cuda/comm_plan.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

namespace parm::backend::cuda {

std::vector<NcclSplit> nccl_split_plan(const comm::CommGroups& transport) {
  using comm::GroupKind;
  const int world_rank = transport.of(GroupKind::World).rank();
  const std::pair<GroupKind, bool> kinds[] = {{GroupKind::MP, false},      {GroupKind::ESP, false},
                                              {GroupKind::EP, false},      {GroupKind::MPFused, true},
                                              {GroupKind::ESPFused, true}, {GroupKind::EPFused, true},
                                              {GroupKind::EPIntra, false}, {GroupKind::EPInter, false}};
  std::vector<NcclSplit> plan;
  for (const auto& [kind, fused] : kinds)
    plan.push_back({kind, transport.of(kind).world_rank_of(0), world_rank, fused});
  return plan;
}

namespace {
constexpr std::size_t kHostBytes = 128;  // the rest of kDeviceRecordBytes holds the device id

void put(std::vector<char>& out, std::size_t offset, std::size_t capacity, const std::string& text) {
  std::memcpy(out.data() + offset, text.data(), std::min(text.size(), capacity - 1));  // keeps a NUL
}

std::string get(const char* bytes, std::size_t capacity) {
  return std::string(bytes, strnlen(bytes, capacity));
}
}  // namespace

std::vector<char> pack_device_record(const DeviceRecord& record) {
  std::vector<char> out(kDeviceRecordBytes, '\0');
  put(out, 0, kHostBytes, record.host);
  put(out, kHostBytes, kDeviceRecordBytes - kHostBytes, record.device_id);
  return out;
}

DeviceRecord unpack_device_record(const char* bytes) {
  return {get(bytes, kHostBytes), get(bytes + kHostBytes, kDeviceRecordBytes - kHostBytes)};
}

std::optional<std::string> shared_device_refusal(const std::vector<DeviceRecord>& by_rank) {
  std::map<std::pair<std::string, std::string>, std::size_t> first_rank_of;
  for (std::size_t r = 0; r < by_rank.size(); ++r) {
    const auto [it, fresh] = first_rank_of.try_emplace({by_rank[r].host, by_rank[r].device_id}, r);
    if (fresh) continue;
    return "ranks " + std::to_string(it->second) + " and " + std::to_string(r) + " share GPU " +
           by_rank[r].device_id + " on host " + by_rank[r].host +
           ": NCCL runs one rank per GPU (\"Duplicate GPU detected\"); use backend cuda+mpi to share a GPU";
  }
  return std::nullopt;
}

}  // namespace parm::backend::cuda
