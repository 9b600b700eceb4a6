// Organisations and API tokens (admin only).
#include <nlohmann/json.hpp>

#include <algorithm>

#include "base/error.h"
#include "base/utf8.h"
#include "model/validate.h"
#include "server/auth.h"
#include "server/idempotency.h"
#include "server/routes.h"
#include "server/tokens.h"

namespace byoc::server {
using nlohmann::json;

namespace {

json token_json(const store::ApiToken& t) {
  return {{"id", t.id},
          {"role", t.role},
          {"organization", t.organization},
          {"subject", t.subject},
          {"created_at", format_rfc3339(t.created_at)}};
}

// C0 and C1 controls, DEL, and the bidirectional overrides and isolates
// (U+202A–U+202E, U+2066–U+2069) that would let a name read otherwise in a
// log or a review. `text` is valid UTF-8.
bool has_control_character(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    if (b(i) < 0x20 || b(i) == 0x7f) return true;
    if (b(i) == 0xc2 && i + 1 < text.size() && b(i + 1) <= 0x9f) return true;  // U+0080–U+009F
    if (b(i) == 0xe2 && i + 2 < text.size() &&
        ((b(i + 1) == 0x80 && b(i + 2) >= 0xaa && b(i + 2) <= 0xae) ||
         (b(i + 1) == 0x81 && b(i + 2) >= 0xa6 && b(i + 2) <= 0xa9)))
      return true;
  }
  return false;
}

// Who holds a token: required for vendor roles (reviews and the audit log
// must tell people apart), optional for customers. 1–254 characters, no
// control characters, no space at either end (an e-mail address fits).
std::string parse_subject(const json& body, const std::string& role) {
  std::string subject = model::get_string(body, "subject", "", is_vendor_role(role));
  if (subject.empty()) {
    if (is_vendor_role(role)) throw Error::Invalid("required", "a " + role + " token names who holds it", "subject");
    return subject;
  }
  if (subject.size() > 254) throw Error::Invalid("invalid_subject", "at most 254 characters", "subject");
  if (!utf8::valid(subject) || has_control_character(subject))
    throw Error::Invalid("invalid_subject", "must be UTF-8 without control or direction-changing characters",
                         "subject");
  if (subject.front() == ' ' || subject.back() == ' ')
    throw Error::Invalid("invalid_subject", "no space at either end", "subject");
  return subject;
}

}  // namespace

void add_admin_routes(Router& router, ServerContext& ctx) {
  router.add({"POST", "/v1/organizations", "organization.create", Access::kAdmin, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    HttpResponse res;
    bool replayed = false;
    transact_as_caller(ctx, req, 201, [&](store::Transaction& tx) {
      int64_t now = ctx.clock.unix_seconds();
      res = idempotent(tx, req.caller(), req, now, [&] {
        json body = parse_json_body(req);
        model::check_object_fields(body, {"name"}, {"created_at"});
        std::string name = model::get_string(body, "name", "", true);
        model::check_name(name, "name");
        if (tx.organizations().by_name(name))
          throw Error::Conflict("already_exists", "an organization named '" + name + "' exists", "name");
        tx.organizations().put({name, now});
        req.trace->created_id = name;
        return HttpResponse::json(201, {{"name", name}, {"created_at", format_rfc3339(now)}});
      }, &replayed);
    });
    return res;
  }));

  router.add({"GET", "/v1/organizations", "organization.list", Access::kAdmin, Effect::kRead},
             blocking(ctx, [&ctx](HttpRequest&) {
    json items = json::array();
    ctx.store.read([&](store::Transaction& tx) {
      items = json::array();  // this attempt's (a read may run again)
      for (const auto& o : tx.organizations().list())
        items.push_back({{"name", o.name}, {"created_at", format_rfc3339(o.created_at)}});
    });
    return HttpResponse::json(200, {{"items", items}});
  }));

  router.add({"POST", "/v1/tokens", "token.create", Access::kAdmin, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    HttpResponse res;
    bool replayed = false;
    transact_as_caller(ctx, req, 201, [&](store::Transaction& tx) {
      int64_t now = ctx.clock.unix_seconds();
      res = idempotent(tx, req.caller(), req, now, [&] {
        json body = parse_json_body(req);
        model::check_object_fields(body, {"role", "organization", "subject"}, {"id", "token", "created_at"});
        std::string role = model::get_string(body, "role", "", true);
        const auto& all = roles();
        if (std::find(all.begin(), all.end(), role) == all.end())
          throw Error::Invalid("unknown_role", "role must be admin, operator, approver or customer", "role");
        std::string organization = model::get_string(body, "organization", "default");
        if (!tx.organizations().by_name(organization))
          throw Error::NotFound("organization '" + organization + "' not found", "organization");
        std::string subject = parse_subject(body, role);
        NewToken t = make_api_token();
        store::ApiToken record{t.id, t.secret_sha256_hex, role, organization, now, subject};
        tx.api_tokens().put(record);
        req.trace->created_id = record.id;
        json out = token_json(record);
        out["token"] = t.text;  // shown once
        return HttpResponse::json(201, out);
      }, &replayed);
    });
    return res;
  }));

  router.add({"GET", "/v1/tokens", "token.list", Access::kAdmin, Effect::kRead},
             blocking(ctx, [&ctx](HttpRequest&) {
    json items = json::array();
    ctx.store.read([&](store::Transaction& tx) {
      items = json::array();  // this attempt's (a read may run again)
      for (const auto& t : tx.api_tokens().list()) items.push_back(token_json(t));
    });
    return HttpResponse::json(200, {{"items", items}});
  }));

  // The plane's live servers, as the answering server last read them (every
  // 10 s, and at once when one joins or leaves).
  router.add({"GET", "/v1/servers", "server.list", Access::kAdmin, Effect::kRead},
             [&ctx](HttpRequest&, std::shared_ptr<Responder> responder) {
    json items = json::array();
    std::vector<PlaneMembership::Member> members;
    if (ctx.plane) members = ctx.plane->members();
    for (size_t i = 0; i < members.size(); ++i)
      items.push_back({{"id", members[i].id},
                       {"url", members[i].url},
                       {"started_at", format_rfc3339(members[i].started_at)},
                       {"heartbeat_at", format_rfc3339(members[i].heartbeat_at)},
                       {"answering", i == 0}});
    responder->send(HttpResponse::json(200, {{"items", items}}));
  });

  router.add({"DELETE", "/v1/tokens/{id}", "token.delete", Access::kAdmin, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    transact_as_caller(ctx, req, 204, [&](store::Transaction& tx) {
      if (!tx.api_tokens().by_id(req.params["id"])) throw Error::NotFound("token '" + req.params["id"] + "' not found", "id");
      if (req.params["id"] == req.caller().token_id)
        throw Error::Conflict("own_token", "a token can't delete itself; use another admin token", "id");
      tx.api_tokens().remove(req.params["id"]);
    });
    HttpResponse r;
    r.status = 204;
    return r;
  }));
}

}  // namespace byoc::server
