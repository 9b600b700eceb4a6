// What the route handlers share: the store and the pool its calls run on, the
// clock, the server's identity, the long-poll waiters and the hooks into the
// controllers. Owned by run_server(); handlers hold a reference.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "base/clock.h"
#include "base/work_pool.h"
#include "cloud/driver.h"
#include "server/http.h"
#include "server/identity.h"
#include "server/metrics.h"
#include "server/presence.h"
#include "server/waiters.h"
#include "store/store.h"

namespace byoc::server {

struct ServerContext {
  ServerContext(store::Store& store_, WorkPool& pool, const Clock& clock_, const ServerIdentity& identity_,
                std::map<std::string, cloud::CloudDriver*> drivers_)
      : store(store_), store_pool(pool), clock(clock_), identity(identity_), drivers(std::move(drivers_)),
        presence(clock_) {}

  store::Store& store;
  WorkPool& store_pool;  // every store call from a handler runs here, never on an I/O thread
  const Clock& clock;
  const ServerIdentity& identity;
  std::map<std::string, cloud::CloudDriver*> drivers;
  RevisionWaiters waiters;
  AgentPresence presence;
  // Queues a reconcile of "<kind>/<id>".
  std::function<void(const std::string& key)> enqueue;
  // Runs `fn` after `delay` (long-poll deadlines); returns a canceller.
  std::function<std::function<void()>(std::chrono::milliseconds, std::function<void()>)> after;
  std::chrono::milliseconds sync_hold{30'000};
  Metrics metrics;
  // Sources allowed to read GET /metrics (loopback by default).
  std::vector<std::string> metrics_allowed_cidrs{"127.0.0.0/8", "::1/128"};
};

// Wraps a blocking handler body: runs it on the store pool and answers with
// its response, or with the error it threw.
Handler blocking(ServerContext& ctx, std::function<HttpResponse(HttpRequest&)> body);

}  // namespace byoc::server
