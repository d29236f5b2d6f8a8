#include "engine/model/bus_bandwidth.h"

namespace parm {

std::optional<BusCollective> bus_collective_of(std::string_view op) {
  if (op == "alltoall") return BusCollective::AlltoAll;
  if (op == "allgather") return BusCollective::AllGather;
  if (op == "reducescatter") return BusCollective::ReduceScatter;
  if (op == "allreduce") return BusCollective::AllReduce;
  if (op == "p2p") return BusCollective::SendRecv;
  return std::nullopt;
}

double bus_bandwidth_factor(BusCollective kind, int ranks) {
  if (ranks < 1) return 0;
  const double share = double(ranks - 1) / double(ranks);
  switch (kind) {
    case BusCollective::AllReduce:
      return 2 * share;
    case BusCollective::SendRecv:
      return 1.0;
    case BusCollective::AlltoAll:
    case BusCollective::AllGather:
    case BusCollective::ReduceScatter:
      return share;
  }
  return share;
}

const char* bus_bandwidth_formula(BusCollective kind) {
  switch (kind) {
    case BusCollective::AlltoAll:
      return "busbw = algbw * (n-1)/n; size = send bytes per rank";
    case BusCollective::AllGather:
      return "busbw = algbw * (n-1)/n; size = output bytes";
    case BusCollective::ReduceScatter:
      return "busbw = algbw * (n-1)/n; size = input bytes";
    case BusCollective::AllReduce:
      return "busbw = algbw * 2(n-1)/n; size = bytes";
    case BusCollective::SendRecv:
      return "busbw = algbw; one pairwise step (send to q+1, receive from q-1); size = bytes sent";
  }
  return "";
}

}  // namespace parm
