// Every JSON document a user hands us (configurations, calibrations, grids, anything the GUI opens) is read
// through here, so hostile input gets one line naming the file, the place and the rule, never a crash, a raw
// library exception or a silent surprise:
// - nesting deeper than `max_depth` is refused before the recursive DOM is built (100k levels overflowed the
//   stack);
// - a number outside double's range (1e999) is refused, naming its text;
// - a duplicate key is refused, naming its path (nlohmann-json silently keeps the last one);
// - a string longer than `max_string_bytes`, or holding a NUL character (\u0000), is refused;
// - a directory, a missing or unreadable file, or a file above `max_file_bytes` is named as such, not as
//   "malformed JSON".
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace parm {

struct JsonLimits {
  std::size_t max_depth = 64;                     // objects + arrays, nested
  std::size_t max_string_bytes = 64 * 1024;       // any string value or key
  std::size_t max_file_bytes = 64 * 1024 * 1024;  // the whole document
};

struct JsonDocument {
  std::optional<nlohmann::json> value;  // set when the document passed every rule
  // When refused: "SOURCE:LINE:COLUMN: RULE" (or "SOURCE: RULE" when no place is known); one line.
  std::string error;
  std::string field;  // the dotted path of the offending member, where one is known ("layer.batch")
  std::string rule;   // the rule alone, without source or place
  std::size_t line = 0, column = 0;  // 1-based place of the problem; 0 when unknown

  bool ok() const { return value.has_value(); }
};

// `text` with every control character escaped ("\n", "\x00"), so a key or a value quoted in a message keeps
// it one line.
std::string printable(std::string_view text);

// `source` names the document in messages (a path, "config", "the editor").
JsonDocument parse_json_text(std::string_view text, std::string_view source, const JsonLimits& limits = {});

// Reads `path` (refusing directories, missing, unreadable or oversized files) and parses it.
JsonDocument read_json_file(const std::string& path, const JsonLimits& limits = {});

// The file's text, or nullopt with `error` set to one line ("PATH: is a directory, not a file"). Shared by
// the readers of JSON and of other text inputs (hostfiles, tables).
std::optional<std::string> read_text_file(const std::string& path, std::size_t max_bytes, std::string& error);

}  // namespace parm
