// How a schedule is named: an index into the schedule registry (schedule_registry.h), printed and parsed as
// the schedule's name ("B_DS", "S1F", ...). A new schedule needs no edit here: the registry assigns its
// index. Constants name the built-in schedules of spec parm.md section 4 (the registry's first entries, in
// that order) for code that means one of them, such as B_DS as the speedup baseline.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parm {

class ScheduleKind {
 public:
  constexpr ScheduleKind() = default;
  constexpr explicit ScheduleKind(int registry_index) : index_(registry_index) {}
  constexpr int index() const { return index_; }
  constexpr explicit operator int() const { return index_; }
  friend constexpr auto operator<=>(ScheduleKind, ScheduleKind) = default;

  static const ScheduleKind B_DS, B_DS2, B0, S1, S1F, S2, S2F;

 private:
  int index_ = 0;  // B_DS
};

inline constexpr ScheduleKind ScheduleKind::B_DS{0};
inline constexpr ScheduleKind ScheduleKind::B_DS2{1};
inline constexpr ScheduleKind ScheduleKind::B0{2};
inline constexpr ScheduleKind ScheduleKind::S1{3};
inline constexpr ScheduleKind ScheduleKind::S1F{4};
inline constexpr ScheduleKind ScheduleKind::S2{5};
inline constexpr ScheduleKind ScheduleKind::S2F{6};

// The seven schedules of spec section 4. Code that means "every schedule" iterates all_schedules(), which
// also lists those registered later (test fixtures); this list is for code and tests about the spec's seven.
inline constexpr ScheduleKind kAllSchedules[] = {ScheduleKind::B_DS, ScheduleKind::B_DS2, ScheduleKind::B0,
                                                 ScheduleKind::S1,   ScheduleKind::S1F,   ScheduleKind::S2,
                                                 ScheduleKind::S2F};

// The schedule every speedup is measured against ("speedup_vs_B_DS").
inline constexpr ScheduleKind kSpeedupBaseline = ScheduleKind::B_DS;

// Through the registry (schedule_registry.cpp): the name, or "?" for an index it does not hold.
std::string_view to_string(ScheduleKind s);
std::optional<ScheduleKind> parse_schedule(std::string_view name);
// Every registered schedule in registry order: the built-ins, then those registered at start-up.
std::vector<ScheduleKind> all_schedules();
// Every registered schedule including the pipelined variants (schedule_registry.h), in registration order:
// for code that lists whatever a run holds.
std::vector<ScheduleKind> every_schedule();
// Their names, comma-separated ("B_DS, B_DS2, ..."), for messages that list the known schedules.
std::string schedule_names();

}  // namespace parm
