// The agent channel: join (join token → client certificate) and sync (status
// and usage up, desired state down, long-polled).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/error.h"
#include "controllers/service_operations.h"
#include "model/protocol.h"
#include "access/access_event.h"
#include "access/access_request.h"
#include "access/access_store.h"
#include "server/routes.h"
#include "server/tokens.h"

namespace byoc::server {
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr auto kAgentCertificateLifetime = 24h * 30;
constexpr const char* kAgentCnPrefix = "agent:";

// The environment an agent's verified certificate speaks for.
std::string agent_environment(store::Transaction& tx, const HttpRequest& req) {
  if (!req.peer || req.peer->common_name.rfind(kAgentCnPrefix, 0) != 0)
    throw Error::Unauthenticated("an agent client certificate is required");
  std::string env_id = req.peer->common_name.substr(std::string(kAgentCnPrefix).size());
  auto agent = tx.agents().by_environment(env_id);
  // Only the newest certificate issued for the environment counts (a rejoin
  // or a deleted environment revokes the old one), and the one a renewal
  // replaced until the new one shows up.
  if (!agent) throw Error::Unauthenticated("agent certificate revoked");
  const std::string& serial = req.peer->serial_hex;
  if (serial == agent->certificate_serial) {
    if (!agent->previous_serial.empty()) {
      agent->previous_serial.clear();  // the agent has the new one: the old one is done
      tx.agents().put(*agent);
    }
  } else if (agent->previous_serial.empty() || serial != agent->previous_serial) {
    throw Error::Unauthenticated("agent certificate revoked");
  }
  return env_id;
}

// A client certificate for the environment's agent, for the key in `csr_pem`.
std::string agent_certificate(ServerContext& ctx, const std::string& environment_id, const std::string& csr_pem) {
  crypto::CertificateSpec spec;
  spec.common_name = kAgentCnPrefix + environment_id;
  spec.client_auth = true;
  spec.not_before = ctx.clock.system_time() - 1h;
  spec.not_after = ctx.clock.system_time() + kAgentCertificateLifetime;
  return crypto::sign_csr(ctx.identity.agent_ca, csr_pem, spec);
}

// The grants an agent of `protocol` hears of: the approved and the active
// ones (an active one it keeps valid; any it issued that is not here, it
// revokes) of the scopes its protocol knows — an older agent's parser refuses
// a desired state naming another; such a grant waits for an upgraded agent.
std::vector<model::DesiredGrant> desired_grants(store::Transaction& tx, const model::Environment& env, int protocol) {
  std::vector<model::DesiredGrant> out;
  // Active ones first: were the list ever cut, it must not drop a grant in use.
  for (const char* state : {model::kAccessActive, model::kAccessApproved}) {
    store::AccessRequestFilter filter;
    filter.state = state;
    filter.limit = static_cast<int64_t>(model::kMaxGrants);
    for (const auto& r : tx.access_requests().list(env.id, filter)) {
      if (out.size() == model::kMaxGrants) break;
      if (r.scope != model::kScopeClickhouseSystem && protocol < model::kKubernetesAccessProtocolVersion) continue;
      model::DesiredGrant g{r.id,        r.requester,    r.scope,              r.csr_pem, r.duration_seconds,
                            r.not_before, r.not_after,    r.expires_at,         r.required_approvals, {},
                            r.customer_approval};
      for (const auto& v : r.reviews) g.reviews.push_back({v.reviewer, v.role, v.decision, v.time});
      out.push_back(std::move(g));
    }
  }
  return out;
}

model::DesiredState desired_state(store::Transaction& tx, const model::Environment& env, int protocol) {
  model::DesiredState d;
  d.revision = env.revision;
  d.environment_id = env.id;
  d.environment_name = env.name;
  d.environment_cidr = env.cidr;
  for (const auto& s : tx.services().list(env.id)) {
    if (s.state == model::kDeleting) continue;
    d.services.push_back({s.name, s.clickhouse_version, s.shards, s.replicas, s.cpu_millis, s.memory_mib,
                          s.allowed_ips, s.password_sha256_hex});
    // Which node group its replicas run on (a Kubernetes runtime's node
    // selector): its profile's, or the one placement chose for a custom
    // size. An agent before protocol 5 would refuse the field.
    if (protocol >= model::kKubernetesAccessProtocolVersion)
      d.services.back().profile = s.profile.empty() ? s.node_type : s.profile;
    // The rolling change an upgrade asks for (the upgrade controller starts
    // none for an older agent, whose parser would refuse not_after).
    if (protocol >= model::kRolloutProtocolVersion) {
      d.services.back().rollout = s.rollout;
    } else if (s.rollout) {
      // An older agent can't be paced: it keeps the version it had until it
      // speaks protocol 6 (the controller starts nothing for it meanwhile).
      if (auto u = tx.upgrades().by_id(s.rollout->id); u && u->to_version == s.clickhouse_version)
        d.services.back().clickhouse_version = u->from_version;
    }
  }
  if (protocol >= model::kGrantsProtocolVersion) d.grants = desired_grants(tx, env, protocol);
  return d;
}

// The access part of a report: the customer's policy (as the agent says),
// the support CA, and what became of each approved grant — with an event in
// the environment's audit log for each change.
bool record_access_report(store::Transaction& tx, ServerContext& ctx, model::Environment& env,
                          const model::AgentStatus& status, int64_t now) {
  bool env_changed = false;
  if (status.access) {
    model::AgentAccessPolicy reported = env.agent_access;
    reported.reported = true;
    reported.support_access = status.access->support_access;
    reported.customer_approval_required = status.access->customer_approval_required;
    reported.max_grant_seconds = status.access->max_grant_seconds;
    reported.scopes = status.access->scopes.value_or(model::AgentAccessPolicy{}.scopes);
    if (reported != env.agent_access) {
      env.agent_access = reported;
      env_changed = true;
      if (ctx.audit_logs)
        ctx.audit_logs->append(tx, ctx.audit_logs->environment_log(env.id),
                               access::format_policy_event(ctx.clock.unix_millis(), env.id, "agent", "customer",
                                                           model::to_json(reported)));
    }
  }
  if (!status.support_ca_pem.empty() && status.support_ca_pem != env.agent_access.support_ca_pem) {
    env.agent_access.support_ca_pem = status.support_ca_pem;
    env_changed = true;
    // The CA engineers are handed: its (first or new) fingerprint goes on the record.
    if (ctx.audit_logs)
      ctx.audit_logs->append(tx, ctx.audit_logs->environment_log(env.id),
                             access::format_policy_event(ctx.clock.unix_millis(), env.id, "agent", "support_ca",
                                                         {{"sha256", crypto::certificate_sha256_hex(status.support_ca_pem)}}));
  }
  for (const auto& g : status.grants) {
    auto r = tx.access_requests().by_id(g.request_id);
    // Only a grant of this environment that is waiting for its answer.
    if (!r || r->environment_id != env.id || r->state != model::kAccessApproved || !ctx.audit_logs) continue;
    std::string was = r->state;
    access::AccessEvent event{ctx.clock.unix_millis(), g.state, "agent", {}};
    if (g.state == "issued") {
      // The certificate must be for the approved key, from the support CA the agent reports.
      bool for_the_key = false;
      try {
        for_the_key = crypto::certificate_public_key_sha256_hex(g.certificate_pem) == r->csr_public_key_sha256 &&
                      crypto::inspect(g.certificate_pem).serial_hex == g.serial &&
                      crypto::verify_issued_by(g.certificate_pem, env.agent_access.support_ca_pem,
                                               ctx.clock.system_time());
      } catch (const Error&) {
      }
      if (!for_the_key) {
        spdlog::warn("environment {} reported a certificate for {} that is not for its key", env.id, r->id);
        continue;
      }
      access::issued(*r, g.certificate_pem, g.serial, now);
      event.detail = {{"serial", g.serial}};
    } else {
      access::refused(*r, g.reason, now);
      event.detail = {{"reason_code", g.reason}};
    }
    access::record_access_change(tx, *ctx.audit_logs, *r, was, event, now, access::ChangedBy::kAgent);
  }
  return env_changed;
}

// Numbered entries the agent reported (gateway refusals, Kubernetes API
// requests), each seq once and in order, into the environment's audit log;
// `appended` is the highest seq on the record. True when it moved.
template <typename Entry, typename Format>
bool append_numbered(store::Transaction& tx, ServerContext& ctx, const std::string& environment_id,
                     std::vector<Entry> entries, int64_t& appended, Format format) {
  if (!ctx.audit_logs || entries.empty()) return false;
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  int64_t seen = appended;
  for (const auto& e : entries) {
    if (e.seq <= seen) continue;  // a retried report: already on the record
    ctx.audit_logs->append(tx, ctx.audit_logs->environment_log(environment_id),
                           format(ctx.clock.unix_millis(), environment_id, e));
    seen = e.seq;
  }
  if (seen == appended) return false;
  appended = seen;
  return true;
}

// The environment's audit log as of this snapshot: the checkpoint, and the
// proof that it extends the one the agent kept (none when the agent kept
// none, or claims more than there is — which it then sees for itself).
model::AuditAnswer audit_answer(store::Transaction& tx, access::AuditLogs& logs, const std::string& env_id,
                                int64_t known_size) {
  auto log = logs.environment_log(env_id);
  model::AuditAnswer out{logs.verifier_key(), logs.checkpoint(tx, log), {}};
  int64_t size = logs.size(tx, log);
  if (known_size > 0 && known_size < size) out.consistency = logs.consistency_proof(tx, log, known_size, size);
  return out;
}

struct SyncOutcome {
  model::Environment env;
  std::vector<std::string> changed_services;
  bool protocol_changed = false;  // the agent now speaks another protocol version
  int64_t acked_seq = 0;
};

// Records what the agent reported; writes only what changed.
SyncOutcome record_report(store::Transaction& tx, ServerContext& ctx, const std::string& env_id,
                          const model::SyncRequest& report) {
  SyncOutcome out;
  auto env = tx.environments().by_id(env_id);
  if (!env) throw Error::Unauthenticated("environment no longer exists");
  int64_t now = ctx.clock.unix_seconds();
  // The agent syncs here now: a server it left stays quiet about it.
  auto session = tx.agent_sessions().by_environment(env_id);
  if (!session || session->server_id != ctx.server_id()) tx.agent_sessions().put({env_id, ctx.server_id(), now});
  bool env_changed = env->set_condition("agent_connected", true, "", now);
  if (report.protocol_version != env->agent_protocol) {
    env->agent_protocol = report.protocol_version;
    env_changed = true;
    out.protocol_changed = true;
  }
  if (!report.status.environment_ca_pem.empty() && report.status.environment_ca_pem != env->ca_pem) {
    env->ca_pem = report.status.environment_ca_pem;
    env_changed = true;
  }
  if (report.status.host && (report.status.host->cores != env->host_cores ||
                             report.status.host->memory_mib != env->host_memory_mib)) {
    env->host_cores = report.status.host->cores;
    env->host_memory_mib = report.status.host->memory_mib;
    env_changed = true;
  }
  env_changed = record_access_report(tx, ctx, *env, report.status, now) || env_changed;
  env_changed = append_numbered(tx, ctx, env->id, report.gateway_denials, env->agent_access.denials_seq,
                                access::format_gateway_denial_event) ||
                env_changed;
  env_changed = append_numbered(tx, ctx, env->id, report.kube_requests, env->agent_access.kube_requests_seq,
                                access::format_kube_request_event) ||
                env_changed;
  if (!report.status.audit.empty())
    env_changed = env->set_condition("audit_consistent", report.status.audit == "consistent",
                                     report.status.audit == "consistent" ? "" : "audit_inconsistent", now) ||
                  env_changed;
  if (report.status.applied_revision != env->applied_revision &&
      report.status.applied_revision <= env->revision) {
    env->applied_revision = report.status.applied_revision;
    env_changed = true;
  }
  if (env_changed) {
    env->updated_at = now;
    tx.environments().put(*env);
  }
  bool applied_current = env->applied_revision >= env->revision;
  for (auto svc : tx.services().list(env_id)) {
    const model::ReportedService* seen = nullptr;
    for (const auto& r : report.status.services)
      if (r.name == svc.name) seen = &r;
    if (svc.state == model::kDeleting) {
      // Gone from the agent once it has applied the revision that removed it.
      if (!seen && applied_current) {
        tx.services().remove(svc.id);
        controllers::settle_service_operations(tx, *env, svc.name, std::nullopt, now);
        out.changed_services.push_back(svc.name);
      }
      continue;
    }
    if (!seen) continue;
    std::string state = seen->state == "DELETING" ? model::kProvisioning : seen->state;
    // A READY report of an older revision doesn't prove the newest spec runs.
    if (state == model::kReady && !applied_current) state = model::kProvisioning;
    if (state == svc.state && seen->reason == svc.reason && seen->endpoint == svc.endpoint &&
        seen->native_endpoint == svc.native_endpoint && seen->support_gateway == svc.support_gateway &&
        seen->rollout == svc.rollout_status) {
      // Unchanged, but an update may have just been applied (or refused).
      if (env_changed) controllers::settle_service_operations(tx, *env, svc.name, svc, now);
      continue;
    }
    svc.state = state;
    svc.reason = seen->reason;
    svc.endpoint = seen->endpoint;
    svc.native_endpoint = seen->native_endpoint;
    svc.support_gateway = seen->support_gateway;
    svc.rollout_status = seen->rollout;
    svc.updated_at = now;
    tx.services().put(svc);
    controllers::settle_service_operations(tx, *env, svc.name, svc, now);
    out.changed_services.push_back(svc.name);
  }
  for (const auto& u : report.usage) tx.usage().insert(env_id, u);
  out.acked_seq = tx.usage().max_seq(env_id);
  out.env = *env;
  return out;
}

}  // namespace

void add_agent_routes(Router& router, ServerContext& ctx) {
  router.add({"POST", "/v1/agent/join", "agent.join", Access::kAgent, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    json body = parse_json_body(req);
    if (!body.is_object() || !body.contains("token") || !body["token"].is_string() || !body.contains("csr") ||
        !body["csr"].is_string() || body.size() != 2)
      throw Error::BadRequest("invalid_body", "body must be {\"token\": string, \"csr\": string}");
    auto parts = parse_join_token(body["token"].get<std::string>());
    if (!parts) throw Error::Unauthenticated("invalid or expired join token");
    json out;
    std::string env_name;
    transact_audited(ctx, req, 200, [&](store::Transaction& tx) {
      auto token = tx.join_tokens().by_id(parts->id);
      int64_t now = ctx.clock.unix_seconds();
      if (!token || !secret_matches(parts->secret, token->secret_sha256_hex) || token->used_at != 0 ||
          token->expires_at <= now)
        throw Error::Unauthenticated("invalid or expired join token");
      auto env = tx.environments().by_id(token->environment_id);
      if (!env || env->state == model::kDeleting) throw Error::Unauthenticated("invalid or expired join token");
      req.trace->token_id = parts->id;  // the audit's actor: the join token, never its secret
      std::string cert = agent_certificate(ctx, env->id, body["csr"].get<std::string>());
      token->used_at = now;
      tx.join_tokens().put(*token);
      tx.agents().put({env->id, crypto::inspect(cert).serial_hex, now, ""});
      env_name = env->name;
      req.trace->created_id = req.trace->environment_id = env->id;
      out = {{"environment_id", env->id}, {"environment_name", env->name}, {"certificate", cert}};
      // The key the agent pins to check this environment's audit log.
      if (ctx.audit_logs) out["audit_key"] = ctx.audit_logs->verifier_key();
      if (auto servers = ctx.plane_urls(); !servers.empty()) out["servers"] = servers;
    });
    spdlog::info("agent joined environment {}", env_name);
    return HttpResponse::json(200, out);
  }));

  // A new certificate for a new key, asked with the current (or just
  // replaced) certificate before it expires. The replaced one stays valid
  // until the new one is first used.
  router.add({"POST", "/v1/agent/renew", "agent.renew", Access::kAgent, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    json out;
    std::string env_id;
    transact_audited(ctx, req, 200, [&](store::Transaction& tx) {
      env_id = req.trace->environment_id = agent_environment(tx, req);
      json body = parse_json_body(req);
      if (!body.is_object() || !body.contains("csr") || !body["csr"].is_string() || body.size() != 1)
        throw Error::BadRequest("invalid_body", "body must be {\"csr\": string}");
      auto agent = tx.agents().by_environment(env_id);
      std::string cert = agent_certificate(ctx, env_id, body["csr"].get<std::string>());
      agent->previous_serial = req.peer->serial_hex;
      agent->certificate_serial = crypto::inspect(cert).serial_hex;
      tx.agents().put(*agent);
      out = {{"certificate", cert}};
    });
    spdlog::info("the agent of environment {} renewed its certificate", env_id);
    return HttpResponse::json(200, out);
  }));

  router.add({"POST", "/v1/agent/sync", "agent.sync", Access::kAgent, Effect::kReport},
             [&ctx](HttpRequest& req, std::shared_ptr<Responder> responder) {
    ctx.store_pool.post([&ctx, req = std::move(req), responder]() {
      std::string env_id;
      try {
        model::SyncRequest report;
        SyncOutcome outcome;
        bool parsed = false;
        // One transaction: the certificate checked first (a revoked agent
        // learns nothing of its report), then the report recorded.
        try {
          ctx.store.transact([&](store::Transaction& tx) {
            env_id = agent_environment(tx, req);
            parsed = false;
            report = model::parse_sync_request(parse_json_body(req));
            parsed = true;
            outcome = record_report(tx, ctx, env_id, report);
          });
        } catch (const Error& e) {
          // The telemetry allowlist: a report with anything else is refused whole.
          if (!env_id.empty() && !parsed)
            spdlog::warn("rejected a sync report from environment {}: {} ({})", env_id, e.code(), e.field());
          throw;
        }
        for (const auto& name : outcome.changed_services) ctx.enqueue("service/" + env_id + ":" + name);
        // A service's state or rollout progress moved: its upgrade may move on.
        if (!outcome.changed_services.empty() || outcome.protocol_changed) ctx.enqueue(upgrades_key(env_id));
        int64_t revision = outcome.env.revision;
        int64_t acked = outcome.acked_seq;
        int64_t denials_acked = outcome.env.agent_access.denials_seq;
        int64_t kube_requests_acked = outcome.env.agent_access.kube_requests_seq;
        MonotonicTime started = ctx.clock.monotonic_time();
        bool immediate = report.known_revision < revision;
        int protocol = report.protocol_version;
        int64_t known_audit_size = report.known_audit_size;
        auto answer = [&ctx, env_id, acked, denials_acked, kube_requests_acked, responder, started, immediate,
                       protocol, known_audit_size](bool with_desired) {
          model::SyncResponse res;
          res.usage_acked_seq = acked;
          if (protocol >= model::kGatewayProtocolVersion) res.denials_acked_seq = denials_acked;
          if (protocol >= model::kKubernetesAccessProtocolVersion) res.kube_requests_acked_seq = kube_requests_acked;
          if (protocol >= 2) res.servers = ctx.plane_urls();
          ctx.store.read([&](store::Transaction& tx) {
            auto env = tx.environments().by_id(env_id);
            if (!env) throw Error::Unauthenticated("environment no longer exists");
            res.revision = env->revision;
            if (with_desired) res.desired = desired_state(tx, *env, protocol);
            if (with_desired && protocol >= model::kGrantsProtocolVersion && ctx.audit_logs)
              res.audit = audit_answer(tx, *ctx.audit_logs, env->id, known_audit_size);
          });
          ctx.presence.end(env_id);
          responder->send(HttpResponse::json(200, model::to_json(res)));
          ctx.metrics.observe_sync(immediate ? "immediate" : (with_desired ? "changed" : "unchanged"),
                                   std::chrono::duration<double>(ctx.clock.monotonic_time() - started).count());
        };
        ctx.presence.begin(env_id);
        if (immediate) {
          answer(true);
          return;
        }
        // Hold until the revision moves or the deadline passes; whichever
        // comes first answers, the other finds the ticket gone.
        auto ticket = std::make_shared<std::atomic<uint64_t>>(0);
        auto respond_later = [&ctx, answer, env_id, responder](bool with_desired) {
          ctx.store_pool.post([answer, with_desired, env_id, responder, &ctx]() {
            try {
              answer(with_desired);
            } catch (const std::exception& e) {
              ctx.presence.end(env_id);
              responder->send(error_response(e));
            } catch (...) {
              ctx.presence.end(env_id);
              responder->send(internal_error_response(nullptr, "a non-standard exception"));
            }
          });
        };
        // A wake cancels the deadline timer, so no timer outlives its request.
        struct Deadline {
          std::mutex mutex;
          bool woken = false;
          CancelTimer cancel;
        };
        auto deadline = std::make_shared<Deadline>();
        ticket->store(ctx.waiters.wait(env_id, report.known_revision, [respond_later, deadline] {
          {
            std::lock_guard lock(deadline->mutex);
            deadline->woken = true;
            if (deadline->cancel) deadline->cancel();
          }
          respond_later(true);
        }));
        if (ticket->load() == 0) return;  // fired at once
        CancelTimer cancel = ctx.clock.schedule(ctx.sync_hold, [&ctx, env_id, ticket, respond_later] {
          if (ctx.waiters.cancel(env_id, ticket->load())) respond_later(false);
        });
        std::lock_guard lock(deadline->mutex);
        if (deadline->woken) cancel();
        else deadline->cancel = std::move(cancel);
      } catch (const std::exception& e) {
        responder->send(error_response(e, &req));
      } catch (...) {
        responder->send(internal_error_response(&req, "a non-standard exception"));
      }
    });
  });
}

}  // namespace byoc::server
