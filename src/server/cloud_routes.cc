// GET /v1/clouds: the clouds this server drives, from the traits table, so
// clients (the CLI) learn them rather than knowing them.
#include <nlohmann/json.hpp>

#include "cloud/traits.h"
#include "server/auth.h"
#include "server/routes.h"

namespace byoc::server {
using nlohmann::json;

namespace {

json cloud_json(const cloud::CloudTraits& traits) {
  json regions = json::array();
  for (const auto& [region, zones] : traits.zones_by_region) regions.push_back({{"name", region}, {"zones", zones}});
  json fields = {"name", "cloud", "cidr", "region", "zones", "daemonsets"};
  if (traits.capacity == cloud::CapacitySource::kCatalogue) fields.push_back("instance_types");
  json account_fields = json::array();
  for (const auto& f : traits.account_fields)
    account_fields.push_back({{"name", f.name}, {"pattern", f.pattern}, {"description", f.description}});
  if (!traits.account_fields.empty()) fields.push_back("account");
  return {{"name", traits.name},
          {"summary", traits.summary},
          {"regions", regions},
          {"default_region", traits.default_region},
          {"default_zones", traits.default_zones},
          {"clickhouse_versions", traits.clickhouse_versions},
          {"capacity", cloud::capacity_source_name(traits.capacity)},
          {"fields", fields},
          {"account_fields", account_fields},
          {"customer_grants_access", traits.customer_grants_access}};
}

}  // namespace

void add_cloud_routes(Router& router, ServerContext& ctx) {
  // Any token may ask: which clouds exist is no one's secret, but the route
  // is part of the API, not public.
  router.add({"GET", "/v1/clouds", "cloud.list", Access::kAnyToken, Effect::kRead}, [&ctx](HttpRequest&, std::shared_ptr<Responder> r) {
    json items = json::array();
    for (const auto& [name, traits] : cloud::clouds())
      if (ctx.drivers.count(name)) items.push_back(cloud_json(traits));
    r->send(HttpResponse::json(200, {{"items", items}}));
  });
}

}  // namespace byoc::server
