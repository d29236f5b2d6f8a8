// nccl-tests' bus bandwidth (doc/PERFORMANCE.md): busbw = algbw * a factor that depends on the collective and
// the number of ranks, so every collective's busbw compares with the link's peak. The one definition that
// `parm calibrate`'s table (engine/calibrate/collectives.cpp) and the GUI's calibration page both use.
#pragma once

#include <optional>
#include <string_view>

namespace parm {

enum class BusCollective { AlltoAll, AllGather, ReduceScatter, AllReduce, SendRecv };

// The collective a calibration fit's op names ("alltoall", "allgather", "reducescatter", "allreduce", "p2p");
// nullopt for compute and overhead fits (gemm, experts, sync, ...), which have no bus bandwidth.
std::optional<BusCollective> bus_collective_of(std::string_view op);

// AllReduce 2(n-1)/n; AllGather, ReduceScatter, AlltoAll (n-1)/n; SendRecv (one pairwise step) 1.
double bus_bandwidth_factor(BusCollective kind, int ranks);

// The factor and what the size column means, in words ("busbw = algbw * (n-1)/n; size = output bytes").
const char* bus_bandwidth_formula(BusCollective kind);

}  // namespace parm
