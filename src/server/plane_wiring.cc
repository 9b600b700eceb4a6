// What a server does as one of the plane's servers: it hears what the others
// publish through the store (new revisions wake its waiting agents; a
// deleted environment is forgotten) and keeps each environment's
// `agent_connected` condition right while agents move between servers.
#include <spdlog/spdlog.h>

#include "model/topics.h"
#include "server/routes.h"

namespace byoc::server {
namespace {
// A sweep looks for agent sessions of servers that died every this many sweeps.
constexpr int kDeadServerSweepEvery = 6;

// Sets the condition false (written only if it changes).
void mark_disconnected(store::Transaction& tx, const std::string& environment_id, int64_t now) {
  auto env = tx.environments().by_id(environment_id);
  if (env && env->set_condition("agent_connected", false, "agent_disconnected", now)) {
    env->updated_at = now;
    tx.environments().put(*env);
  }
}
}  // namespace

void subscribe_to_plane(ServerContext& ctx) {
  ctx.store.subscribe([&ctx](const std::string& topic, const std::string& message) {
    if (topic == model::topics::kRevision) {
      if (auto revision = model::topics::parse_revision_message(message))
        ctx.waiters.notify(revision->first, revision->second);
    } else if (topic == model::topics::kEnvironmentDeleted) {
      ctx.waiters.forget(message);
    } else if (topic == model::topics::kServers) {
      if (ctx.plane && message != ctx.plane->id()) {
        ctx.store_pool.post([&ctx] {
          try {
            ctx.plane->refresh();
          } catch (const std::exception& e) {
            spdlog::warn("re-reading the plane's servers failed: {}", e.what());
          }
        });
      }
    } else if (topic.empty()) {
      // Messages may have been lost: one read of every revision wakes
      // whoever missed theirs (the rest would after their hold anyway).
      ctx.store_pool.post([&ctx] {
        try {
          if (ctx.plane) ctx.plane->refresh();
          std::vector<model::Environment> all;
          ctx.store.read([&](store::Transaction& tx) { all = tx.environments().list(""); });
          for (const auto& env : all) ctx.waiters.notify(env.id, env.revision);
        } catch (const std::exception& e) {
          spdlog::warn("re-reading revisions after lost notifications failed: {}", e.what());
        }
      });
    }
  });
}

void seed_agent_presence(ServerContext& ctx) {
  // Agents that synced with this server before it restarted get one grace
  // period to come back (those of other servers are theirs to watch).
  std::vector<std::string> ours;
  ctx.store.read([&](store::Transaction& tx) {
    ours.clear();  // this attempt's (a read may run again)
    for (const auto& env : tx.environments().list("")) {
      const model::Condition* c = env.condition("agent_connected");
      if (!c || !c->status) continue;
      auto session = tx.agent_sessions().by_environment(env.id);
      if (session && session->server_id != ctx.server_id()) continue;
      ours.push_back(env.id);
    }
  });
  for (const auto& id : ours) {
    ctx.presence.begin(id);
    ctx.presence.end(id);
  }
}

void sweep_agent_presence(ServerContext& ctx) {
  static std::atomic<int> sweeps{0};
  bool look_for_dead_servers = ctx.plane && ++sweeps % kDeadServerSweepEvery == 0;
  auto gone = ctx.presence.take_disconnected();
  if (gone.empty() && !look_for_dead_servers) return;
  ctx.store.transact([&](store::Transaction& tx) {
    int64_t now = ctx.clock.unix_seconds();
    for (const auto& id : gone) {
      if (ctx.presence.connected(id)) continue;
      // Only the server the agent last synced with says it left.
      bool ours = tx.agent_sessions().remove(id, ctx.server_id());
      if (ours || !tx.agent_sessions().by_environment(id)) mark_disconnected(tx, id, now);
    }
    if (!look_for_dead_servers) return;
    // Agents whose server died and that came back nowhere are gone too.
    for (const auto& s : tx.agent_sessions().held_elsewhere(ctx.server_id())) {
      if (ctx.plane->alive(s.server_id) || ctx.presence.connected(s.environment_id)) continue;
      tx.agent_sessions().remove(s.environment_id, s.server_id);
      mark_disconnected(tx, s.environment_id, now);
    }
  });
}

}  // namespace byoc::server
