#include "model/requests.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "base/error.h"
#include "cloud/traits.h"
#include "model/validate.h"
#include "plan/catalogue.h"

namespace byoc::model {
using nlohmann::json;

namespace {
const std::vector<std::string> kReadOnly = {"id",         "state",      "revision",   "conditions", "created_at",
                                            "updated_at", "endpoint",   "reason",     "environment", "ca_pem",
                                            "organization", "password"};

std::string list_of(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}
}  // namespace

namespace {

// instance_types and daemonsets, shared by create and PATCH.
bool sized_by_catalogue(const Environment& e) {
  const cloud::CloudTraits* traits = cloud::find_cloud(e.cloud);
  return traits && traits->capacity == cloud::CapacitySource::kCatalogue;
}

void parse_capacity_fields(const json& body, Environment& e) {
  if (body.contains("instance_types")) {
    e.instance_types = get_string_list(body, "instance_types", {});  // its type first: a wrong one is a 400
    if (!sized_by_catalogue(e))
      throw Error::Invalid("unsupported_for_cloud", "cloud " + e.cloud + " takes no instance types",
                           "instance_types");
    std::set<std::string> seen;
    for (size_t i = 0; i < e.instance_types.size(); ++i) {
      std::string field = "instance_types[" + std::to_string(i) + "]";
      if (!plan::Catalogue::builtin().find(e.instance_types[i]))
        throw Error::Invalid("unknown_instance_type", "not in the instance catalogue", field);
      if (!seen.insert(e.instance_types[i]).second) throw Error::Invalid("duplicate", "listed twice", field);
    }
  }
  if (body.contains("daemonsets")) {
    const json& d = body["daemonsets"];
    if (!d.is_object()) throw Error::BadRequest("invalid_type", "must be an object", "daemonsets");
    for (const auto& [key, value] : d.items())
      if (key != "cpu_millis" && key != "memory_mib") throw Error::Invalid("unknown_field", "unknown field", "daemonsets." + key);
    try {
      e.daemonset_cpu_millis = static_cast<int>(get_int(d, "cpu_millis", 0, 0, 64000));
      e.daemonset_memory_mib = static_cast<int>(get_int(d, "memory_mib", 0, 0, 524288));
    } catch (Error& err) {
      throw Error(err.kind(), err.code(), err.what(), "daemonsets." + err.field());
    }
  }
  // No allowed type may be left without room once the DaemonSets are taken.
  if (sized_by_catalogue(e))
    plan::profiles_for(plan::Catalogue::builtin(), e.instance_types,
                       {e.daemonset_cpu_millis, e.daemonset_memory_mib}, plan::AllocatableMode::kNominal);
}

// The customer's account fields of the environment's cloud (traits'
// account_fields), shared by create and PATCH; each given one replaces the
// one stored.
void parse_account_fields(const json& body, Environment& e) {
  if (!body.contains("account")) return;
  const json& given = body["account"];
  if (!given.is_object()) throw Error::BadRequest("invalid_type", "must be an object", "account");
  const cloud::CloudTraits* traits = cloud::find_cloud(e.cloud);
  if (!traits || traits->account_fields.empty())
    throw Error::Invalid("unsupported_for_cloud", "cloud " + e.cloud + " takes no account", "account");
  std::vector<std::string> names;
  for (const auto& f : traits->account_fields) names.push_back(f.name);
  for (const auto& [key, value] : given.items()) {
    const std::string field = "account." + key;
    auto f = std::find_if(traits->account_fields.begin(), traits->account_fields.end(),
                          [&key](const cloud::AccountField& a) { return a.name == key; });
    if (f == traits->account_fields.end())
      throw Error::Invalid("unknown_field", "cloud " + e.cloud + " takes: " + list_of(names), field);
    if (!value.is_string()) throw Error::BadRequest("invalid_type", "must be a string", field);
    const std::string text = value.get<std::string>();
    if (!std::regex_match(text, std::regex(f->pattern)))
      throw Error::Invalid("invalid_value", "must be " + f->description, field);
    if (!f->reserved_prefix.empty() && text.size() >= f->reserved_prefix.size() &&
        std::equal(f->reserved_prefix.begin(), f->reserved_prefix.end(), text.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                               std::tolower(static_cast<unsigned char>(b)); }))
      throw Error::Invalid("reserved_name", "may not start with " + f->reserved_prefix, field);
    e.account[key] = text;
  }
}

}  // namespace

Environment apply_environment_patch(const json& body, Environment environment) {
  check_object_fields(body, {"instance_types", "daemonsets", "access_policy", "account"},
                      {"id", "name", "cloud", "region", "cidr", "zones", "state", "conditions", "revision",
                       "applied_revision", "ca_pem", "organization", "created_at", "updated_at", "agent_access"});
  if (body.contains("instance_types") || body.contains("daemonsets")) {
    if (!sized_by_catalogue(environment))
      throw Error::Invalid("unsupported_for_cloud",
                           "cloud " + environment.cloud + " has no capacity settings to change", "cloud");
    parse_capacity_fields(body, environment);
  }
  if (body.contains("access_policy")) environment.access_policy = parse_access_policy(body["access_policy"], environment.access_policy);
  const std::string state = environment.state;
  parse_account_fields(body, environment);  // first: a cloud that takes no account is told so
  if (body.contains("account") && state != kAwaitingCustomerRole)
    throw Error::Conflict("account_fixed",
                          "the account is set once access is granted; environment '" + environment.name + "' is " +
                              state,
                          "account");
  return environment;
}

AccessPolicy parse_access_policy(const json& body, AccessPolicy policy) {
  if (!body.is_object())
    throw Error::BadRequest("invalid_type", "access_policy must be an object", "access_policy");
  check_object_fields(body, {"approvals", "max_duration_seconds", "pending_ttl_seconds"}, {});
  constexpr int64_t kWeek = 7 * 24 * 3600;
  policy.approvals = static_cast<int>(get_int(body, "approvals", policy.approvals, 1, 3));
  policy.max_duration_seconds = get_int(body, "max_duration_seconds", policy.max_duration_seconds, 60, kWeek);
  policy.pending_ttl_seconds = get_int(body, "pending_ttl_seconds", policy.pending_ttl_seconds, 60, kWeek);
  return policy;
}

Environment parse_environment_create(const json& body) {
  check_object_fields(body, {"name", "cloud", "region", "cidr", "zones", "instance_types", "daemonsets", "account"},
                      kReadOnly);
  Environment e;
  e.name = get_string(body, "name", "", true);
  check_name(e.name, "name");
  e.cloud = get_string(body, "cloud", "", true);
  const cloud::CloudTraits* traits = cloud::find_cloud(e.cloud);
  if (!traits) {
    std::vector<std::string> names;
    for (const auto& [name, unused] : cloud::clouds()) names.push_back(name);
    throw Error::Invalid("unknown_cloud", "must be one of: " + list_of(names), "cloud");
  }
  e.region = get_string(body, "region", traits->default_region, traits->default_region.empty());
  auto region = traits->zones_by_region.find(e.region);
  if (region == traits->zones_by_region.end())
    throw Error::Invalid("unknown_region", "cloud " + e.cloud + " has no region '" + e.region + "'", "region");
  e.cidr = get_string(body, "cidr", "", true);
  check_environment_cidr(e.cidr, "cidr");
  e.zones = get_string_list(body, "zones", traits->default_zones);
  if (e.zones.empty() || e.zones.size() > 6)
    throw Error::Invalid("invalid_zones", "must list between 1 and 6 zones", "zones");
  std::set<std::string> seen;
  for (size_t i = 0; i < e.zones.size(); ++i) {
    std::string field = "zones[" + std::to_string(i) + "]";
    const auto& known = region->second;
    if (std::find(known.begin(), known.end(), e.zones[i]) == known.end())
      throw Error::Invalid("unknown_zone", "region " + e.region + " has zones: " + list_of(known), field);
    if (!seen.insert(e.zones[i]).second) throw Error::Invalid("duplicate_zone", "zone listed twice", field);
  }
  parse_capacity_fields(body, e);
  parse_account_fields(body, e);
  if (traits->customer_grants_access) e.state = kAwaitingCustomerRole;
  return e;
}

namespace {
std::vector<std::string> parse_allowed_ips(const json& body) {
  std::vector<std::string> ips = get_string_list(body, "allowed_ips", {});
  if (ips.size() > 64) throw Error::Invalid("too_many", "at most 64 entries", "allowed_ips");
  std::set<std::string> seen;
  for (size_t i = 0; i < ips.size(); ++i) {
    std::string field = "allowed_ips[" + std::to_string(i) + "]";
    check_allowed_ip(ips[i], field);
    if (!seen.insert(ips[i]).second) throw Error::Invalid("duplicate_cidr", "listed twice", field);
  }
  return ips;
}
}  // namespace

ServicePatch parse_service_patch(const json& body) {
  check_object_fields(body, {"allowed_ips", "profile", "cpu_millis", "memory_mib", "replicas", "when"},
                      {"id", "name", "clickhouse_version", "shards", "state", "reason", "endpoint", "environment",
                       "created_at", "updated_at", "password", "node_type", "pending_resize"});
  ServicePatch patch;
  if (body.contains("allowed_ips")) {
    if (body["allowed_ips"].is_null()) throw Error::BadRequest("invalid_type", "must be an array of strings", "allowed_ips");
    patch.allowed_ips = parse_allowed_ips(body);
  }
  if (body.contains("profile")) {
    patch.profile = get_string(body, "profile", "", true);
    if (patch.profile->empty()) throw Error::Invalid("invalid_profile", "must name a profile", "profile");
  }
  if (body.contains("cpu_millis")) patch.cpu_millis = static_cast<int>(get_int(body, "cpu_millis", 0, 250, 64000));
  if (body.contains("memory_mib")) patch.memory_mib = static_cast<int>(get_int(body, "memory_mib", 0, 512, 524288));
  if (body.contains("replicas")) patch.replicas = static_cast<int>(get_int(body, "replicas", 0, 1, 16));
  if (patch.profile && (patch.cpu_millis || patch.memory_mib))
    throw Error::Invalid("profile_conflict", "give either a profile or cpu_millis/memory_mib", "profile");
  const std::string when = get_string(body, "when", "now");
  if (when != "now" && when != "window")
    throw Error::Invalid("invalid_when", "must be \"now\" or \"window\"", "when");
  if (body.contains("when") && !patch.resizes())
    throw Error::Invalid("invalid_when", "only a resize or a scale can wait for the window", "when");
  patch.at_window = when == "window";
  return patch;
}

Service parse_service_create(const json& body, const Environment& environment,
                             const std::vector<plan::Profile>& profiles) {
  check_object_fields(
      body, {"name", "clickhouse_version", "shards", "replicas", "cpu_millis", "memory_mib", "allowed_ips", "profile"},
      kReadOnly);
  Service s;
  s.environment_id = environment.id;
  s.name = get_string(body, "name", "", true);
  check_name(s.name, "name");
  const cloud::CloudTraits* traits = cloud::find_cloud(environment.cloud);
  if (!traits) throw Error::Internal("environment " + environment.id + " has an unknown cloud");
  const auto& versions = traits->clickhouse_versions;
  s.clickhouse_version = get_string(body, "clickhouse_version", versions.front());
  if (std::find(versions.begin(), versions.end(), s.clickhouse_version) == versions.end())
    throw Error::Invalid("unknown_version", "environment offers ClickHouse " + list_of(versions),
                         "clickhouse_version");
  s.shards = static_cast<int>(get_int(body, "shards", 1, 1, 64));
  s.replicas = static_cast<int>(get_int(body, "replicas", 1, 1, 16));
  s.cpu_millis = static_cast<int>(get_int(body, "cpu_millis", 1000, 250, 64000));
  s.memory_mib = static_cast<int>(get_int(body, "memory_mib", 2048, 512, 524288));
  s.profile = get_string(body, "profile", "");
  if (!s.profile.empty()) {
    if (body.contains("cpu_millis") || body.contains("memory_mib"))
      throw Error::Invalid("profile_conflict", "give either a profile or cpu_millis/memory_mib", "profile");
    const plan::Profile* p = plan::find_profile(profiles, s.profile);
    if (!p) throw Error::Invalid("unknown_profile", "the environment offers no profile '" + s.profile + "'", "profile");
    s.cpu_millis = static_cast<int>(p->requests.cpu_millis);
    s.memory_mib = static_cast<int>(p->requests.memory_mib);
  }
  s.allowed_ips = parse_allowed_ips(body);
  return s;
}

}  // namespace byoc::model
