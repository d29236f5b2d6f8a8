// How much a rank may preallocate for its trace records. The buffers are sized before the run so recording
// never allocates; bounded by bytes, not by the run's length, since a layer run for a million iterations
// otherwise committed 1.6 GB per rank before its first op (6.4 GB for a 4-rank job on one machine). Records
// past the bound are counted, not stored, and the worker says so.
#pragma once

#include <algorithm>
#include <cstddef>

namespace parm::profiler {

inline constexpr std::size_t kTraceBufferBytes = std::size_t{256} << 20;  // per buffer and rank

// `wanted` records of type Record, at most what kTraceBufferBytes holds.
template <class Record>
constexpr std::size_t bounded_records(std::size_t wanted) {
  return std::min(wanted, kTraceBufferBytes / sizeof(Record));
}

}  // namespace parm::profiler
