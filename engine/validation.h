// The rules a configuration must satisfy before anything runs (spec parm.md section 1 and the backends).
// Every violated rule is reported at once; layouts that run but perform badly are warnings.
#pragma once

#include "engine/config.h"
#include "engine/config_issue.h"

namespace parm {

ConfigIssues validate(const Config& config);

}  // namespace parm
