#include "access/access_store.h"

#include "store/desired_state.h"

namespace byoc::access {

bool granted(const std::string& state) { return state == model::kAccessApproved || state == model::kAccessActive; }

void record_access_change(store::Transaction& tx, const AuditLogs& logs, const model::AccessRequest& r,
                          const std::string& was, const AccessEvent& event, int64_t now, ChangedBy by) {
  tx.access_requests().put(r);
  logs.append(tx, logs.environment_log(r.environment_id), format_access_event(r, event));
  if (by == ChangedBy::kAgent || granted(was) == granted(r.state)) return;
  if (auto env = tx.environments().by_id(r.environment_id)) store::raise_revision(tx, *env, now);
}

}  // namespace byoc::access
