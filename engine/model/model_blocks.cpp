#include "engine/model/model_blocks.h"

#include <algorithm>
#include <cstdlib>
#include <tuple>

namespace parm {
namespace {

// Which row a traced purpose belongs to, and its order; -1: not a model run's purpose.
struct RowOf {
  std::string block;
  long order = -1;
};

RowOf row_of(const std::string& purpose) {
  if (purpose.rfind("block", 0) == 0) {
    const std::string number =
        purpose.substr(5, purpose.find(' ') == std::string::npos ? std::string::npos : purpose.find(' ') - 5);
    if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos) return {};
    return {"block" + number, 1 + std::strtol(number.c_str(), nullptr, 10)};
  }
  if (purpose == "embedding") return {"embedding", 0};
  if (purpose == "head" || purpose == "head input" || purpose.rfind("loss ", 0) == 0)
    return {"head", 1L << 40};
  if (purpose.rfind("gradient bucket", 0) == 0) return {"gradient sync", (1L << 40) + 1};
  return {};
}

// The part an op is counted in: a block's compute section by its name, the collectives by their group,
// everything else (gate, experts, the layer's own collectives, ...) is the MoE layer's.
std::string part_of(const std::string& op, const std::string& purpose) {
  static const char* kSections[] = {"Attention", "Residual+LN", "Residual", "FFN",
                                    "Embedding", "Head",        "Loss"};
  for (const char* s : kSections)
    if (op == s) return s;
  if (op == "AllReduce" &&
      (purpose.find(" attention") != std::string::npos || purpose.find(" ffn") != std::string::npos ||
       purpose == "embedding" || purpose == "head input" || purpose.rfind("loss ", 0) == 0))
    return "TP AllReduce";
  if (op == "AllReduce" && (purpose.find("gradient") != std::string::npos)) return "gradient sync";
  return "MoE layer";
}

}  // namespace

std::vector<ModelBlockTimes> model_block_times(const std::map<OpKey, double>& aggregated) {
  std::map<long, ModelBlockTimes> rows;
  for (const auto& [key, ms] : aggregated) {
    const auto& [schedule, phase, op, purpose] = key;
    const RowOf row = row_of(purpose);
    if (row.order < 0) continue;
    ModelBlockTimes& b = rows[row.order];
    b.block = row.block;
    b.ms[schedule] += ms;
    const std::string part = part_of(op, purpose);
    auto it =
        std::find_if(b.parts.begin(), b.parts.end(), [&](const ModelPartTimes& p) { return p.part == part; });
    if (it == b.parts.end()) it = b.parts.insert(b.parts.end(), ModelPartTimes{part, {}});
    it->ms[schedule] += ms;
  }
  std::vector<ModelBlockTimes> out;
  for (auto& [order, row] : rows) out.push_back(std::move(row));
  return out;
}

}  // namespace parm
