// Buffered text output for the exporters: a million events are written as text directly, never through a JSON
// DOM, and the stream sees large writes only.
#pragma once

#include <charconv>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace parm::db {

class TextWriter {
 public:
  explicit TextWriter(std::ostream& out) : out_(out) { buf_.reserve(kFlushAt + 4096); }
  ~TextWriter() { flush(); }
  TextWriter(const TextWriter&) = delete;
  TextWriter& operator=(const TextWriter&) = delete;

  TextWriter& operator<<(std::string_view s) {
    buf_.append(s);
    if (buf_.size() >= kFlushAt) flush();
    return *this;
  }
  TextWriter& operator<<(char c) {
    buf_.push_back(c);
    return *this;
  }
  TextWriter& operator<<(std::int64_t v) {
    char tmp[24];
    const auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
    buf_.append(tmp, r.ptr);
    return *this;
  }
  TextWriter& operator<<(int v) { return *this << std::int64_t{v}; }
  // Nanoseconds as microseconds with three decimals ("12.345"), exact and locale-free.
  TextWriter& micros(std::int64_t ns) {
    if (ns < 0) {
      buf_.push_back('-');
      ns = -ns;
    }
    *this << ns / 1000;
    const auto frac = static_cast<int>(ns % 1000);
    buf_.push_back('.');
    buf_.push_back(static_cast<char>('0' + frac / 100));
    buf_.push_back(static_cast<char>('0' + frac / 10 % 10));
    buf_.push_back(static_cast<char>('0' + frac % 10));
    return *this;
  }
  void flush() {
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
  }

 private:
  static constexpr std::size_t kFlushAt = 1 << 20;
  std::ostream& out_;
  std::string buf_;
};

// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);
// `s` as a CSV field, quoted only when it must be.
std::string csv_field(std::string_view s);

}  // namespace parm::db
