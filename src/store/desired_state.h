// The one way an environment's desired state moves on: a new revision,
// stored, and — once the transaction commits — published, so the agent
// waiting on any server of the plane wakes (store.h: publish).
#pragma once

#include <cstdint>

#include "model/objects.h"
#include "store/store.h"

namespace byoc::store {

void raise_revision(Transaction& tx, model::Environment& env, int64_t now);

}  // namespace byoc::store
