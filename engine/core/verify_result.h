// What `--verify` found for one schedule (spec parm.md section 8), as data: which check it got, the relative
// errors of the output, dX and every parameter gradient, the tolerance, and for the routing-validity check
// what was checked. Collective: every rank of a run holds the same report; `parm run` prints rank 0's.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace parm {

// Reference: the schedule routes exactly as the reference layer, so every tensor must equal it.
// RoutingValidity: the schedule legitimately routes differently (drop regime, another capacity: S1's token
// slices with C1, B_DS2/S2's C2 != C0); its routing must be valid and every tensor must equal the reference
// layer run on that routing.
enum class VerifyCheck { Reference, RoutingValidity };

std::string_view to_string(VerifyCheck check);  // "reference", "routing validity"

// Counts of the routing-validity check, each choice counted once (S1: every MP rank's slice; elsewhere the
// MP group's one routing), summed over the MP groups.
struct RoutingCounts {
  std::int64_t kept = 0;            // choices inside capacity
  std::int64_t dropped = 0;         // choices over capacity
  std::int64_t dropped_tokens = 0;  // tokens with no kept choice: their output rows were checked to be zero
  std::int64_t capacity_slots = 0;  // capacity slots available (E * C per routing)
};

// One parameter gradient's relative error ("dWg", "dW1", "db1", "dW3", "db3", "dW2", "db2").
struct ParamError {
  std::string name;
  double error = 0;
};

struct VerifyReport {
  VerifyCheck check = VerifyCheck::Reference;
  // Relative errors: max |distributed - reference| / max |reference| over the tensor, worst over ranks.
  // NaN where not compared (a routing that broke a rule is not run through the reference).
  double output = 0;
  double input_grad = 0;
  double router_grad = 0;
  double expert_grads = 0;                // worst of the expert parameters below
  std::vector<ParamError> expert_params;  // each expert parameter this layer has
  double tolerance = 0;
  // Choices dropped for lack of capacity, summed over ranks (the schedule's, counting each choice once) and
  // in the reference.
  std::int64_t dropped = 0;
  std::int64_t reference_dropped = 0;
  RoutingCounts routing{};  // RoutingValidity only
  std::string
      rule_broken{};  // RoutingValidity: the first routing rule broken ("rank 1: slot used twice: ...")
  bool passed = true;

  double worst() const;  // of the four errors (NaN counts as worst)
  // Empty when passed; else one line naming what failed: "output 3.1e-02 > tolerance 1.0e-05" or the rule.
  std::string failure() const;
  std::string worst_expert_param() const;  // the name of the expert parameter with the largest error
};

nlohmann::json to_json(const VerifyReport& v);
VerifyReport verify_report_from_json(const nlohmann::json& j, const std::string& path);  // throws naming path

}  // namespace parm
