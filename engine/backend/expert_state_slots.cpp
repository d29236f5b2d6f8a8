#include <stdexcept>
#include <string>

#include "engine/backend/compute.h"

namespace parm::backend {

layout::BlockCopy expert_state_copy(const ExpertStateSlots& s, std::int64_t blocks, std::int64_t width) {
  if (s.count == s.to_slots && s.to_first == 0 && s.from_first + s.count <= s.from_slots)
    return layout::slice_slots(blocks, s.from_slots, s.from_first, s.count, width);
  if (s.count == s.from_slots && s.from_first == 0 && s.to_first + s.count <= s.to_slots)
    return layout::place_slots(blocks, s.to_slots, s.to_first, s.count, width);
  throw std::logic_error("expert state copy: " + std::to_string(s.count) + " slots from " +
                         std::to_string(s.from_first) + " of " + std::to_string(s.from_slots) + " to " +
                         std::to_string(s.to_first) + " of " + std::to_string(s.to_slots) +
                         " is neither a slice nor a placement");
}

}  // namespace parm::backend
