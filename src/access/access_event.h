// An access event as an audit log entry: what happened to an access request
// (requested, reviewed, approved, denied, issued, refused, revoked, done,
// expired) beside the API call that caused it, when one did. One JSON object,
// keys in a stable order: the exact bytes of the entry.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "model/access.h"
#include "model/protocol.h"

namespace byoc::access {

struct AccessEvent {
  int64_t unix_millis = 0;
  std::string event;   // requested | reviewed | approved | denied | issued | refused | revoked | done | expired
  std::string by;      // who caused it: a subject, "agent" or "plane" (expiry)
  nlohmann::json detail = nlohmann::json::object();  // e.g. {"decision","reason"}, {"serial"}, {"reason_code"}
};

// The entry for `event` on request `r` (in its state after the event).
std::string format_access_event(const model::AccessRequest& r, const AccessEvent& event);

// The entry for a change of an environment's access policy: the vendor's
// (set by `by`, an admin) or the customer's as its agent reported it.
std::string format_policy_event(int64_t unix_millis, const std::string& environment_id, const std::string& by,
                                const std::string& which, const nlohmann::json& policy);

// The entry for refusals a support gateway counted (as the environment's
// agent reported them: reason code, certificate serial, how many, when) —
// never what was asked.
std::string format_gateway_denial_event(int64_t unix_millis, const std::string& environment_id,
                                        const model::GatewayDenial& denial);

// The entry for Kubernetes API requests of a kubernetes-readonly grant (as
// the environment's agent reported them: what was asked as the API server's
// authorizer names it, the decision and status, how many, when) — never a
// body, a header or a query value.
std::string format_kube_request_event(int64_t unix_millis, const std::string& environment_id,
                                      const model::KubeRequest& request);

// The entry for the plane reaching into the customer's environment through
// its cloud (installing the agent through the EKS API, say): `event` holds
// what was done there and as whom.
std::string format_cloud_access_event(int64_t unix_millis, const std::string& environment_id,
                                      const nlohmann::json& event);

}  // namespace byoc::access
