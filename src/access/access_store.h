// What goes with every change of an access request, in the caller's
// transaction: the request stored, its event in the environment's audit log,
// and — when a grant entered or left the desired state (approved; revoked,
// done or expired while granted) — the environment's revision raised, so its
// agent hears of it at once.
#pragma once

#include "access/access_event.h"
#include "access/audit_log.h"
#include "store/store.h"

namespace byoc::access {

// Whether requests in `state` are in the environment's desired state (the
// agent issues for them, or keeps their certificate valid).
bool granted(const std::string& state);

// Who made the change: the agent's own reports (APPROVED → ACTIVE or
// REFUSED) tell it nothing new; every other change it must hear of.
enum class ChangedBy { kPlane, kAgent };

// `was` is the request's state before the change.
void record_access_change(store::Transaction& tx, const AuditLogs& logs, const model::AccessRequest& r,
                          const std::string& was, const AccessEvent& event, int64_t now,
                          ChangedBy by = ChangedBy::kPlane);

}  // namespace byoc::access
