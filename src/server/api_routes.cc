// The public API: environments, services, operations, join tokens.
#include <nlohmann/json.hpp>
#include <optional>

#include "base/crypto.h"
#include "base/error.h"
#include "controllers/environment_controller.h"
#include "model/json_text.h"
#include "model/requests.h"
#include "model/service_resize.h"
#include "model/topics.h"
#include "model/validate.h"
#include "server/auth.h"
#include "server/idempotency.h"
#include "server/routes.h"
#include "server/tokens.h"
#include "store/desired_state.h"

namespace byoc::server {
using nlohmann::json;

namespace {

constexpr int64_t kJoinTokenLifetime = 3600;

using store::raise_revision;

}  // namespace

namespace {

// {"items":[...]} with each item written by model::append_json.
template <typename Item, typename... Context>
std::string list(const std::vector<Item>& items, const Context&... context) {
  std::string out = "{\"items\":[";
  out.reserve(out.size() + items.size() * 512);  // a typical item without certificates
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    model::append_json(out, items[i], context...);
  }
  out += "]}";
  return out;
}

template <typename... Args>
std::string json_text(const Args&... object) {
  std::string out;
  model::append_json(out, object...);
  return out;
}

}  // namespace

model::Environment find_environment(store::Transaction& tx, const std::string& organization,
                                    const std::string& name) {
  auto env = tx.environments().by_name(organization, name);
  if (!env) throw Error::NotFound("environment '" + name + "' not found", "environment");
  return *env;
}

model::Service find_service(store::Transaction& tx, const model::Environment& env, const std::string& name) {
  auto svc = tx.services().by_name(env.id, name);
  if (!svc) throw Error::NotFound("service '" + name + "' not found", "service");
  return *svc;
}

namespace {

model::Operation new_operation(const std::string& kind, const model::Environment& env,
                               const std::string& service_name, std::vector<std::string> steps, int64_t now) {
  model::Operation op;
  op.id = model::new_id("op-");
  op.kind = kind;
  op.environment_id = env.id;
  op.environment_name = env.name;
  op.organization = env.organization;
  op.service_name = service_name;
  steps.insert(steps.begin(), "store");
  for (const auto& s : steps) op.steps.push_back({s, "pending"});
  op.created_at = op.updated_at = now;
  if (op.steps.size() > 1) op.advance_to(op.steps[1].name);
  else op.steps[0].state = "done";
  return op;
}

// A change to one environment that runs as an operation of `kind`. While one
// runs, a repeat answers with it; otherwise `begin` checks the request,
// changes the environment and returns the new operation, stored together.
// Either way the environment's reconcile is queued.
using BeginOperation = std::function<model::Operation(store::Transaction&, model::Environment&, int64_t now)>;
HttpResponse environment_operation(ServerContext& ctx, HttpRequest& req, const std::string& kind,
                                   const BeginOperation& begin) {
  model::Operation op;
  std::string id;
  transact_as_caller(ctx, req, 202, [&](store::Transaction& tx) {
    model::Environment env = find_environment(tx, req.organization(), req.params["env"]);
    id = env.id;
    if (auto running = controllers::running_operation(tx, kind, env.id)) {
      op = *running;
      return;
    }
    op = begin(tx, env, ctx.clock.unix_seconds());
    tx.environments().put(env);
    tx.operations().put(op);
  });
  ctx.enqueue(environment_key(id));
  return HttpResponse::json(202, model::to_json(op));
}
std::string service_key(const std::string& env_id, const std::string& name) {
  return "service/" + env_id + ":" + name;
}

// What a PATCH changed: the desired state (the agent must hear of it), or
// only the resize kept for the window.
struct ServiceChange {
  bool desired = false;
  bool kept = false;
};

// A PATCH's resize or scale: applied now (the agent rolls it replica by
// replica), or kept for the service's window, where the upgrade controller
// applies it. Either replaces one kept before.
ServiceChange resize_service(model::Service& svc, const model::Environment& env, const model::ServicePatch& patch,
                             int64_t now) {
  // Profiles only for a profile by name (a host-based environment may not know its capacity yet).
  std::vector<plan::Profile> profiles;
  if (patch.profile) profiles = environment_profiles(env);
  model::ServiceResize resize = model::resize_of(patch, svc, profiles);
  resize.requested_at = now;
  const std::optional<model::ServiceResize> kept = svc.pending_resize;
  if (patch.at_window) {
    const model::MaintenancePolicy& policy = svc.maintenance ? *svc.maintenance : env.maintenance;
    if (!policy.window)
      throw Error::Conflict("no_window", "the service has no maintenance window to wait for", "when");
    model::Service trial = svc;
    model::apply_resize(trial, resize, env);  // refused now, not when the window opens
    svc.pending_resize.reset();
    if (model::resize_changes(resize, svc)) {
      // The same request again keeps its first time.
      if (kept && model::same_size(resize, *kept)) resize.requested_at = kept->requested_at;
      svc.pending_resize = resize;
    }
    return {false, svc.pending_resize != kept};
  }
  svc.pending_resize.reset();
  if (!model::resize_changes(resize, svc)) return {false, kept.has_value()};
  model::apply_resize(svc, resize, env);
  return {true, kept.has_value()};
}

}  // namespace

std::string environment_key(const std::string& id) { return "environment/" + id; }

void add_api_routes(Router& router, ServerContext& ctx) {
  router.add({"GET", "/healthz", "health.get", Access::kPublic, Effect::kRead},
             [](HttpRequest&, std::shared_ptr<Responder> r) {
    r->send(HttpResponse::json(200, {{"status", "ok"}}));
  });

  router.add({"GET", "/v1/openapi.json", "openapi.get", Access::kPublic, Effect::kRead},
             [](HttpRequest&, std::shared_ptr<Responder> r) {
    HttpResponse res;
    res.body = std::string(openapi_document());
    r->send(std::move(res));
  });

  router.add({"GET", "/metrics", "metrics.get", Access::kPublic, Effect::kRead},
             [&ctx](HttpRequest& req, std::shared_ptr<Responder> r) {
    model::Cidr source;
    std::string address = req.remote_address;
    if (address.rfind("::ffff:", 0) == 0) address = address.substr(7);
    bool allowed = false;
    if (model::parse_canonical_cidr(address + (address.find(':') == std::string::npos ? "/32" : "/128"), &source))
      for (const auto& cidr : ctx.metrics_allowed_cidrs) {
        model::Cidr range;
        if (model::parse_canonical_cidr(cidr, &range) && range.contains(source)) allowed = true;
      }
    if (!allowed) throw Error::Forbidden("metrics are served to allowed sources only");
    HttpResponse res;
    res.body = ctx.metrics.render();
    res.headers.emplace_back("Content-Type", "text/plain; version=0.0.4");
    r->send(std::move(res));
  });

  router.add({"POST", "/v1/environments", "environment.create", Access::kWrite, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    model::Environment env;
    HttpResponse res;
    bool replayed = false;
    const std::string& org = req.organization();
    transact_as_caller(ctx, req, 202, [&](store::Transaction& tx) {
      int64_t now = ctx.clock.unix_seconds();
      res = idempotent(tx, req.caller(), req, now, [&] {
        env = model::parse_environment_create(parse_json_body(req));
        if (tx.environments().by_name(org, env.name))
          throw Error::Conflict("already_exists", "an environment named '" + env.name + "' exists", "name");
        env.id = model::new_id("env-");
        env.organization = org;
        env.created_at = env.updated_at = now;
        env.set_condition("agent_connected", false, "never_connected", now);
        ctx.drivers.at(env.cloud)->onboard(env);
        auto op = new_operation("environment.create", env, "", ctx.drivers.at(env.cloud)->provision_steps(), now);
        tx.environments().put(env);
        tx.operations().put(op);
        return HttpResponse::json(202, model::to_json(op));
      }, &replayed);
      if (!replayed) req.trace->created_id = req.trace->environment_id = env.id;
    });
    if (!replayed) ctx.enqueue(environment_key(env.id));
    return res;
  }));

  router.add({"GET", "/v1/environments", "environment.list", Access::kRead, Effect::kRead},
             cached_read(ctx, [](store::Transaction& tx, const Principal&, const std::string& org, const HttpRequest&) {
               return list(tx.environments().list(org));
             }));

  router.add({"GET", "/v1/environments/{env}", "environment.get", Access::kRead, Effect::kRead},
             cached_read(ctx, [](store::Transaction& tx, const Principal&, const std::string& org,
                                 const HttpRequest& req) {
               return json_text(find_environment(tx, org, req.params.at("env")));
             }));

  router.add({"DELETE", "/v1/environments/{env}", "environment.delete", Access::kWrite, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    return environment_operation(ctx, req, "environment.delete", [](store::Transaction& tx, model::Environment& env, int64_t now) {
      if (!tx.services().list(env.id).empty())
        throw Error::Conflict("environment_not_empty", "delete the environment's services first", "environment");
      env.state = model::kDeleting;
      env.updated_at = now;
      return new_operation("environment.delete", env, "", {"deprovision"}, now);
    });
  }));

  // A FAILED environment is driven again: its failed action under a new token.
  router.add({"POST", "/v1/environments/{env}/retry", "environment.retry", Access::kWrite, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    return environment_operation(ctx, req, "environment.retry", [&ctx](store::Transaction&, model::Environment& env, int64_t now) {
      if (env.state != model::kFailed)
        throw Error::Conflict("not_failed", "environment '" + env.name + "' is " + env.state + ", not FAILED",
                              "environment");
      model::Operation op =
          new_operation("environment.retry", env, "", ctx.drivers.at(env.cloud)->provision_steps(), now);
      controllers::prepare_retry(env, now, op.id);
      return op;
    });
  }));

  router.add({"POST", "/v1/environments/{env}/join-tokens", "join_token.create", Access::kJoinToken, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    HttpResponse res;
    bool replayed = false;
    transact_as_caller(ctx, req, 201, [&](store::Transaction& tx) {
      model::Environment env = find_environment(tx, req.organization(), req.params["env"]);
      int64_t now = ctx.clock.unix_seconds();
      res = idempotent(tx, req.caller(), req, now, [&] {
        model::check_object_fields(parse_json_body(req), {}, {});
        if (env.state == model::kDeleting)
          throw Error::Conflict("environment_deleting", "the environment is being deleted", "environment");
        NewToken t = make_join_token(ctx.identity.ca_sha256_hex);
        int64_t expires = now + kJoinTokenLifetime;
        tx.join_tokens().put({t.id, env.id, t.secret_sha256_hex, expires, 0});
        req.trace->created_id = t.id;
        return HttpResponse::json(201, {{"token", t.text}, {"expires_at", format_rfc3339(expires)}});
      }, &replayed);
    });
    return res;
  }));

  router.add({"POST", "/v1/environments/{env}/services", "service.create", Access::kWrite, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    model::Environment env;
    HttpResponse res;
    bool replayed = false;
    transact_as_caller(ctx, req, 202, [&](store::Transaction& tx) {
      env = find_environment(tx, req.organization(), req.params["env"]);
      int64_t now = ctx.clock.unix_seconds();
      res = idempotent(tx, req.caller(), req, now, [&] {
        json body = parse_json_body(req);
        // Profiles are computed only when asked for: a host-based environment
        // may not know its capacity yet.
        std::vector<plan::Profile> profiles;
        // Profiles only for a profile by name (a wrong type is the parser's 400).
        if (body.is_object() && body.contains("profile") && body["profile"].is_string())
          profiles = environment_profiles(env);
        model::Service svc = model::parse_service_create(body, env, profiles);
        model::place_custom_size(svc, env);
        if (env.state == model::kDeleting)
          throw Error::Conflict("environment_deleting", "the environment is being deleted", "environment");
        if (tx.services().by_name(env.id, svc.name))
          throw Error::Conflict("already_exists", "a service named '" + svc.name + "' exists", "name");
        std::string password = crypto::base64url(crypto::random_bytes(18));
        svc.id = model::new_id("svc-");
        svc.password_sha256_hex = crypto::sha256_hex(password);
        svc.created_at = svc.updated_at = now;
        auto op = new_operation("service.create", env, svc.name, {"agent_apply", "endpoint_ready"}, now);
        tx.services().put(svc);
        raise_revision(tx, env, now);
        tx.operations().put(op);
        req.trace->created_id = svc.id;
        json out = model::to_json(op);
        out["password"] = password;  // shown once: only its hash is stored
        return HttpResponse::json(202, out);
      }, &replayed);
    });
    if (!replayed) ctx.enqueue(upgrades_key(env.id));
    return res;
  }));

  router.add({"GET", "/v1/environments/{env}/services", "service.list", Access::kRead, Effect::kRead},
             cached_read(ctx, [](store::Transaction& tx, const Principal&, const std::string& org,
                                 const HttpRequest& req) {
               model::Environment env = find_environment(tx, org, req.params.at("env"));
               return list(tx.services().list(env.id), env.name);
             }));

  router.add({"GET", "/v1/environments/{env}/services/{svc}", "service.get", Access::kRead, Effect::kRead},
             cached_read(ctx, [](store::Transaction& tx, const Principal&, const std::string& org,
                                 const HttpRequest& req) {
               model::Environment env = find_environment(tx, org, req.params.at("env"));
               return json_text(find_service(tx, env, req.params.at("svc")), env.name);
             }));

  router.add({"DELETE", "/v1/environments/{env}/services/{svc}", "service.delete", Access::kWrite, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    model::Operation op;
    model::Environment env;
    bool changed = false;
    transact_as_caller(ctx, req, 202, [&](store::Transaction& tx) {
      changed = false;  // this attempt's (a transaction may run again)
      env = find_environment(tx, req.organization(), req.params["env"]);
      model::Service svc = find_service(tx, env, req.params["svc"]);
      if (auto running = controllers::running_operation(tx, "service.delete", env.id, svc.name)) {
        op = *running;
        return;
      }
      int64_t now = ctx.clock.unix_seconds();
      svc.state = model::kDeleting;
      svc.updated_at = now;
      op = new_operation("service.delete", env, svc.name, {"agent_remove"}, now);
      tx.services().put(svc);
      raise_revision(tx, env, now);
      tx.operations().put(op);
      changed = true;
    });
    if (changed) ctx.enqueue(service_key(env.id, req.params["svc"]));
    return HttpResponse::json(202, model::to_json(op));
  }));

  router.add({"PATCH", "/v1/environments/{env}/services/{svc}", "service.update", Access::kWrite, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    model::Environment env;
    model::Operation op;
    bool changed = false;
    bool kept = false;
    transact_as_caller(ctx, req, 202, [&](store::Transaction& tx) {
      changed = kept = false;  // this attempt's (a transaction may run again)
      env = find_environment(tx, req.organization(), req.params["env"]);
      model::Service svc = find_service(tx, env, req.params["svc"]);
      model::ServicePatch patch = model::parse_service_patch(parse_json_body(req));
      if (svc.state == model::kDeleting)
        throw Error::Conflict("service_deleting", "the service is being deleted", "service");
      int64_t now = ctx.clock.unix_seconds();
      op = new_operation("service.update", env, svc.name, {"agent_apply"}, now);
      if (patch.allowed_ips && *patch.allowed_ips != svc.allowed_ips) {
        svc.allowed_ips = *patch.allowed_ips;
        changed = true;
      }
      ServiceChange resized;
      if (patch.resizes()) resized = resize_service(svc, env, patch, now);
      changed |= resized.desired;
      kept = resized.kept;
      if (!changed) {
        // Nothing for the agent: done at once (a resize kept for the window
        // is recorded; GET shows it as pending_resize until it is applied).
        if (kept) {
          svc.updated_at = now;
          tx.services().put(svc);
        }
        op.succeed(model::to_json(svc, env.name), now);
      } else {
        if (auto running = controllers::running_operation(tx, "service.update", env.id, svc.name)) {
          running->fail("superseded", "a later update replaced this one", now);
          tx.operations().put(*running);
        }
        svc.updated_at = now;
        tx.services().put(svc);
        raise_revision(tx, env, now);
      }
      tx.operations().put(op);
    });
    // A resize kept for the window is the upgrade controller's to apply.
    if (changed || kept) ctx.enqueue(upgrades_key(env.id));
    return HttpResponse::json(202, model::to_json(op));
  }));

  router.add({"GET", "/v1/services", "service.list_all", Access::kRead, Effect::kRead},
             cached_read(ctx, [](store::Transaction& tx, const Principal&, const std::string& org,
                                 const HttpRequest& req) {
               std::string out = "{\"items\":[";
               bool first = true;
               auto filter = req.query.find("environment");
               for (const auto& env : tx.environments().list(org)) {
                 if (filter != req.query.end() && filter->second != env.name) continue;
                 for (const auto& s : tx.services().list(env.id)) {
                   if (!first) out += ',';
                   first = false;
                   model::append_json(out, s, env.name);
                 }
               }
               if (filter != req.query.end() && !tx.environments().by_name(org, filter->second))
                 throw Error::NotFound("environment '" + filter->second + "' not found", "environment");
               return out + "]}";
             }));

  router.add({"GET", "/v1/operations/{id}", "operation.get", Access::kRead, Effect::kRead},
             cached_read(ctx, [](store::Transaction& tx, const Principal& who, const std::string&,
                                 const HttpRequest& req) {
               const std::string& id = req.params.at("id");
               auto op = tx.operations().by_id(id);
               // Operations of environments in other organisations don't exist for a customer.
               if (!op || !can_see(who, op->organization))
                 throw Error::NotFound("operation '" + id + "' not found", "id");
               return model::to_json(*op).dump();
             }));
}

namespace {

// What a cached answer depends on besides the store: the route and its
// parameters, the query, and who asks (role and organisation) for which
// organisation. Each part is length-prefixed, so no two requests share a key.
std::string response_key(const HttpRequest& req, const Principal& who, const std::string& organization) {
  std::string key;
  auto add = [&key](const std::string& part) {
    key += std::to_string(part.size());
    key += ':';
    key += part;
  };
  add(req.method);
  add(req.route);
  add(who.role);
  add(who.organization);
  add(organization);
  for (const auto& [name, value] : req.params) {
    add(name);
    add(value);
  }
  key += '?';
  for (const auto& [name, value] : req.query) {
    add(name);
    add(value);
  }
  return key;
}

HttpResponse ok(std::string body) {
  HttpResponse res;
  res.body = std::move(body);
  return res;
}

}  // namespace

Handler cached_read(ServerContext& ctx, ReadRenderer render) {
  Handler from_store = blocking(ctx, [&ctx, render = std::move(render)](HttpRequest& req) {
    // Read before the snapshot begins: the body is at least this current.
    uint64_t generation = ctx.store.generation();
    if (!ctx.store.generation_is_current()) {
      // A shared store: current as of the request's arrival (admission may
      // have established it already), so a body kept at it is good.
      generation = req.trace && req.trace->generation ? req.trace->generation : ctx.store.current_generation();
      if (ctx.cache_responses)
        if (auto body = ctx.responses.find(response_key(req, req.caller(), req.organization()), generation))
          return ok(std::move(*body));
    }
    std::string body;
    ctx.store.read([&](store::Transaction& tx) { body = render(tx, req.caller(), req.organization(), req); });
    if (ctx.cache_responses)
      ctx.responses.remember(response_key(req, req.caller(), req.organization()), body, generation);
    return ok(std::move(body));
  });
  // The dispatcher admitted the caller (on this I/O thread when its token was
  // known at the current generation): a body known at that generation too
  // is answered without the store.
  return [&ctx, from_store = std::move(from_store)](HttpRequest& req, std::shared_ptr<Responder> responder) {
    if (ctx.cache_responses && ctx.store.generation_is_current())
      if (auto body = ctx.responses.find(response_key(req, req.caller(), req.organization()), ctx.store.generation()))
        return responder->send(ok(std::move(*body)));
    from_store(req, std::move(responder));
  };
}

void transact_audited(ServerContext& ctx, const HttpRequest& req, int status,
                      const std::function<void(store::Transaction&)>& fn) {
  ctx.store.transact([&](store::Transaction& tx) {
    // What an attempt that was rolled back named must not reach the record.
    if (req.trace) req.trace->created_id.clear();
    fn(tx);
    if (ctx.audit && req.trace) ctx.audit->write_in(tx, audit_record(*req.trace, ctx.clock.unix_millis(), status, ""));
  });
  if (ctx.audit && req.trace) req.trace->audited = true;
}

void transact_as_caller(ServerContext& ctx, const HttpRequest& req, int status,
                        const std::function<void(store::Transaction&)>& fn) {
  transact_audited(ctx, req, status, [&](store::Transaction& tx) {
    if (!tx.api_tokens().by_id(req.caller().token_id)) throw Error::Unauthenticated("missing or invalid bearer token");
    fn(tx);
  });
}

Handler blocking(ServerContext& ctx, std::function<HttpResponse(HttpRequest&)> body) {
  return [&ctx, body = std::move(body)](HttpRequest& req, std::shared_ptr<Responder> responder) {
    auto answer = [](const std::function<HttpResponse(HttpRequest&)>& body, HttpRequest& req,
                     const std::shared_ptr<Responder>& responder) {
      try {
        responder->send(body(req));
      } catch (const std::exception& e) {
        responder->send(error_response(e, &req));
      } catch (...) {
        responder->send(internal_error_response(&req, "a non-standard exception"));
      }
    };
    // Admission may already have brought the request to the pool.
    if (ctx.store_pool.on_own_thread()) return answer(body, req, responder);
    ctx.store_pool.post([answer, body, req = std::move(req), responder]() mutable { answer(body, req, responder); });
  };
}

}  // namespace byoc::server
