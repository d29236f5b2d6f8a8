#include "engine/run/gate_logits.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "engine/core/json_input.h"

namespace parm {
namespace {

constexpr std::size_t kMaxFileBytes = 1024ull * 1024 * 1024;  // 1 GiB of logits is far beyond any layer here

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

struct Array {
  std::vector<std::int64_t> shape;
  std::vector<double> values;
};

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw GateLogitsError(path + ": " + why);
}

// numpy's format: magic, version, header length, a Python dict literal, then the raw C-order values.
Array parse_npy(const std::string& path, const std::string& bytes) {
  if (bytes.size() < 10) fail(path, "a truncated .npy header");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) |
                 (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(path, "a truncated .npy header");
    for (int i = 3; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[8 + i]);
    offset = 12;
  } else {
    fail(path, ".npy format version " + std::to_string(major) + " is not one of 1, 2, 3");
  }
  if (bytes.size() < offset + header_len) fail(path, "a truncated .npy header");
  const std::string header = bytes.substr(offset, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([^']*)')")))
    fail(path, "the .npy header has no 'descr'");
  const std::string descr = m[1];
  std::size_t item = 0;
  if (descr == "<f8")
    item = 8;
  else if (descr == "<f4")
    item = 4;
  else
    fail(path, "dtype '" + descr + "' is not float32 or float64 little-endian ('<f4', '<f8')");
  if (std::regex_search(header, std::regex(R"('fortran_order'\s*:\s*True)")))
    fail(path, "Fortran-ordered arrays are not read; save with np.ascontiguousarray");
  if (!std::regex_search(header, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))")))
    fail(path, "the .npy header has no 'shape'");
  Array a;
  std::stringstream dims(m[1].str());
  std::string dim;
  while (std::getline(dims, dim, ',')) {
    if (dim.find_first_not_of(" \t") == std::string::npos) continue;
    try {
      a.shape.push_back(std::stoll(dim));
    } catch (const std::exception&) {
      fail(path, "the .npy shape '(" + m[1].str() + ")' is not a tuple of integers");
    }
  }
  std::size_t count = 1;
  for (std::int64_t d : a.shape) {
    if (d < 0) fail(path, "negative dimension in shape " + shape_text(a.shape));
    count *= static_cast<std::size_t>(d);
  }
  const std::size_t data = offset + header_len;
  if (bytes.size() - data != count * item)
    fail(path, "shape " + shape_text(a.shape) + " needs " + std::to_string(count * item) +
                   " bytes of data, the file has " + std::to_string(bytes.size() - data));
  static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian host");
  a.values.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (item == 8) {
      std::memcpy(&a.values[i], bytes.data() + data + i * 8, 8);
    } else {
      float f = 0;
      std::memcpy(&f, bytes.data() + data + i * 4, 4);
      a.values[i] = f;
    }
  }
  return a;
}

// A rectangular nested array of numbers, two or three levels deep.
void flatten(const std::string& path, const nlohmann::json& j, std::size_t depth, Array& a) {
  if (!j.is_array()) {
    if (depth != a.shape.size() || !j.is_number())
      fail(path, "expected a nested array of numbers (S x E or groups x S x E)");
    a.values.push_back(j.get<double>());
    return;
  }
  if (depth == a.shape.size())
    a.shape.push_back(static_cast<std::int64_t>(j.size()));
  else if (depth > a.shape.size() || a.shape[depth] != static_cast<std::int64_t>(j.size()))
    fail(path, "the nested array is not rectangular (rows of different lengths at depth " +
                   std::to_string(depth) + ")");
  if (a.shape.size() > 3) fail(path, "more than 3 levels of nesting; expected S x E or groups x S x E");
  for (const auto& item : j) flatten(path, item, depth + 1, a);
}

Array parse_json(const std::string& path, const std::string& text) {
  JsonLimits limits;
  limits.max_file_bytes = kMaxFileBytes;
  const JsonDocument doc = parse_json_text(text, path, limits);
  if (!doc.ok()) fail(path, "not .npy, and not JSON: " + doc.rule);
  Array a;
  flatten(path, *doc.value, 0, a);
  std::size_t count = 1;
  for (std::int64_t d : a.shape) count *= static_cast<std::size_t>(d);
  if (a.values.size() != count) fail(path, "the nested array is not rectangular");
  return a;
}

}  // namespace

GateLogits read_gate_logits(const std::string& path, std::int64_t groups, std::int64_t tokens,
                            std::int64_t experts) {
  std::string error;
  const auto bytes = read_text_file(path, kMaxFileBytes, error);
  if (!bytes) throw GateLogitsError(error);  // names the path already
  const bool npy = bytes->size() >= 6 && bytes->compare(0, 6, "\x93NUMPY") == 0;
  const Array a = npy ? parse_npy(path, *bytes) : parse_json(path, *bytes);

  const std::vector<std::int64_t> full{groups, tokens, experts}, shared{tokens, experts};
  if (a.shape != full && a.shape != shared)
    fail(path, "shape " + shape_text(a.shape) + " does not match the layer: expected " + shape_text(full) +
                   " (groups, S, E) or " + shape_text(shared) + " (S, E, used for every MP group)");
  for (double v : a.values)
    if (!std::isfinite(v)) fail(path, "holds a value that is not finite (NaN or infinity)");

  GateLogits out;
  out.groups = groups;
  out.tokens = tokens;
  out.experts = experts;
  out.source = path;
  if (a.shape == full) {
    out.values = a.values;
  } else {
    out.values.reserve(static_cast<std::size_t>(groups) * a.values.size());
    for (std::int64_t g = 0; g < groups; ++g)
      out.values.insert(out.values.end(), a.values.begin(), a.values.end());
  }
  return out;
}

}  // namespace parm
