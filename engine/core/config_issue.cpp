#include "engine/core/config_issue.h"

#include <cstdio>
#include <string>
#include <utility>

#include "engine/core/json_input.h"

namespace parm {

std::string shortest(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", value);
  return buf;
}

// A key may hold any character, a newline included (found by fuzzing); an issue stays one line.
std::string ConfigIssue::line() const {
  std::string out = severity == Severity::Error ? "error: " : "warning: ";
  out += printable(field);
  if (!value.empty()) out += " = " + printable(value);
  out += ": " + printable(rule);
  return out;
}

bool ConfigIssues::has_errors() const {
  for (const auto& i : items)
    if (i.severity == ConfigIssue::Severity::Error) return true;
  return false;
}

std::vector<ConfigIssue> ConfigIssues::errors() const {
  std::vector<ConfigIssue> out;
  for (const auto& i : items)
    if (i.severity == ConfigIssue::Severity::Error) out.push_back(i);
  return out;
}

std::vector<ConfigIssue> ConfigIssues::warnings() const {
  std::vector<ConfigIssue> out;
  for (const auto& i : items)
    if (i.severity == ConfigIssue::Severity::Warning) out.push_back(i);
  return out;
}

void ConfigIssues::error(std::string field, std::string value, std::string rule) {
  items.push_back({ConfigIssue::Severity::Error, std::move(field), std::move(value), std::move(rule)});
}

void ConfigIssues::warning(std::string field, std::string value, std::string rule) {
  items.push_back({ConfigIssue::Severity::Warning, std::move(field), std::move(value), std::move(rule)});
}

void ConfigIssues::append(const ConfigIssues& other) {
  items.insert(items.end(), other.items.begin(), other.items.end());
}

}  // namespace parm
