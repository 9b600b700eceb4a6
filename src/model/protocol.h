// The protocol between the planes (DESIGN.md §3): one call, POST
// /v1/agent/sync, carries the agent's status and usage up and the desired state
// down. Both directions are closed, typed schemas: parsers reject any field not
// listed here (the telemetry allowlist — no free text, no query text, no rows
// ever leaves the data plane, and no raw config ever enters it).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/host.h"

namespace byoc::model {

// The version agents speak. A server understands every version from
// kOldestProtocolVersion on and answers in the agent's: 2 added the plane's
// `servers` to sync answers, which a version-1 agent's closed schema refuses.
// 3 added troubleshooting access: `grants` in the desired state, and the
// agent's access policy, support CA and grant outcomes in its status. 4
// added the support gateways: each service's `support_gateway` and the
// `gateway_denials` up, `denials_acked_seq` down. 5 added the
// kubernetes-readonly scope: grants of it down (an older agent's parser
// refuses the scope, so it never hears of them), the scopes an agent grants
// in its access policy, `kube_requests` up and `kube_requests_acked_seq`
// down, and the refusal codes scope_not_allowed (grants) and scope_mismatch
// (gateways). 6 added rolling changes the plane paces: a rollout's
// `not_after` down and each service's `rollout` progress up (an older agent
// is never sent a rollout: the plane waits for it to be upgraded). A plane
// of protocol N refuses an agent of N + 1 outright (unsupported_protocol),
// never half-way: planes are upgraded before their agents.
inline constexpr int kProtocolVersion = 6;
inline constexpr int kGrantsProtocolVersion = 3;
inline constexpr int kGatewayProtocolVersion = 4;
inline constexpr int kKubernetesAccessProtocolVersion = 5;
inline constexpr int kRolloutProtocolVersion = 6;
inline constexpr int kOldestProtocolVersion = 1;

// What the vendor's `support` ClickHouse user of a service would be. The
// agent refuses any weaker form (writable, password-bearing, unlogged); the
// customer policy decides whether it may be enabled at all.
struct SupportUser {
  bool enabled = false;
  bool readonly = true;
  bool log_queries = true;
  std::string password_sha256_hex;  // must stay empty: support signs in by certificate only
  bool operator==(const SupportUser&) const = default;
};

// The management plane asks for this revision of a service to be applied as
// a rolling change: replica by replica, each one healthy again before the
// next is touched, so the service keeps serving throughout. Absent, the
// runtime applies a change as it sees fit (all at once). `id` names the
// rollout on the management plane's side, so a runtime can tell a new
// request from the same one sent again (after a reconnect or a restart) and
// report progress against it. Only the request is in the protocol; when and
// why to roll (maintenance windows, upgrades) is the management plane's.
struct RolloutRequest {
  std::string id;            // 1-64 of [A-Za-z0-9._-]
  int max_unavailable = 1;   // replicas of the service out of service at once (1-16)
  // Unix seconds after which the runtime takes no further replica out of
  // service for this rollout (the customer's maintenance window closes); a
  // step begun before it runs to its end. 0: no limit. Protocol 6 on, sent
  // only when set; a later desired state may move it (the next window).
  int64_t not_after = 0;
  bool operator==(const RolloutRequest&) const = default;
};

struct DesiredService {
  std::string name;
  std::string clickhouse_version;
  int shards = 1;
  int replicas = 1;
  int cpu_millis = 1000;
  int memory_mib = 2048;
  std::vector<std::string> allowed_ips;
  std::string default_password_sha256_hex;
  std::optional<SupportUser> support;
  // Hosts (IP literals or DNS names, no ports) the service's cluster may
  // name; the agent refuses any outside its environment.
  std::vector<std::string> cluster_hosts;
  // Sent only when a rollout is requested: an agent that predates the field
  // never meets it unless one is.
  std::optional<RolloutRequest> rollout;
  // The instance type of the service's replica profile ("m7gd.large"): its
  // replicas run on that node group. "" (or "host") when it has none. Sent
  // from protocol 5 on, and only when set.
  std::string profile;
  bool operator==(const DesiredService&) const = default;
};

// One review of a grant, as the management plane recorded it.
struct GrantReview {
  std::string reviewer;  // a subject
  std::string role;      // approver | customer
  std::string decision;  // approve | deny
  int64_t time = 0;
  bool operator==(const GrantReview&) const = default;
};

// An approved troubleshooting access grant (access issue): the agent issues
// a client certificate for `csr_pem` from the environment's support CA only
// if the grant satisfies the customer's policy.json — and, when the customer
// requires it, carries `customer_approval`, a C2SP signed note by one of the
// customer's keys naming exactly this grant (access/access_request.h:
// approval_text). A grant that leaves the desired state is revoked.
struct DesiredGrant {
  std::string request_id;  // acc-<16 hex>
  std::string requester;   // the engineer's subject
  std::string scope;       // access_scopes() (model/access.h)
  std::string csr_pem;
  int64_t duration_seconds = 0;
  int64_t not_before = 0;  // Unix seconds
  int64_t not_after = 0;
  int64_t approve_before = 0;  // the request's review deadline (named by the customer's approval)
  int required_approvals = 1;
  std::vector<GrantReview> reviews;
  std::string customer_approval;  // "" when none was given
  bool operator==(const DesiredGrant&) const = default;
};
inline constexpr size_t kMaxGrants = 64;

struct DesiredState {
  int64_t revision = 0;
  std::string environment_id;
  std::string environment_name;
  std::vector<DesiredService> services;
  // The environment's network ("10.20.0.0/16"), optional. Runtimes other than
  // `local` confine cluster hosts to it; the agent pins the first one it sees.
  std::string environment_cidr;
  std::vector<DesiredGrant> grants;  // protocol 3 on
  bool operator==(const DesiredState&) const = default;
};

// Enumerations the agent may report.
const std::vector<std::string>& replica_states();  // STARTING RUNNING RESTARTING FAILED STOPPED
const std::vector<std::string>& service_states();  // PROVISIONING READY FAILED DELETING
// "" starting replica_failed unsupported_topology invariant_violation policy_violation ... rolling
// rollout_waiting rollout_failed unknown (the last three: a rollout in progress, waiting for its
// next window, stopped by a failed step — the service serving throughout).
// A READY service may carry one too: the agent refused a newer spec and the
// last good one keeps serving.
const std::vector<std::string>& reason_codes();

struct ReportedReplica {
  int shard = 1;
  int replica = 1;
  std::string state;
  int last_error_code = 0;  // a ClickHouse error code, never a message
  bool operator==(const ReportedReplica&) const = default;
};

// How a requested rollout stands (protocol 6 on): enumerations and counts
// only. `rolling`: replicas are being replaced one step at a time;
// `waiting`: its not_after passed with steps left (the service serves, some
// replicas on the old spec, some on the new); `done`: every replica runs the
// spec; `failed`: a replica did not come back healthy on the new spec — it
// was put back on the old one, the rollout stopped and the service serves
// on the old spec, with the failed step named here.
struct ReportedRollout {
  std::string id;        // the RolloutRequest's
  std::string state;     // rollout_states()
  int replicas_done = 0;   // replicas running the new spec
  int replicas_total = 0;
  int failed_shard = 0;    // the failed step's replica (1-based); 0 unless failed
  int failed_replica = 0;
  std::string failed_check;  // rollout_checks(); "" unless failed
  bool operator==(const ReportedRollout&) const = default;
};
// rolling waiting done failed
const std::vector<std::string>& rollout_states();
// The health gates of a step, in order — "" (none), start (the process did
// not start or stay up), ping (it does not answer), replication_queue (its
// replicated tables did not catch up), cluster (it did not rejoin its
// cluster: ZooKeeper session, the cluster's other replicas) — and
// version_unknown (the agent's versions.json has no such version).
const std::vector<std::string>& rollout_checks();

struct ReportedService {
  std::string name;
  std::string state;
  std::string reason;
  std::string endpoint;         // https://HOST:PORT
  std::string native_endpoint;  // HOST:PORT, native protocol over TLS
  std::vector<ReportedReplica> replicas;
  // https://HOST:PORT of the service's support gateway (troubleshooting
  // access by certificate); "" when the service has none. Protocol 3 on.
  std::string support_gateway;
  // The service's last requested rollout, while the runtime remembers it. Protocol 6 on.
  std::optional<ReportedRollout> rollout;
  bool operator==(const ReportedService&) const = default;
};

// What the agent reports of the customer's policy.json that decides access
// (booleans, a number and scope names only): a request shows what it will
// need, and one the agent would refuse is refused at once.
struct ReportedAccessPolicy {
  bool support_access = true;
  bool customer_approval_required = false;
  int64_t max_grant_seconds = 0;
  // The scopes it grants (access_scopes() entries, each once); none: an
  // agent of protocol 4 or older, which grants clickhouse-system alone.
  // Protocol 5 on.
  std::optional<std::vector<std::string>> scopes;
  bool operator==(const ReportedAccessPolicy&) const = default;
};

// What became of a grant: "issued" (with the certificate, public, and its
// serial) or "refused" (with an enumerated reason, grant_refusal_codes()).
struct ReportedGrant {
  std::string request_id;
  std::string state;
  std::string serial;
  std::string certificate_pem;
  std::string reason;
  bool operator==(const ReportedGrant&) const = default;
};
// support_access_off customer_approval_missing customer_approval_invalid
// duration_too_long approvals_missing bad_csr grant_expired scope_unsupported
// audit_inconsistent scope_not_allowed
const std::vector<std::string>& grant_refusal_codes();

struct AgentStatus {
  int64_t applied_revision = 0;  // the desired revision the agent last applied (or refused)
  std::vector<ReportedService> services;
  std::string environment_ca_pem;  // public certificate only
  // The agent's host (host-based clouds: the one node type its profiles use).
  std::optional<HostCapacity> host;
  // Protocol 3 on.
  std::optional<ReportedAccessPolicy> access;
  std::string support_ca_pem;  // public certificate only
  std::vector<ReportedGrant> grants;
  // Whether the environment's audit log verified against the checkpoints
  // the agent kept: "" (not checked yet), "consistent" or "inconsistent".
  std::string audit;
  bool operator==(const AgentStatus&) const = default;
};

// Allocated resources of one replica over [start, end): CPU in millicore-
// seconds and memory in MiB-seconds. `seq` numbers intervals per agent; the
// server keeps each seq once, so a retried report never double-counts.
struct UsageInterval {
  int64_t seq = 0;
  std::string service;
  int shard = 1;
  int replica = 1;
  int64_t start = 0;
  int64_t end = 0;
  int64_t cpu_millis_seconds = 0;
  int64_t memory_mib_seconds = 0;
  bool operator==(const UsageInterval&) const = default;
};

// Requests a service's support gateway refused, counted by reason and
// certificate serial (never query text), numbered like usage intervals: the
// server appends each seq to the environment's audit log once.
struct GatewayDenial {
  int64_t seq = 0;
  std::string service;
  std::string reason;  // gateway_denial_codes()
  std::string serial;  // lowercase hex without leading zeros; "" when no certificate was shown
  int64_t count = 0;
  int64_t first = 0;  // Unix seconds of the first and last refusal counted
  int64_t last = 0;
  bool operator==(const GatewayDenial&) const = default;
};
// no_certificate certificate_expired certificate_not_yet_valid
// certificate_revoked certificate_untrusted crl_stale grant_inactive
// credentials_supplied scope_mismatch (a kubernetes-readonly certificate
// shown to ClickHouse)
const std::vector<std::string>& gateway_denial_codes();
inline constexpr size_t kMaxGatewayDenials = 1000;  // per report

// Kubernetes API requests of kubernetes-readonly grants (allowed or refused
// by the agent's support proxy), as the API server's authorizer names them —
// never a body, a header or a query value — counted per distinct request and
// numbered like gateway denials: the plane appends each seq to the
// environment's audit log once. Text fields hold printable ASCII without
// spaces (kube_request_text()), at most the bounds below.
struct KubeRequest {
  int64_t seq = 0;
  std::string request_id;  // the grant's (acc-<16 hex>); "" when the certificate had none active
  std::string serial;      // as GatewayDenial's; "" when no certificate was shown
  std::string verb;        // RBAC verb, or the method in lower case ≤ 32
  std::string api_group;   // ≤ 253
  std::string resource;    // ≤ 253
  std::string subresource;  // ≤ 253
  std::string namespace_name;  // ≤ 253
  std::string name;        // ≤ 253
  std::string path;        // non-resource requests ("/version"), ≤ 1024
  std::string decision;    // "allowed" or the refusal's code: [a-z_]{1,64}
  int status = 0;          // the HTTP status answered (0-599; 0: none)
  int64_t count = 0;
  int64_t first = 0;       // Unix seconds of the first and last request counted
  int64_t last = 0;
  // Ordered, so that the agent can count them per distinct request.
  auto operator<=>(const KubeRequest&) const = default;
};
inline constexpr size_t kMaxKubeRequests = 1000;  // per report
inline constexpr size_t kMaxKubeRequestText = 253;
inline constexpr size_t kMaxKubeRequestPath = 1024;
// Whether `text` fits a KubeRequest text field of at most `max` bytes.
bool is_kube_request_text(const std::string& text, size_t max);

struct SyncRequest {
  int protocol_version = kProtocolVersion;
  int64_t known_revision = 0;
  int64_t known_audit_size = 0;  // the tree size of the last audit checkpoint the agent kept (protocol 3)
  int64_t seq = 0;  // the agent's request counter
  AgentStatus status;
  std::vector<UsageInterval> usage;
  std::vector<GatewayDenial> gateway_denials;  // protocol 3 on
  std::vector<KubeRequest> kube_requests;      // protocol 5 on
};

// The environment's audit log as the plane commits to it (protocol 3, with
// each desired state): its verifier key, its latest signed checkpoint, and
// the RFC 6962 consistency proof from the agent's known_audit_size.
struct AuditAnswer {
  std::string key;         // C2SP verifier key
  std::string checkpoint;  // C2SP signed note
  std::vector<std::string> consistency;  // raw 32-byte hashes
  bool operator==(const AuditAnswer&) const = default;
};

struct SyncResponse {
  int64_t revision = 0;
  std::optional<DesiredState> desired;  // present when newer than known_revision
  std::optional<AuditAnswer> audit;
  int64_t usage_acked_seq = 0;          // every interval with seq ≤ this is stored
  int64_t denials_acked_seq = 0;        // every gateway denial with seq ≤ this is in the audit log
  int64_t kube_requests_acked_seq = 0;  // the same for kube requests (protocol 5)
  // The management plane's servers (https://HOST:PORT, at most
  // kMaxPlaneServers) an agent may fail over to; empty: unchanged.
  std::vector<std::string> servers;
};
inline constexpr size_t kMaxPlaneServers = 16;

// Endpoint formats a report may carry (anything else is rejected).
bool is_https_endpoint(const std::string& s);   // https://HOST:PORT
bool is_native_endpoint(const std::string& s);  // HOST:PORT

nlohmann::json to_json(const DesiredState& d);
nlohmann::json to_json(const DesiredService& s);
nlohmann::json to_json(const DesiredGrant& g);
nlohmann::json to_json(const SyncRequest& r);
// One usage interval as a report carries it (the agent's ledger keeps the same form).
nlohmann::json to_json(const UsageInterval& u);
nlohmann::json to_json(const SyncResponse& r);

// Strict parsers: throw byoc::Error (kInvalid, code "field_not_allowed" for a
// field outside the schema, "invalid_value" for a value outside its
// enumeration or format) naming the offending field.
DesiredState parse_desired_state(const nlohmann::json& j);
DesiredGrant parse_desired_grant(const nlohmann::json& item, const std::string& path);
// One service of a desired state (`path` names it in errors: "desired.services[0]").
DesiredService parse_desired_service(const nlohmann::json& j, const std::string& path = "service");
SyncRequest parse_sync_request(const nlohmann::json& j);
SyncResponse parse_sync_response(const nlohmann::json& j);

}  // namespace byoc::model
