#include "engine/core/json_input.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unordered_set>
#include <vector>

namespace parm {
namespace {

using nlohmann::json;

// Long tokens ("last read: '<1 MB>'") must not turn one line into a megabyte.
std::string clip(std::string s, std::size_t max = 160) {
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

// The parser quotes what it last read; invalid UTF-8 or control bytes must not reach a terminal raw.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

struct Place {
  std::size_t line = 1, column = 1;
};

Place place_of(std::string_view text, std::size_t byte) {
  Place p;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

std::string located(std::string_view source, Place p, const std::string& rule) {
  return std::string(source) + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": " + rule;
}

// The byte offset of the first bracket nested deeper than `max_depth`, skipping strings; npos when none. Runs
// before any parser so a 100k-level document never reaches recursive code.
std::size_t too_deep_at(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return i;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

// A SAX pass that builds nothing: it tracks the member path and refuses what nlohmann-json would accept
// silently (duplicate keys, NUL in strings, huge strings) or report as a raw exception (1e999).
class Checker : public nlohmann::json_sax<json> {
 public:
  explicit Checker(const JsonLimits& limits) : limits_(limits) {}

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t& s) override { return text_ok(s, path()) && value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override {
    frames_.push_back({true, path(), {}, 0, {}});
    return true;
  }
  bool key(string_t& k) override {
    Frame& f = frames_.back();
    f.key = k;
    if (!text_ok(k, member_path(f, k))) return false;
    if (!f.keys.insert(k).second)
      return refuse(member_path(f, k),
                    "duplicate key \"" + clip(k, 60) + "\" (a member may appear only once)");
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    frames_.push_back({false, path(), {}, 0, {}});
    return true;
  }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t byte, const std::string&, const nlohmann::detail::exception& e) override {
    error_byte_ = byte;
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..." -> "syntax error
    // ..."
    if (auto pos = what.find("column "); pos != std::string::npos) {
      if (auto colon = what.find(": ", pos); colon != std::string::npos) what = what.substr(colon + 2);
    } else if (auto bracket = what.find("] "); bracket != std::string::npos) {
      what = what.substr(bracket + 2);
    }
    if (e.id == 406)  // number overflow: the value is finite in the text only
      rule_ = clip(what) + " (numbers must fit a double, |x| < 1.8e308)";
    else
      rule_ = "malformed JSON: " + clip(printable(what), 200);
    return false;
  }

  const std::string& rule() const { return rule_; }
  const std::string& field() const { return field_; }
  std::size_t error_byte() const { return error_byte_; }

 private:
  struct Frame {
    bool object;
    std::string path;   // of the container itself
    std::string key;    // current member (objects)
    std::size_t index;  // current element (arrays)
    std::unordered_set<std::string> keys;
  };

  static std::string member_path(const Frame& f, const std::string& k) {
    return f.path.empty() ? k : f.path + "." + k;
  }

  std::string path() const {
    if (frames_.empty()) return {};
    const Frame& f = frames_.back();
    if (f.object) return member_path(f, f.key);
    return f.path + "[" + std::to_string(f.index) + "]";
  }

  bool value() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
    return true;
  }

  bool close() {
    frames_.pop_back();
    return value();
  }

  bool text_ok(const std::string& s, const std::string& where) {
    if (s.size() > limits_.max_string_bytes)
      return refuse(where, "a string of " + std::to_string(s.size()) + " bytes is longer than the " +
                               std::to_string(limits_.max_string_bytes) + "-byte limit");
    if (s.find('\0') != std::string::npos) return refuse(where, "a string holds a NUL character (\\u0000)");
    return true;
  }

  bool refuse(const std::string& where, const std::string& rule) {
    field_ = where;
    rule_ = rule;
    return false;
  }

  const JsonLimits& limits_;
  std::vector<Frame> frames_;
  std::string rule_, field_;
  std::size_t error_byte_ = std::string::npos;
};

}  // namespace

std::string printable(std::string_view text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f)
      out += c;
    else
      out += c == '\n' ? std::string("\\n") : std::string("\\x") + hex[u >> 4] + hex[u & 0xf];
  }
  return out;
}

JsonDocument parse_json_text(std::string_view text, std::string_view raw_source, const JsonLimits& limits) {
  JsonDocument doc;
  // Keys and paths quoted in a refusal may hold any character (a NUL, a newline: found by fuzzing).
  const std::string source = printable(raw_source);
  const auto refuse_at = [&](std::size_t byte, std::string rule) {
    const Place p = place_of(text, byte);
    doc.line = p.line;
    doc.column = p.column;
    doc.rule = printable(rule);
    doc.error = located(source, p, doc.rule);
  };
  if (text.size() > limits.max_file_bytes) {
    doc.rule = std::to_string(text.size()) + " bytes is above the " + std::to_string(limits.max_file_bytes) +
               "-byte limit for a JSON input";
    doc.error = source + ": " + doc.rule;
    return doc;
  }
  if (const std::size_t at = too_deep_at(text, limits.max_depth); at != std::string_view::npos) {
    refuse_at(at, "nesting deeper than " + std::to_string(limits.max_depth) + " levels (objects and arrays)");
    return doc;
  }
  Checker checker(limits);
  if (!json::sax_parse(text.begin(), text.end(), &checker)) {
    doc.field = checker.field();
    if (checker.error_byte() != std::string::npos) {
      // nlohmann counts the byte after the offending one; point at the offending byte itself.
      refuse_at(checker.error_byte() > 0 ? checker.error_byte() - 1 : 0, checker.rule());
    } else {
      doc.rule = printable(checker.rule());
      doc.error = source + ": " + (doc.field.empty() ? "" : clip(printable(doc.field)) + ": ") + doc.rule;
    }
    return doc;
  }
  doc.value = json::parse(text.begin(), text.end());  // cannot throw: the checker accepted the same text
  return doc;
}

std::optional<std::string> read_text_file(const std::string& path, std::size_t max_bytes,
                                          std::string& error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (S_ISDIR(st.st_mode)) {
    error = path + ": is a directory, not a file";
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {  // a FIFO or a device could block or never end
    error = path + ": is not a regular file";
    return std::nullopt;
  }
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    error = path + ": " + std::to_string(st.st_size) + " bytes is above the " + std::to_string(max_bytes) +
            "-byte limit for this input";
    return std::nullopt;
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  const std::size_t got = std::fread(text.data(), 1, text.size(), f);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) {
    error = path + ": read failed";
    return std::nullopt;
  }
  text.resize(got);
  return text;
}

JsonDocument read_json_file(const std::string& path, const JsonLimits& limits) {
  JsonDocument doc;
  auto text = read_text_file(path, limits.max_file_bytes, doc.error);
  if (!text) return doc;
  return parse_json_text(*text, path, limits);
}

}  // namespace parm
