// Troubleshooting access requests and their reviews (model/access.h,
// access/access_request.h): operators ask, approvers and the environment's
// customer review, the requester collects the certificate the environment's
// agent issues. Every change stores the request, writes its event to the
// environment's audit log and, when a grant enters or leaves the desired
// state, raises the environment's revision — all in one transaction.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "access/access_request.h"
#include "access/access_store.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/utf8.h"
#include "model/validate.h"
#include "server/auth.h"
#include "server/idempotency.h"
#include "server/routes.h"

namespace byoc::server {
namespace {
using nlohmann::json;

constexpr int64_t kMinDuration = 60;
constexpr size_t kMaxReason = 1000;
constexpr size_t kMaxCsr = 16 * 1024;
constexpr size_t kMaxNote = 16 * 1024;
constexpr size_t kMaxSubject = 64;

// A reason: 1 to 1000 characters of UTF-8 text, no control characters (it is
// shown to reviewers and written to the audit log).
std::string get_reason(const json& body) {
  std::string reason = model::get_string(body, "reason", "", true);
  bool control = false;
  for (unsigned char c : reason) control = control || c < 0x20 || c == 0x7f;
  if (reason.empty() || reason.size() > kMaxReason || control || !utf8::valid(reason))
    throw Error::Invalid("invalid_reason", "reason must be 1-1000 characters of text, no control characters",
                         "reason");
  return reason;
}

// Who reviews: the token's subject; a customer token without one by its id.
std::string reviewer_of(const Principal& who) {
  return who.subject.empty() ? "token:" + who.token_id : who.subject;
}

access::AuditLogs& logs(ServerContext& ctx) {
  if (!ctx.audit_logs) throw Error::Unavailable("this server keeps no audit log");
  return *ctx.audit_logs;
}

// The request `id` as `who` may see it (404 for another organisation's customer).
model::AccessRequest find_request(store::Transaction& tx, const Principal& who, const std::string& id) {
  auto r = tx.access_requests().by_id(id);
  if (!r || !can_see(who, r->organization)) throw Error::NotFound("access request '" + id + "' not found", "id");
  return *r;
}

std::string environment_name(store::Transaction& tx, const std::string& environment_id) {
  auto env = tx.environments().by_id(environment_id);
  return env ? env->name : "";
}

json request_json(store::Transaction& tx, const model::AccessRequest& r) {
  return model::to_json(r, environment_name(tx, r.environment_id));
}

access::AccessEvent event(ServerContext& ctx, const std::string& name, const Principal& who, json detail = {}) {
  return {ctx.clock.unix_millis(), name, reviewer_of(who), std::move(detail)};
}

// The customer's signed approval in a review: a signed note whose text is
// exactly this grant's (access::approval_text). Its signature is for the
// environment's agent to verify against the customer's keys; the plane can't
// — and must not be able to — make one.
std::string checked_customer_approval(const json& body, const model::AccessRequest& r) {
  std::string note = model::get_string(body, "customer_approval", "", true);
  size_t split = note.rfind("\n\n");
  if (note.size() > kMaxNote || split == std::string::npos || !utf8::valid(note))
    throw Error::Invalid("invalid_customer_approval", "customer_approval must be a signed note",
                         "customer_approval");
  if (note.substr(0, split + 1) != access::approval_text(r))
    throw Error::Invalid("customer_approval_mismatch",
                         "the signed note does not name this request, its requester, duration and key exactly",
                         "customer_approval");
  return note;
}

json review_body(const HttpRequest& req) {
  json body = parse_json_body(req);
  model::check_object_fields(body, {"decision", "reason", "customer_approval"}, {});
  return body;
}

HttpResponse create_request(ServerContext& ctx, HttpRequest& req) {
  HttpResponse res;
  bool replayed = false;
  std::string id;
  transact_as_caller(ctx, req, 201, [&](store::Transaction& tx) {
    model::Environment env = find_environment(tx, req.organization(), req.params["env"]);
    req.trace->environment_id = env.id;
    int64_t now = ctx.clock.unix_seconds();
    res = idempotent(tx, req.caller(), req, now, [&] {
      json body = parse_json_body(req);
      model::check_object_fields(body, {"scope", "reason", "duration_seconds", "csr"}, {});
      std::string scope = model::get_string(body, "scope", "", true);
      if (!model::is_access_scope(scope))
        throw Error::Invalid("unknown_scope", "scope must be clickhouse-system or kubernetes-readonly", "scope");
      std::string reason = get_reason(body);
      if (!body.contains("duration_seconds"))
        throw Error::Invalid("required", "field is required", "duration_seconds");
      int64_t longest = env.access_policy.max_duration_seconds;
      if (env.agent_access.reported) longest = std::min(longest, env.agent_access.max_grant_seconds);
      int64_t duration = model::get_int(body, "duration_seconds", 0, kMinDuration, INT32_MAX);
      if (duration > longest)
        throw Error::Invalid("duration_too_long",
                             "at most " + std::to_string(longest) + " seconds for this environment",
                             "duration_seconds");
      std::string csr = model::get_string(body, "csr", "", true);
      if (csr.size() > kMaxCsr) throw Error::Invalid("bad_csr", "the CSR is too large", "csr");
      // Never keep (or pass on) a private key pasted with the CSR.
      if (csr.find("PRIVATE KEY") != std::string::npos)
        throw Error::Invalid("private_key_sent", "the csr holds a private key: send the request alone", "csr");
      std::string key_sha256;
      try {
        csr = crypto::normalized_csr_pem(csr);  // what agents parse: one canonical PEM block
        key_sha256 = crypto::csr_public_key_sha256_hex(csr);
      } catch (const Error& e) {
        throw Error::Invalid(e.code(), e.what(), "csr");
      }
      // The subject is the certificate's common name, which X.509 bounds.
      if (req.caller().subject.size() > kMaxSubject)
        throw Error::Invalid("subject_too_long",
                             "a requester's token subject names the certificate: at most 64 bytes", "");
      if (env.state == model::kDeleting)
        throw Error::Conflict("environment_deleting", "the environment is being deleted", "environment");
      if (env.agent_access.reported && !env.agent_access.support_access)
        throw Error::Conflict("support_access_off", "the customer has turned support access off for this environment",
                              "environment");
      // The agent would refuse it: its runtime has no such thing to reach, or
      // the customer's policy.json does not list the scope.
      const auto& offered = env.agent_access.scopes;
      if (env.agent_access.reported && std::find(offered.begin(), offered.end(), scope) == offered.end())
        throw Error::Conflict("scope_not_allowed",
                              "this environment's agent does not grant " + scope +
                                  " (the customer's policy does not allow it, or nothing here serves it)",
                              "scope");
      model::AccessRequest r;
      r.id = model::new_id("acc-");
      r.environment_id = env.id;
      r.organization = env.organization;
      r.scope = scope;
      r.requester = req.caller().subject;
      r.reason = reason;
      r.duration_seconds = duration;
      r.required_approvals = env.access_policy.approvals;
      r.required_customer = env.agent_access.customer_approval_required;
      r.csr_pem = csr;
      r.csr_public_key_sha256 = key_sha256;
      r.created_at = r.updated_at = now;
      r.expires_at = now + env.access_policy.pending_ttl_seconds;
      access::record_access_change(tx, logs(ctx), r, "", event(ctx, "requested", req.caller(), {{"reason", reason}}),
                                   now);
      req.trace->created_id = id = r.id;
      return HttpResponse::json(201, model::to_json(r, env.name));
    }, &replayed);
  });
  if (!replayed) ctx.enqueue("access/" + id);
  return res;
}

HttpResponse review_request(ServerContext& ctx, HttpRequest& req) {
  json out;
  std::string id = req.params["id"];
  transact_as_caller(ctx, req, 200, [&](store::Transaction& tx) {
    const Principal& who = req.caller();
    model::AccessRequest r = find_request(tx, who, req.params["id"]);
    req.trace->environment_id = r.environment_id;
    json body = review_body(req);
    std::string decision = model::get_string(body, "decision", "", true);
    if (decision != "approve" && decision != "deny")
      throw Error::Invalid("invalid_decision", "decision must be approve or deny", "decision");
    std::string reason = get_reason(body);
    bool customer = who.role == "customer";
    if (body.contains("customer_approval")) {
      if (!customer)
        throw Error::Invalid("not_a_customer", "only a customer's review carries the customer's approval",
                             "customer_approval");
      if (decision != "approve")
        throw Error::Invalid("not_an_approval", "a customer approval goes with an approval", "customer_approval");
      std::string note = checked_customer_approval(body, r);
      // The first valid note stays: another customer's review can't replace it.
      if (r.customer_approval.empty()) r.customer_approval = note;
    } else if (customer && decision == "approve" && r.required_customer) {
      throw Error::Invalid("customer_approval_missing",
                           "this environment's customer approves with a signed note (byoc access approve "
                           "--customer-key)",
                           "customer_approval");
    }
    int64_t now = ctx.clock.unix_seconds();
    std::string was = r.state;
    auto outcome = access::review(r, {reviewer_of(who), customer ? "customer" : "approver", decision, reason, 0}, now);
    // The review is one event; what it decided (if anything) is the next,
    // which carries the change of state.
    access::record_access_change(tx, logs(ctx), r, r.state,
                                 event(ctx, "reviewed", who, {{"decision", decision}, {"reason", reason}}), now);
    if (outcome == access::ReviewOutcome::kApproved)
      access::record_access_change(tx, logs(ctx), r, was,
                                   event(ctx, "approved", who, {{"not_after", format_rfc3339(r.not_after)}}), now);
    if (outcome == access::ReviewOutcome::kDenied)
      access::record_access_change(tx, logs(ctx), r, was, event(ctx, "denied", who), now);
    out = request_json(tx, r);
  });
  // An approved grant's deadline is now its window's end: look again then.
  ctx.enqueue("access/" + id);
  return HttpResponse::json(200, out);
}

// Revoke or done: the request ends now, its certificate (if any) onto the CRL.
HttpResponse end_request(ServerContext& ctx, HttpRequest& req, bool by_requester) {
  json out;
  transact_as_caller(ctx, req, 200, [&](store::Transaction& tx) {
    const Principal& who = req.caller();
    model::AccessRequest r = find_request(tx, who, req.params["id"]);
    req.trace->environment_id = r.environment_id;
    model::check_object_fields(parse_json_body(req), {}, {});
    if (by_requester && who.subject != r.requester)
      throw Error::Forbidden("only the requester marks a request done");
    int64_t now = ctx.clock.unix_seconds();
    std::string was = r.state;
    if (by_requester) {
      access::mark_done(r, reviewer_of(who), now);
    } else {
      access::revoke(r, reviewer_of(who), now);
    }
    access::record_access_change(tx, logs(ctx), r, was, event(ctx, by_requester ? "done" : "revoked", who), now);
    out = request_json(tx, r);
  });
  return HttpResponse::json(200, out);
}

HttpResponse certificate(ServerContext& ctx, HttpRequest& req) {
  json out;
  ctx.store.read([&](store::Transaction& tx) {
    const Principal& who = req.caller();
    model::AccessRequest r = find_request(tx, who, req.params["id"]);
    if (who.subject.empty() || who.subject != r.requester)
      throw Error::Forbidden("only the requester collects the certificate");
    if (model::access_state_final(r.state))
      throw Error::Gone("ended", "access request " + r.id + " is " + r.state +
                                     (r.refusal.empty() ? "" : " (" + r.refusal + ")"));
    if (r.state != model::kAccessActive)
      throw Error::Conflict("not_issued",
                            "access request " + r.id + " is " + r.state +
                                (r.refusal.empty() ? ": the environment's agent has not issued it yet"
                                                   : ": the environment's agent said " + r.refusal),
                            "state");
    auto env = tx.environments().by_id(r.environment_id);
    // Every service's gateway (by name, with the service's state: a READY
    // one is the likeliest to answer); `gateway` is the first, for the
    // common one-service environment. `ca` is what the gateways' server
    // certificates chain to (the environment CA); `support_ca` issued the
    // client certificate.
    json gateways = json::array();
    for (const auto& svc : tx.services().list(r.environment_id))
      if (!svc.support_gateway.empty())
        gateways.push_back({{"service", svc.name}, {"gateway", svc.support_gateway}, {"state", svc.state}});
    out = {{"certificate", r.certificate_pem},
           {"ca", env ? env->ca_pem : ""},
           {"support_ca", env ? env->agent_access.support_ca_pem : ""},
           {"gateway", gateways.empty() ? "" : gateways[0]["gateway"].get<std::string>()},
           {"gateways", gateways},
           {"not_after", format_rfc3339(r.not_after)}};
  });
  return HttpResponse::json(200, out);
}

// ?state=&requester=&since=&until= (times RFC 3339).
store::AccessRequestFilter list_filter(const HttpRequest& req) {
  store::AccessRequestFilter f;
  for (const auto& [name, value] : req.query) {
    if (name == "organization") continue;
    if (name == "state") {
      bool known = false;
      for (const char* s : {model::kAccessPending, model::kAccessApproved, model::kAccessActive, model::kAccessDenied,
                            model::kAccessExpired, model::kAccessRefused, model::kAccessRevoked, model::kAccessDone})
        known = known || value == s;
      if (!known) throw Error::BadRequest("invalid_parameter", "state must be one of the request states", "state");
      f.state = value;
    } else if (name == "requester") {
      f.requester = value;
    } else if (name == "since" || name == "until") {
      auto t = parse_rfc3339(value);
      if (!t) throw Error::BadRequest("invalid_parameter", name + " must be an RFC 3339 time", name);
      (name == "since" ? f.created_from : f.created_until) = *t;
    } else {
      throw Error::BadRequest("unknown_parameter", "unknown query parameter '" + name + "'", name);
    }
  }
  return f;
}

}  // namespace

void add_access_routes(Router& router, ServerContext& ctx) {
  router.add({"POST", "/v1/environments/{env}/access-requests", "access_request.create", Access::kRequest,
              Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) { return create_request(ctx, req); }));

  router.add({"GET", "/v1/environments/{env}/access-requests", "access_request.list", Access::kRead, Effect::kRead},
             blocking(ctx, [&ctx](HttpRequest& req) {
    store::AccessRequestFilter filter = list_filter(req);
    json items = json::array();
    ctx.store.read([&](store::Transaction& tx) {
      model::Environment env = find_environment(tx, req.organization(), req.params["env"]);
      items = json::array();  // this attempt's (a read may run again)
      for (const auto& r : tx.access_requests().list(env.id, filter)) items.push_back(model::to_json(r, env.name));
    });
    return HttpResponse::json(200, {{"items", items}});
  }));

  router.add({"GET", "/v1/access-requests/{id}", "access_request.get", Access::kRead, Effect::kRead},
             blocking(ctx, [&ctx](HttpRequest& req) {
    json out;
    ctx.store.read([&](store::Transaction& tx) { out = request_json(tx, find_request(tx, req.caller(), req.params["id"])); });
    return HttpResponse::json(200, out);
  }));

  router.add({"POST", "/v1/access-requests/{id}/reviews", "access_request.review", Access::kReview, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) { return review_request(ctx, req); }));

  router.add({"GET", "/v1/access-requests/{id}/certificate", "access_request.certificate", Access::kRead,
              Effect::kRead},
             blocking(ctx, [&ctx](HttpRequest& req) { return certificate(ctx, req); }));

  router.add({"POST", "/v1/access-requests/{id}/revoke", "access_request.revoke", Access::kRevoke, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) { return end_request(ctx, req, false); }));

  router.add({"POST", "/v1/access-requests/{id}/done", "access_request.done", Access::kRequest, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) { return end_request(ctx, req, true); }));
}

}  // namespace byoc::server
