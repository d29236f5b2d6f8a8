// The three lanes every backend runs a rank's work on: local compute, intra-node communication (MP/ESP
// collectives) and inter-node communication (EP collectives). Which lane an op uses is schedule data; the
// model prices lanes and the backends map them to threads (cpu) or streams (cuda).
#pragma once

#include <string_view>

namespace parm {

enum class Lane { Compute = 0, Intra = 1, Inter = 2 };
inline constexpr int kLaneCount = 3;

constexpr std::string_view to_string(Lane lane) {
  switch (lane) {
    case Lane::Compute:
      return "compute";
    case Lane::Intra:
      return "intra";
    case Lane::Inter:
      return "inter";
  }
  return "?";
}

}  // namespace parm
