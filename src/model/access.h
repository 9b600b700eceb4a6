// Troubleshooting access, as the management plane records it: the vendor's
// access policy for an environment, what the environment's agent reports of
// the customer's own policy, and access requests with their reviews.
//
// States of a request: PENDING → APPROVED | DENIED | EXPIRED; APPROVED →
// ACTIVE (the agent issued the certificate) | REFUSED (the data plane said
// no, with its reason code) | REVOKED | DONE | EXPIRED; ACTIVE → EXPIRED |
// REVOKED | DONE. DENIED, EXPIRED, REFUSED, REVOKED and DONE are final.
// The transitions themselves are access/access_request.h's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace byoc::model {

inline constexpr const char* kAccessPending = "PENDING";
inline constexpr const char* kAccessApproved = "APPROVED";
inline constexpr const char* kAccessActive = "ACTIVE";
inline constexpr const char* kAccessDenied = "DENIED";
inline constexpr const char* kAccessExpired = "EXPIRED";
inline constexpr const char* kAccessRefused = "REFUSED";
inline constexpr const char* kAccessRevoked = "REVOKED";
inline constexpr const char* kAccessDone = "DONE";

// The scopes a request may ask for: the `system` tables of the
// environment's ClickHouse services through their support gateways, or the
// environment's Kubernetes API, read-only, through the same gateways under
// /k8s/ (docs/access.md).
inline constexpr const char* kScopeClickhouseSystem = "clickhouse-system";
inline constexpr const char* kScopeKubernetesReadonly = "kubernetes-readonly";
// Both, in that order.
const std::vector<std::string>& access_scopes();
bool is_access_scope(const std::string& scope);

bool access_state_final(const std::string& state);

// The vendor's rules for access to one environment (admins set them).
struct AccessPolicy {
  int approvals = 1;                       // distinct approvers, 1..3
  int64_t max_duration_seconds = 8 * 3600;
  int64_t pending_ttl_seconds = 3600;      // a request not decided by then expires
  bool operator==(const AccessPolicy&) const = default;
};

// What the environment's agent reports of the customer's policy.json (the
// customer's rules; the agent enforces them whatever the plane says).
struct AgentAccessPolicy {
  bool reported = false;  // nothing heard yet: the defaults below are assumed
  bool support_access = true;
  bool customer_approval_required = false;
  int64_t max_grant_seconds = 8 * 3600;
  // The scopes the agent grants: those policy.json allows that the
  // environment can serve (kubernetes-readonly needs a Kubernetes runtime).
  // An agent of protocol 4 or older grants clickhouse-system alone.
  std::vector<std::string> scopes = {kScopeClickhouseSystem};
  std::string support_ca_pem;   // the environment's support CA (public; its key never leaves the environment)
  // Every gateway refusal the agent numbered up to this seq is in the
  // environment's audit log (each seq goes in once).
  int64_t denials_seq = 0;
  // The same for the Kubernetes API requests of kubernetes-readonly grants.
  int64_t kube_requests_seq = 0;
  bool operator==(const AgentAccessPolicy&) const = default;
};

struct AccessReview {
  std::string reviewer;  // the reviewing token's subject ("token:<id>" for a customer token without one)
  std::string role;      // approver | customer
  std::string decision;  // approve | deny
  std::string reason;
  int64_t time = 0;
  bool operator==(const AccessReview&) const = default;
};

struct AccessRequest {
  std::string id;  // "acc-…"
  std::string environment_id;
  std::string organization;
  std::string scope = kScopeClickhouseSystem;
  std::string requester;           // the subject of the token that asked
  std::string reason;
  int64_t duration_seconds = 0;
  std::string state = kAccessPending;
  std::vector<AccessReview> reviews;
  int required_approvals = 1;
  bool required_customer = false;
  std::string csr_pem;                    // public: the key the grant lets in
  std::string csr_public_key_sha256;      // hex SHA-256 of the CSR's SubjectPublicKeyInfo (DER)
  std::string customer_approval;          // the customer's signed note, when given
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t expires_at = 0;                 // while PENDING: undecided by then, it expires
  int64_t not_before = 0;                 // once APPROVED: the grant's window
  int64_t not_after = 0;
  std::string certificate_pem;            // once ACTIVE (issued by the environment's agent)
  std::string certificate_serial;
  std::string refusal;                    // REFUSED (or not yet issued): the data plane's reason code
  std::string ended_by;                   // who revoked it or marked it done
  bool operator==(const AccessRequest&) const = default;
};

// The API's view (no CSR, no certificate: GET …/certificate has that).
nlohmann::json to_json(const AccessRequest& r, const std::string& environment_name);
nlohmann::json to_json(const AccessPolicy& p);
nlohmann::json to_json(const AgentAccessPolicy& p);

// The whole record, as the store keeps it, and back.
nlohmann::json access_request_document(const AccessRequest& r);
AccessRequest access_request_from_document(const nlohmann::json& document);

}  // namespace byoc::model
