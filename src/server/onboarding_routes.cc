// Onboarding: POST /v1/environments/{env}/verify checks, now, that the
// customer has let the management plane into their account (the cloud
// driver's access check: for aws, AssumeRole with the ExternalId and the
// pre-flight), records what it found and answers with each thing missing.
// The environment controller runs the same check periodically while an
// environment is AWAITING_CUSTOMER_ROLE; this is the customer's "I've done
// it, look now".
#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cloud/traits.h"
#include "model/validate.h"
#include "controllers/environment_controller.h"
#include "server/auth.h"
#include "server/routes.h"

namespace byoc::server {
using nlohmann::json;

namespace {

// A check calls the cloud and may take seconds (tens of read-only calls):
// a few at a time per server, so they never crowd the store pool.
constexpr int kMostChecksAtOnce = 2;

class CheckSlot {
 public:
  explicit CheckSlot(std::atomic<int>& in_flight) : in_flight_(in_flight) {
    if (in_flight_.fetch_add(1) >= kMostChecksAtOnce) {
      in_flight_.fetch_sub(1);
      throw Error(ErrorKind::kUnavailable, "checks_busy", "other access checks are running; try again in a few seconds");
    }
  }
  ~CheckSlot() { in_flight_.fetch_sub(1); }
  CheckSlot(const CheckSlot&) = delete;
  CheckSlot& operator=(const CheckSlot&) = delete;

 private:
  std::atomic<int>& in_flight_;
};

}  // namespace

void add_onboarding_routes(Router& router, ServerContext& ctx) {
  auto in_flight = std::make_shared<std::atomic<int>>(0);
  router.add({"POST", "/v1/environments/{env}/verify", "environment.verify", Access::kWrite, Effect::kChange},
             blocking(ctx, [&ctx, in_flight](HttpRequest& req) {
    if (!req.body.empty()) model::check_object_fields(parse_json_body(req), {}, {});  // nothing, or {}
    std::optional<model::Environment> env;
    ctx.store.read([&](store::Transaction& tx) { env = find_environment(tx, req.organization(), req.params["env"]); });
    const cloud::CloudTraits* traits = cloud::find_cloud(env->cloud);
    if (!traits || !traits->customer_grants_access)
      throw Error::Conflict("not_applicable", "cloud " + env->cloud + " needs no access from the customer", "environment");
    if (env->state == model::kDeleting)
      throw Error::Conflict("environment_deleting", "the environment is being deleted", "environment");

    cloud::AccessCheck check;
    {
      CheckSlot slot(*in_flight);
      check = ctx.drivers.at(env->cloud)->check_access(*env);
    }
    json out;
    bool granted_now = false;
    transact_as_caller(ctx, req, 200, [&](store::Transaction& tx) {
      auto e = tx.environments().by_id(env->id);
      if (!e) throw Error::NotFound("environment '" + env->name + "' not found", "environment");
      if (e->account != env->account)
        throw Error::Conflict("account_changed", "the account changed while it was checked: verify again", "account");
      const bool was_awaiting = e->state == model::kAwaitingCustomerRole;
      if (controllers::apply_access_check(*e, check, ctx.clock.unix_seconds())) tx.environments().put(*e);
      granted_now = was_awaiting && e->state != model::kAwaitingCustomerRole;
      req.trace->environment_id = e->id;
      out = {{"environment", e->name},
             {"state", e->state},
             {"granted", check.granted},
             {"reason", check.granted ? "" : check.reason},
             {"message", check.message},
             {"account", e->account},
             {"details", check.details}};
    });
    if (granted_now) ctx.enqueue(environment_key(env->id));
    return HttpResponse::json(200, out);
  }));
}

}  // namespace byoc::server
