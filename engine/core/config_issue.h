// One problem found in a configuration: the field it concerns, the value found there and the rule it breaks.
// Both the JSON reader and the validator report through it, so the CLI and the GUI print the same lines.
#pragma once

#include <string>
#include <vector>

namespace parm {

struct ConfigIssue {
  enum class Severity { Error, Warning };
  Severity severity = Severity::Error;
  std::string field;  // dotted path, e.g. "parallel.mp"
  std::string value;  // the offending value as the user wrote it (may be empty for a missing field)
  std::string rule;   // what must hold, e.g. "ranks (4) must be divisible by mp (P % N_MP == 0)"

  // "error: parallel.mp = 3: ranks (4) must be divisible by mp (P % N_MP == 0)"
  std::string line() const;
};

// A number as a user would write it in an issue's value: 1.2, 1e+300 (std::to_string gives 1e300 301 digits).
std::string shortest(double value);

struct ConfigIssues {
  std::vector<ConfigIssue> items;

  bool has_errors() const;
  std::vector<ConfigIssue> errors() const;
  std::vector<ConfigIssue> warnings() const;
  void error(std::string field, std::string value, std::string rule);
  void warning(std::string field, std::string value, std::string rule);
  void append(const ConfigIssues& other);
};

}  // namespace parm
