// The synchronisation overheads a layer pays that the alpha-beta terms miss, on the layout's own
// communicators and the backend's streams (as the executor uses them): "sync" (EP, inter lane) and "sync_mp"
// (MP, intra lane).
#pragma once

#include <ostream>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/calibrate/harness.h"
#include "engine/calibrate/measurement.h"
#include "engine/core/config.h"

namespace parm::calibrate {

// Appends "sync" and "sync_mp" to `fits` (a group of one rank is not measured), in the layer's dtype. Runs
// after the collectives.
void time_sync_overheads(const Config& config, backend::Backend& backend, const backend::StreamGroups& groups,
                         const Harness& harness, std::vector<Measurement>& fits, std::ostream& table);

}  // namespace parm::calibrate
