// The data check of a calibrated collective, as nccl-tests' -c 1: every rank's send buffer holds a known
// pattern (small integers that depend on the rank and the index, so every sum over ranks is exact in fp32),
// one call after the timed ones runs on it, and the output is compared on the host with what the collective
// must produce. A wrong element means a broken interconnect or communicator: the calibration fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace parm::calibrate {

enum class CheckedCollective { AlltoAll, AllGather, ReduceScatter, AllReduce, SendRecv };

// The value rank `rank` (of its communicator) sends at `index`: an integer in [-30, 30].
float pattern_value(int rank, std::int64_t index);

// The send buffer of `rank`: `elements` pattern values.
std::vector<float> pattern_buffer(int rank, std::size_t elements);

// How many input and output elements one call moves on a rank of `n` for `count`, in the count convention
// of StreamCommunicator: per peer (AlltoAll), per rank (AllGather, ReduceScatter), the whole buffer
// (AllReduce, in place), or the message (SendRecv to rank+1, from rank-1).
std::size_t input_elements(CheckedCollective op, int n, std::size_t count);
std::size_t output_elements(CheckedCollective op, int n, std::size_t count);

// What element `index` of the output of `rank` (of `n`) must be.
float expected_value(CheckedCollective op, int n, int rank, std::size_t count, std::size_t index);

// The output elements of `rank` that differ from expected_value (a NaN always differs); `out` holds
// output_elements(op, n, count) values.
std::int64_t count_wrong(CheckedCollective op, int n, int rank, std::size_t count, const float* out);

}  // namespace parm::calibrate
