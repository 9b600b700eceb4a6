// Reconciler: one per resource kind, Crossplane style. reconcile() reads the
// desired state from the store, observes the world, and takes the next
// idempotent step (create, update or delete); it never assumes the previous
// call succeeded. It persists what it is about to do before doing it.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace byoc::controllers {

struct ReconcileResult {
  // Set when the resource should be looked at again after this delay even if
  // nothing changes (e.g. waiting for a process to come up).
  std::optional<std::chrono::milliseconds> requeue_after;
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  // Throws to signal failure: the runner retries with backoff and jitter.
  virtual ReconcileResult reconcile(const std::string& id) = 0;
};

}  // namespace byoc::controllers
