// Admission: before a route's handler runs, the dispatcher establishes who
// calls (the bearer token) and whether the route's Access lets them, once for
// every API-token route — handlers never check a token themselves. A request
// is admitted as of the moment it is checked: its handler's transaction may
// begin a moment later.
#pragma once

#include <exception>
#include <functional>
#include <memory>

#include "base/work_pool.h"
#include "server/auth.h"
#include "server/http.h"
#include "server/route_spec.h"
#include "store/generation_cache.h"
#include "store/store.h"

namespace byoc::server {

class Admission {
 public:
  virtual ~Admission() = default;
  // Checks `request` against `spec`, setting request->trace->caller as soon
  // as the token is verified and ->organization once admitted, then calls
  // `then` exactly once: with nullptr when admitted, with the refusal (401,
  // 403, 404) otherwise. `then` may run on this thread or on another.
  virtual void admit(const RouteSpec& spec, std::shared_ptr<HttpRequest> request,
                     std::function<void(std::exception_ptr)> then) = 0;
};

// Admission against the store's tokens and organisations. Decides on the
// calling (I/O) thread when the token — and, where it must exist, the
// organisation addressed — were verified at the store's current generation
// (SQLite: known there); otherwise continues on the store pool (so a handler
// that runs on the pool next needs no second hop), where a shared store's
// current generation is established first (one round trip, shared) and the
// store read only if the token wasn't verified at it.
class StoreAdmission final : public Admission {
 public:
  StoreAdmission(store::Store& store, WorkPool& pool, VerifiedTokens& tokens)
      : store_(store), pool_(pool), tokens_(tokens) {}

  void admit(const RouteSpec& spec, std::shared_ptr<HttpRequest> request,
             std::function<void(std::exception_ptr)> then) override;

 private:
  // True (and the trace filled) if decided without the store, from what was
  // verified at `generation`.
  bool admit_known(const RouteSpec& spec, HttpRequest& request, uint64_t generation);
  void admit_from_store(const RouteSpec& spec, HttpRequest& request);

  store::Store& store_;
  WorkPool& pool_;
  VerifiedTokens& tokens_;
  store::GenerationCache<bool> organizations_{1024};  // names known to exist
};

}  // namespace byoc::server
