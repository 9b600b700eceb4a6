// What each cloud is, as data: its regions and zones, defaults, the ClickHouse
// versions it runs, which environment fields it takes and where its replica
// profiles come from. Validation, profiles, the API (GET /v1/clouds) and so
// the CLI read it; nothing outside src/cloud compares a cloud's name. A new
// cloud is a row here and a driver in drivers.cc.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace byoc::cloud {

// Where an environment's replica profiles (node sizes) come from.
enum class CapacitySource {
  // The instance catalogue, narrowed by `instance_types`, less `daemonsets`;
  // both may be changed later (PATCH).
  kCatalogue,
  kHost,  // the one host its agent runs on, less `daemonsets`
};
const char* capacity_source_name(CapacitySource source);  // "catalogue" | "host"

// A field of the customer's cloud account that an environment of the cloud
// takes (request key "account"), checked against `pattern` (ECMAScript,
// whole value).
struct AccountField {
  std::string name;
  std::string pattern;
  std::string description;  // what it is, for errors and `byoc cloud list`
  // A value no customer may choose, whatever the pattern (compared
  // ignoring case): a prefix of its own, reserved by the vendor.
  std::string reserved_prefix;
};

struct CloudTraits {
  std::string name;
  std::string summary;  // one line, for `byoc cloud list`
  std::map<std::string, std::vector<std::string>> zones_by_region;
  std::string default_region;  // empty: the region is required
  std::vector<std::string> default_zones = {"a"};
  std::vector<std::string> clickhouse_versions;
  CapacitySource capacity = CapacitySource::kHost;
  // The host is the management plane's own machine (the server measures
  // it) rather than one its agent reports.
  bool host_is_server = false;
  // The customer lets the management plane into their account (say, by
  // deploying an IAM role) before anything is provisioned: environments
  // start AWAITING_CUSTOMER_ROLE until the driver's access check passes.
  bool customer_grants_access = false;
  std::vector<AccountField> account_fields;
  // The Kubernetes version (a minor, "1.31") an environment's cluster is made
  // at, for clouds whose environments run a managed Kubernetes cluster that
  // the plane upgrades when an `eks` version is published
  // (controllers/cluster_upgrade_planner.h); "" for clouds without one.
  std::string kubernetes_version;
};

// Every built-in cloud, by name.
const std::map<std::string, CloudTraits>& clouds();
// nullptr for an unknown name.
const CloudTraits* find_cloud(const std::string& name);

}  // namespace byoc::cloud
