#include "engine/schedules/volumes.h"

namespace parm {

std::string_view to_string(Collective c) {
  switch (c) {
    case Collective::AlltoAll:
      return "AlltoAll";
    case Collective::AllGather:
      return "AllGather";
    case Collective::ReduceScatter:
      return "ReduceScatter";
    case Collective::AllReduce:
      return "AllReduce";
  }
  return "?";
}

std::string_view to_string(CommGroup g) {
  switch (g) {
    case CommGroup::EP:
      return "EP";
    case CommGroup::MP:
      return "MP";
    case CommGroup::ESP:
      return "ESP";
  }
  return "?";
}

std::string_view to_string(Pass p) {
  return p == Pass::Forward ? "fwd" : "bwd";
}

namespace {

// Collects entries with the bus-bandwidth factor of each collective applied once, here.
class VolumeList {
 public:
  VolumeList(const DerivedSizes& d) : d_(d) {}

  void add(Pass pass, std::string purpose, Collective c, CommGroup g, std::int64_t elements,
           std::string fused = {}) {
    CollectiveVolume v;
    v.pass = pass;
    v.purpose = std::move(purpose);
    v.collective = c;
    v.group = g;
    v.fused = std::move(fused);
    v.elements = elements;
    v.bytes = elements * d_.bytes_per_element;
    v.group_size = g == CommGroup::EP ? d_.n_ep : (g == CommGroup::ESP ? d_.n_esp : d_.N);
    const double n = static_cast<double>(v.group_size);
    const double share = (n - 1.0) / n;
    v.wire_bytes = static_cast<double>(v.bytes) * (c == Collective::AllReduce ? 2.0 * share : share);
    items.push_back(std::move(v));
  }
  void fwd(std::string purpose, Collective c, CommGroup g, std::int64_t elements, std::string fused = {}) {
    add(Pass::Forward, std::move(purpose), c, g, elements, std::move(fused));
  }

  std::vector<CollectiveVolume> items;

 private:
  const DerivedSizes& d_;
};

constexpr auto A2A = Collective::AlltoAll;
constexpr auto AG = Collective::AllGather;
constexpr auto RS = Collective::ReduceScatter;
constexpr auto AR = Collective::AllReduce;

// N_ESP = N_MP: the ESP group is the MP group.
void sharded_experts(ScheduleKind s, const DerivedSizes& d, std::int64_t SM, VolumeList& v) {
  const std::int64_t N = d.N;
  switch (s) {
    case ScheduleKind::B_DS:
      v.fwd("dispatch", A2A, CommGroup::EP, d.D0);
      v.fwd("expert output", AR, CommGroup::MP, d.D0);
      v.fwd("combine", A2A, CommGroup::EP, d.D0);
      break;
    case ScheduleKind::B_DS2:
      v.fwd("dispatch", A2A, CommGroup::EP, d.D2 / N);
      v.fwd("dispatch", AG, CommGroup::MP, d.D2);
      v.fwd("expert output", AR, CommGroup::MP, d.D2);
      v.fwd("combine", A2A, CommGroup::EP, d.D2 / N);
      v.fwd("combine", AG, CommGroup::MP, d.D2);
      break;
    case ScheduleKind::B0:
      v.fwd("dispatch", A2A, CommGroup::EP, d.D0);
      v.fwd("expert input", AG, CommGroup::ESP, N * d.D0);
      v.fwd("expert output", RS, CommGroup::ESP, N * d.D0);
      v.fwd("combine", A2A, CommGroup::EP, d.D0);
      break;
    case ScheduleKind::S1:
    case ScheduleKind::S1F: {
      const bool f = s == ScheduleKind::S1F;
      v.fwd("dispatch", A2A, CommGroup::EP, d.D1, f ? "SAA" : "");
      v.fwd("expert input", AG, CommGroup::ESP, N * d.D1, f ? "SAA" : "");
      v.fwd("expert output", RS, CommGroup::ESP, N * d.D1, f ? "RSA" : "");
      v.fwd("combine", A2A, CommGroup::EP, d.D1, f ? "RSA" : "");
      v.fwd("tokens", AG, CommGroup::MP, SM);
      break;
    }
    case ScheduleKind::S2:
    case ScheduleKind::S2F: {
      const bool f = s == ScheduleKind::S2F;
      const std::string chain = f ? "RS>A2A>AG" : "";
      v.fwd("dispatch", A2A, CommGroup::EP, d.D2 / N, f ? "SAA" : "");
      v.fwd("dispatch", AG, CommGroup::ESP, d.D2, f ? "SAA" : "");
      v.fwd("expert output", RS, CommGroup::ESP, d.D2, chain);
      v.fwd("combine", A2A, CommGroup::EP, d.D2 / N, chain);
      v.fwd("combine", AG, CommGroup::MP, d.D2, chain);
      break;
    }
  }
}

// N_ESP = 1: whole experts, no ESP collectives (spec section 4, last paragraph).
void whole_experts(ScheduleKind s, const DerivedSizes& d, std::int64_t SM, VolumeList& v) {
  const std::int64_t N = d.N;
  switch (s) {
    case ScheduleKind::B_DS:
    case ScheduleKind::B_DS2:
      v.fwd("dispatch", A2A, CommGroup::EP, d.D2 / N);
      v.fwd("combine", A2A, CommGroup::EP, d.D2 / N);
      v.fwd("combine", AG, CommGroup::MP, d.D2);
      break;
    case ScheduleKind::B0:
      v.fwd("dispatch", A2A, CommGroup::EP, d.D0);
      v.fwd("combine", A2A, CommGroup::EP, d.D0);
      break;
    case ScheduleKind::S1:
    case ScheduleKind::S1F:  // nothing to fuse without an ESP AllGather: S1F runs as S1
      v.fwd("dispatch", A2A, CommGroup::EP, d.D1);
      v.fwd("combine", A2A, CommGroup::EP, d.D1);
      v.fwd("tokens", AG, CommGroup::MP, SM);
      break;
    case ScheduleKind::S2:
    case ScheduleKind::S2F:  // S2 is B_DS with the last AlltoAll and MP-AllGather fused
      v.fwd("dispatch", A2A, CommGroup::EP, d.D2 / N);
      v.fwd("combine", A2A, CommGroup::EP, d.D2 / N, "SAA");
      v.fwd("combine", AG, CommGroup::MP, d.D2, "SAA");
      break;
  }
}

}  // namespace

std::vector<CollectiveVolume> schedule_volumes(const Config& config, const DerivedSizes& d, ScheduleKind s) {
  VolumeList v(d);
  const std::int64_t SM = d.S * config.layer.hidden;
  if (d.n_esp == 1 && d.N > 1)
    whole_experts(s, d, SM, v);
  else
    sharded_experts(s, d, SM, v);
  if (s == ScheduleKind::S1 || s == ScheduleKind::S1F)
    v.add(Pass::Backward, "router grad", AR, CommGroup::MP, config.layer.hidden * config.layer.num_experts);
  return v.items;
}

}  // namespace parm
