// What this agent refuses to run, whatever the management plane asks: each
// service of a desired state is checked before anything is rendered, first
// against the data plane's invariants (reason `invariant_violation`), then
// against the customer's policy (reason `policy_violation`). A refused
// service keeps its last good configuration; only the reason code is
// reported, the detail stays in the agent's own log.
//
// Pure functions of their inputs; thread-safe.
#pragma once

#include <string>

#include "agent/policy.h"
#include "model/protocol.h"

namespace byoc::agent {

// Where the hosts of a service's cluster may live.
struct EnvironmentScope {
  // The local runtime: only 127.0.0.1 and localhost are inside.
  bool loopback_only = true;
  // Other runtimes: IP literals inside this (pinned) environment network.
  // DNS names can't be shown to stay inside, so they are refused there.
  std::string cidr;
};

struct Verdict {
  std::string reason;  // "" when accepted, else a code from model::reason_codes()
  std::string detail;  // one line for the agent's log; never sent anywhere
  bool accepted() const { return reason.empty(); }
};

// Largest topology any runtime may be asked for; finer limits are the runtime's.
inline constexpr int kMaxShards = 64;
inline constexpr int kMaxReplicas = 16;

// `accepted` is the spec of the same service the agent last accepted (null
// for a new service): its `default` password hash may only change when the
// policy lets the vendor reset it.
Verdict check_service(const model::DesiredService& service, const model::DesiredService* accepted,
                      const CustomerPolicy& policy, const EnvironmentScope& scope);

// Whether the desired state's environment network may replace `pinned` (the
// first one the agent accepted; "" if none yet): never a different one, and
// the first must be a private IPv4 network.
Verdict check_environment_network(const std::string& desired, const std::string& pinned);

// True when `cidr` (canonical) lies entirely inside RFC 1918, loopback,
// IPv4 link-local, IPv6 ULA (fc00::/7), IPv6 link-local or ::1.
bool is_private_network(const std::string& cidr);

}  // namespace byoc::agent
