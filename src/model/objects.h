// The management plane's resources as plain records: what the store keeps and
// the API shows. Conversions to API JSON live beside them; parsing of create
// requests (with full validation) is in requests.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/access.h"
#include "model/maintenance.h"
#include "model/protocol.h"

namespace byoc::model {

// Lifecycle of environments and services.
inline constexpr const char* kPending = "PENDING";
// Clouds the customer must first let the management plane into (traits:
// customer_grants_access) start here, until the driver's access check passes.
inline constexpr const char* kAwaitingCustomerRole = "AWAITING_CUSTOMER_ROLE";
inline constexpr const char* kProvisioning = "PROVISIONING";
inline constexpr const char* kReady = "READY";
inline constexpr const char* kFailed = "FAILED";
inline constexpr const char* kDeleting = "DELETING";

struct Condition {
  std::string type;  // e.g. "agent_connected"
  bool status = false;
  std::string reason;  // enumerated code, may be empty
  int64_t last_transition_time = 0;
  bool operator==(const Condition&) const = default;
};

struct Environment {
  std::string id;
  std::string organization = "default";
  std::string name;
  std::string cloud;
  std::string region;
  std::string cidr;
  std::vector<std::string> zones;
  std::vector<std::string> instance_types;  // aws: allowed EC2 types (empty: every catalogued type)
  int daemonset_cpu_millis = 0;              // per-node DaemonSet requests, taken off each node's allocatable
  int daemonset_memory_mib = 0;
  int host_cores = 0;           // host-based clouds: the capacity the agent reported (0: not yet)
  int64_t host_memory_mib = 0;
  std::string state = kPending;
  std::vector<Condition> conditions;
  int64_t revision = 1;  // of the desired state the agent should run
  int64_t applied_revision = 0;  // the newest revision the agent reports having applied (or refused)
  std::string ca_pem;    // the environment CA's public certificate, reported by its agent
  // Kept by the environment controller for the cloud driver. The action in
  // flight and its idempotency token are recorded before the driver is
  // asked, the handle as soon as the driver names what it made.
  std::string cloud_handle;  // e.g. a stack id; "" until known
  std::string cloud_action;  // "create" | "update" | "delete"; "" when none is in flight
  std::string cloud_token;   // that action's idempotency token
  std::string reason;        // FAILED: the driver's enumerated reason
  std::string message;       // FAILED: the cloud's words, if any; AWAITING_CUSTOMER_ROLE: what the check found
  // The customer's cloud account as the cloud's onboarding has it: the
  // fields the customer gives (traits' account_fields) and what the driver
  // derives for them (aws: external_id, role_arn, quick_create_url). Shown
  // by the API; holds nothing secret.
  std::map<std::string, std::string> account;
  AccessPolicy access_policy;        // the vendor's (admins set it)
  AgentAccessPolicy agent_access;    // the customer's, as the agent reports it
  MaintenancePolicy maintenance;     // its services' default (GET|PUT …/maintenance)
  int agent_protocol = 0;            // the protocol version its agent last reported in (0: none yet)
  int64_t created_at = 0;
  int64_t updated_at = 0;

  const Condition* condition(const std::string& type) const;
  // Sets a condition; returns true if anything changed (transition time moves only on a status change).
  bool set_condition(const std::string& type, bool status, const std::string& reason, int64_t now);
  bool operator==(const Environment&) const = default;
};

// A resize or scale the customer asked to wait for the service's
// maintenance window (PATCH "when":"window"): the upgrade controller
// applies it once the window opens with room for a replica step.
struct ServiceResize {
  std::string profile;  // "" for a custom size
  int cpu_millis = 0;
  int memory_mib = 0;
  int replicas = 0;
  int64_t requested_at = 0;
  bool operator==(const ServiceResize&) const = default;
};

struct Service {
  std::string id;
  std::string environment_id;
  std::string name;
  std::string clickhouse_version = "18.16.1";
  int shards = 1;
  int replicas = 1;
  int cpu_millis = 1000;
  int memory_mib = 2048;
  std::string profile;  // the profile that set cpu_millis/memory_mib, if any
  // A custom size on a catalogue cloud (`aws`): the instance type whose node
  // group the placement planner chose for its replicas ("" otherwise: a
  // profile names its own, a host-based cloud has none).
  std::string node_type;
  std::vector<std::string> allowed_ips;
  std::string password_sha256_hex;  // of the `default` user's password; never shown
  std::string state = kPending;
  std::string reason;
  std::string endpoint;
  std::string native_endpoint;  // HOST:PORT, native protocol over TLS
  std::string support_gateway;  // https://HOST:PORT of its support gateway (troubleshooting access)
  std::optional<MaintenancePolicy> maintenance;  // none: the environment's
  // The rolling change the agent is asked for (an upgrade's: its id and the
  // window's close), sent to agents of protocol 6 on; and how it stands, as
  // the agent last reported.
  std::optional<RolloutRequest> rollout;
  std::optional<ReportedRollout> rollout_status;
  std::optional<ServiceResize> pending_resize;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  bool operator==(const Service&) const = default;
};

struct OperationStep {
  std::string name;
  std::string state = "pending";  // pending | running | done | failed
  bool operator==(const OperationStep&) const = default;
};

struct Operation {
  std::string id;
  std::string kind;  // environment.create | environment.delete | service.create | service.delete
  std::string environment_id;
  std::string environment_name;
  std::string organization = "default";
  std::string service_name;  // empty for environment operations
  std::string status = "running";  // running | succeeded | failed
  std::vector<OperationStep> steps;
  nlohmann::json result;  // null until succeeded
  nlohmann::json error;   // null unless failed: {"code","message"}
  int64_t created_at = 0;
  int64_t updated_at = 0;

  // Marks `step` running (and every earlier step done); unknown names are ignored.
  void advance_to(const std::string& step);
  void succeed(nlohmann::json result_value, int64_t now);
  void fail(const std::string& code, const std::string& message, int64_t now);
  double progress() const;
  bool done() const { return status != "running"; }
  bool operator==(const Operation&) const = default;
};

nlohmann::json to_json(const Environment& e);
// Where the environment's replica profiles come from, as its cloud says:
// "catalogue" (instance types, changeable) or "host".
std::string profiles_from(const Environment& e);
nlohmann::json to_json(const ServiceResize& r);
nlohmann::json to_json(const Service& s, const std::string& environment_name);
nlohmann::json to_json(const Operation& o);

// Random identifiers with a kind prefix: "env-", "svc-", "op-", "tok-".
std::string new_id(const std::string& prefix);

}  // namespace byoc::model
