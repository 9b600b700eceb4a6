#include "controllers/access_controller.h"

#include <algorithm>

#include "access/access_request.h"
#include "access/access_store.h"

namespace byoc::controllers {

ReconcileResult AccessController::reconcile(const std::string& id) {
  int64_t deadline = 0;
  store_.transact([&](store::Transaction& tx) {
    deadline = 0;  // this attempt's (a transaction may run again)
    auto r = tx.access_requests().by_id(id);
    if (!r) return;
    int64_t now = clock_.unix_seconds();
    std::string was = r->state;
    if (access::expire_if_due(*r, now))
      access::record_access_change(tx, logs_, *r, was, {clock_.unix_millis(), "expired", "plane", {}}, now);
    deadline = access::next_deadline(*r);
  });
  if (deadline == 0) return {};
  // A second past the deadline, so that the look finds it due.
  int64_t wait = std::max<int64_t>(deadline - clock_.unix_seconds(), 0) + 1;
  return {std::chrono::milliseconds(wait * 1000)};
}

}  // namespace byoc::controllers
