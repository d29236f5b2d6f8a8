// Reading a run result file (run_result.cpp, verify_result.cpp): every accessor names the dotted path of the
// field, so a truncated or hand-edited result fails with one line pointing at the culprit.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace parm::result_fields {

[[noreturn]] inline void bad_field(const std::string& path, const std::string& rule) {
  throw std::runtime_error("run result: " + path + ": " + rule);
}

inline std::string field_of(const std::string& path, const char* key) {
  return path.empty() ? key : path + "." + key;
}

// j[key], refusing a j that is not an object and a missing key.
inline const nlohmann::json& member(const nlohmann::json& j, const std::string& path, const char* key) {
  if (!j.is_object()) bad_field(path.empty() ? "(top level)" : path, "expected an object");
  const auto it = j.find(key);
  if (it == j.end()) bad_field(field_of(path, key), "missing");
  return *it;
}

}  // namespace parm::result_fields
