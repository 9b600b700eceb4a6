// The audit logs, read: each environment's (vendor staff, admins, and the
// customers of its organisation) and the plane's own (admins). Entries come
// as the exact bytes hashed (entry_b64) and, for reading, as JSON; the
// checkpoint is the C2SP signed note; proofs are lists of base64 hashes.
// Everything a verifier needs comes from here, and nothing here needs trust:
// `byoc audit verify` checks it all against the key it pinned.
#include <charconv>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/error.h"
#include "server/routes.h"

namespace byoc::server {
namespace {
using nlohmann::json;

constexpr int64_t kDefaultPage = 100;
constexpr int64_t kMaxPage = 1000;

// The query parameter `name` as a decimal integer in [low, high]; `fallback`
// when absent (required when fallback is nullopt).
int64_t query_integer(const HttpRequest& req, const std::string& name, std::optional<int64_t> fallback, int64_t low,
                      int64_t high) {
  auto it = req.query.find(name);
  if (it == req.query.end()) {
    if (!fallback) throw Error::BadRequest("missing_parameter", "query parameter '" + name + "' is required", name);
    return *fallback;
  }
  int64_t value = 0;
  const std::string& text = it->second;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size())
    throw Error::BadRequest("invalid_parameter", "query parameter '" + name + "' must be an integer", name);
  if (value < low || value > high)
    throw Error::BadRequest("out_of_range",
                            name + " must be between " + std::to_string(low) + " and " + std::to_string(high), name);
  return value;
}

// Only the parameters a route reads (and `organization`, which addresses).
void check_query(const HttpRequest& req, std::initializer_list<const char*> known) {
  for (const auto& [name, value] : req.query) {
    bool ok = name == "organization";
    for (const char* k : known) ok = ok || name == k;
    if (!ok) throw Error::BadRequest("unknown_parameter", "unknown query parameter '" + name + "'", name);
  }
}

access::AuditLogs& logs(ServerContext& ctx) {
  if (!ctx.audit_logs) throw Error::Unavailable("this server keeps no audit log");
  return *ctx.audit_logs;
}

json hashes(const std::vector<access::merkle::Hash>& proof) {
  json out = json::array();
  for (const auto& h : proof) out.push_back(crypto::base64(h));
  return {{"hashes", out}};
}

// Which log a request reads: the environment's, or the plane's.
using LogOf = std::function<access::AuditLogName(ServerContext&, store::Transaction&, const HttpRequest&)>;

access::AuditLogName environment_log(ServerContext& ctx, store::Transaction& tx, const HttpRequest& req) {
  return logs(ctx).environment_log(find_environment(tx, req.organization(), req.params.at("env")).id);
}

access::AuditLogName plane_log(ServerContext& ctx, store::Transaction&, const HttpRequest&) {
  return logs(ctx).plane_log();
}

Handler list_entries(ServerContext& ctx, LogOf log_of) {
  return blocking(ctx, [&ctx, log_of](HttpRequest& req) {
    check_query(req, {"start", "limit"});
    int64_t start = query_integer(req, "start", 0, 0, INT64_MAX);
    int64_t limit = query_integer(req, "limit", kDefaultPage, 1, kMaxPage);
    json items = json::array();
    int64_t size = 0;
    ctx.store.read([&](store::Transaction& tx) {
      auto log = log_of(ctx, tx, req);
      size = logs(ctx).size(tx, log);
      items = json::array();  // this attempt's (a read may run again)
      int64_t index = start;
      for (const auto& entry : logs(ctx).entries(tx, log, start, limit)) {
        json parsed = json::parse(entry, nullptr, false);
        items.push_back({{"index", index++},
                         {"entry", parsed.is_discarded() ? json(nullptr) : parsed},
                         {"entry_b64", crypto::base64(entry)}});
      }
    });
    return HttpResponse::json(200, {{"items", items}, {"size", size}});
  });
}

Handler signed_checkpoint(ServerContext& ctx, LogOf log_of) {
  return blocking(ctx, [&ctx, log_of](HttpRequest& req) {
    check_query(req, {});
    HttpResponse res;
    ctx.store.read([&](store::Transaction& tx) { res.body = logs(ctx).checkpoint(tx, log_of(ctx, tx, req)); });
    res.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    return res;
  });
}

Handler inclusion_proof(ServerContext& ctx, LogOf log_of) {
  return blocking(ctx, [&ctx, log_of](HttpRequest& req) {
    check_query(req, {"index", "size"});
    int64_t index = query_integer(req, "index", std::nullopt, 0, INT64_MAX);
    int64_t size = query_integer(req, "size", std::nullopt, 1, INT64_MAX);
    std::vector<access::merkle::Hash> proof;
    ctx.store.read([&](store::Transaction& tx) { proof = logs(ctx).inclusion_proof(tx, log_of(ctx, tx, req), index, size); });
    return HttpResponse::json(200, hashes(proof));
  });
}

Handler consistency_proof(ServerContext& ctx, LogOf log_of) {
  return blocking(ctx, [&ctx, log_of](HttpRequest& req) {
    check_query(req, {"first", "second"});
    int64_t first = query_integer(req, "first", std::nullopt, 1, INT64_MAX);
    int64_t second = query_integer(req, "second", std::nullopt, 1, INT64_MAX);
    std::vector<access::merkle::Hash> proof;
    ctx.store.read([&](store::Transaction& tx) {
      proof = logs(ctx).consistency_proof(tx, log_of(ctx, tx, req), first, second);
    });
    return HttpResponse::json(200, hashes(proof));
  });
}

}  // namespace

void add_audit_routes(Router& router, ServerContext& ctx) {
  router.add({"GET", "/v1/audit/key", "audit_key.get", Access::kAnyToken, Effect::kRead},
             [&ctx](HttpRequest&, std::shared_ptr<Responder> responder) {
    try {
      responder->send(HttpResponse::json(200, {{"verifier_key", logs(ctx).verifier_key()}}));
    } catch (const std::exception& e) {
      responder->send(error_response(e, nullptr));
    }
  });
  router.add({"GET", "/v1/environments/{env}/audit", "audit.list", Access::kRead, Effect::kRead},
             list_entries(ctx, environment_log));
  router.add({"GET", "/v1/environments/{env}/audit/checkpoint", "audit.checkpoint", Access::kRead, Effect::kRead},
             signed_checkpoint(ctx, environment_log));
  router.add({"GET", "/v1/environments/{env}/audit/proof/inclusion", "audit.inclusion_proof", Access::kRead,
              Effect::kRead},
             inclusion_proof(ctx, environment_log));
  router.add({"GET", "/v1/environments/{env}/audit/proof/consistency", "audit.consistency_proof", Access::kRead,
              Effect::kRead},
             consistency_proof(ctx, environment_log));
  router.add({"GET", "/v1/audit", "plane_audit.list", Access::kAdmin, Effect::kRead}, list_entries(ctx, plane_log));
  router.add({"GET", "/v1/audit/checkpoint", "plane_audit.checkpoint", Access::kAdmin, Effect::kRead},
             signed_checkpoint(ctx, plane_log));
  router.add({"GET", "/v1/audit/proof/inclusion", "plane_audit.inclusion_proof", Access::kAdmin, Effect::kRead},
             inclusion_proof(ctx, plane_log));
  router.add({"GET", "/v1/audit/proof/consistency", "plane_audit.consistency_proof", Access::kAdmin, Effect::kRead},
             consistency_proof(ctx, plane_log));
}

}  // namespace byoc::server
