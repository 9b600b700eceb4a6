#include "store/desired_state.h"

#include "model/topics.h"

namespace byoc::store {

void raise_revision(Transaction& tx, model::Environment& env, int64_t now) {
  env.revision += 1;
  env.updated_at = now;
  tx.environments().put(env);
  tx.publish(model::topics::kRevision, model::topics::revision_message(env.id, env.revision));
}

}  // namespace byoc::store
