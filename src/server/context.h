// What the route handlers share: the store and the pool its calls run on, the
// clock, the server's identity, the long-poll waiters, the hooks into the
// controllers and the caches of answers derived from the store. Owned by
// run_server(); handlers hold a reference.
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "access/audit_log.h"
#include "base/clock.h"
#include "base/work_pool.h"
#include "cloud/driver.h"
#include "server/audit.h"
#include "server/auth.h"
#include "server/http.h"
#include "server/identity.h"
#include "server/metrics.h"
#include "server/plane.h"
#include "server/presence.h"
#include "server/waiters.h"
#include "store/generation_cache.h"
#include "store/store.h"

namespace byoc::server {

struct ServerContext {
  ServerContext(store::Store& store_, WorkPool& pool, const Clock& clock_, const ServerIdentity& identity_,
                std::map<std::string, cloud::CloudDriver*> drivers_)
      : store(store_), store_pool(pool), clock(clock_), identity(identity_), drivers(std::move(drivers_)),
        presence(clock_) {}

  store::Store& store;
  WorkPool& store_pool;  // every store call from a handler runs here, never on an I/O thread
  const Clock& clock;  // time, and the timers of long-poll holds
  const ServerIdentity& identity;
  std::map<std::string, cloud::CloudDriver*> drivers;
  RevisionWaiters waiters;
  AgentPresence presence;
  // This server among the servers sharing the store (null in tests that
  // run handlers alone: then it is the plane's only server, "server").
  PlaneMembership* plane = nullptr;
  std::string server_id() const { return plane ? plane->id() : "server"; }
  // Where agents may reach the plane (join and sync answers); empty: unknown.
  std::vector<std::string> plane_urls() const { return plane ? plane->urls() : std::vector<std::string>{}; }
  // Queues a reconcile of "<kind>/<id>".
  std::function<void(const std::string& key)> enqueue;
  std::chrono::milliseconds sync_hold{30'000};
  Metrics metrics;
  // Sources allowed to read GET /metrics (loopback by default).
  std::vector<std::string> metrics_allowed_cidrs{"127.0.0.0/8", "::1/128"};
  // Read answers (see cached_read() below) are reused while the store's
  // generation is unchanged. BYOC_RESPONSE_CACHE=off turns that off, to
  // measure the uncached path (bench/api).
  bool cache_responses = response_cache_enabled();
  VerifiedTokens tokens;
  // Where audit records go (null: nowhere, in tests of handlers alone), and
  // the audit logs the audit routes read (null: those routes answer 503).
  AuditSink* audit = nullptr;
  access::AuditLogs* audit_logs = nullptr;
  store::GenerationCache<std::string> responses{1024};  // response bodies by route, parameters and principal

  static bool response_cache_enabled() {
    const char* setting = std::getenv("BYOC_RESPONSE_CACHE");
    return setting == nullptr || std::string(setting) != "off";
  }
};

// Runs `fn` in one write transaction with the call's audit record (audit.h):
// if `fn` returns, the record of the call answered with `status` is written
// in the same transaction, so the change and its record are kept together.
void transact_audited(ServerContext& ctx, const HttpRequest& req, int status,
                      const std::function<void(store::Transaction&)>& fn);

// transact_audited() that first checks the admitted caller's token still
// exists (401 otherwise): a change admitted a moment before its token was
// revoked, and queued meanwhile, must not happen after it.
void transact_as_caller(ServerContext& ctx, const HttpRequest& req, int status,
                        const std::function<void(store::Transaction&)>& fn);

// Wraps a blocking handler body: runs it on the store pool and answers with
// its response, or with the error it threw.
Handler blocking(ServerContext& ctx, std::function<HttpResponse(HttpRequest&)> body);

// The body of a read-only GET: JSON text that depends only on the store's
// state, the request (route, path parameters, query) and who asks for which
// organisation. Throws byoc::Error for error answers.
using ReadRenderer = std::function<std::string(store::Transaction& tx, const Principal& who,
                                               const std::string& organization, const HttpRequest& request)>;

// Wraps a read-only GET (its caller admitted by the dispatcher).
// When the caller's token and the rendered body are both known at the store's
// current generation, answers at once on the calling (I/O) thread without
// touching the store. Otherwise renders on the store pool in a read-only
// snapshot (Store::read, beside other readers and the writer) and remembers
// the body for the same route, parameters, query and principal's role and
// organisation. Error answers are not remembered.
Handler cached_read(ServerContext& ctx, ReadRenderer render);

}  // namespace byoc::server
