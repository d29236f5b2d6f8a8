// The host-side decisions of the cuda backend's communicators, kept free of CUDA and NCCL so every CI run
// tests them: which ncclCommSplit makes each group (color, key, shared resources), and whether two ranks
// would drive one GPU (NCCL refuses that: "Duplicate GPU detected").
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "engine/comm/communicator.h"

namespace parm::backend::cuda {

// One ncclCommSplit of the NCCL world: every rank issues the plan's splits in plan order (NCCL splits are
// collective over the parent), so the plan depends on group kinds only, never on this rank's place.
struct NcclSplit {
  comm::GroupKind kind;
  int color;             // world rank of the group's rank 0: equal exactly for the members of one group
  int key;               // this rank's world rank: orders members as the transport group does
  bool share_resources;  // config.splitShare: the *Fused twin shares the group's channels
};

// The splits for every group but the world, in GroupKind order (MP, ESP, EP, then the *Fused twins with the
// same colors, then the 2DH sub-groups EP-intra and EP-inter). Throws comm::CommError when a group of the
// transport is missing.
std::vector<NcclSplit> nccl_split_plan(const comm::CommGroups& transport);

// Where one rank computes, as exchanged over the transport world before NCCL starts.
struct DeviceRecord {
  std::string host;       // gethostname
  std::string device_id;  // PCI bus id ("0000:3b:00.0"), which names one GPU of a host
};

// Fixed-size bytes of a record (all_gather moves equal blocks per rank); longer fields are cut.
inline constexpr std::size_t kDeviceRecordBytes = 160;
std::vector<char> pack_device_record(const DeviceRecord& record);
DeviceRecord unpack_device_record(const char* bytes);

// The one-line refusal when two ranks (index = world rank) would share a GPU, naming the first such pair;
// nullopt when every rank has a GPU of its own.
std::optional<std::string> shared_device_refusal(const std::vector<DeviceRecord>& by_rank);

}  // namespace parm::backend::cuda
