#include "agent/desired_check.h"

#include <arpa/inet.h>

#include <algorithm>
#include <optional>

#include "model/validate.h"

namespace byoc::agent {
namespace {

Verdict refuse(const char* reason, std::string detail) { return {reason, std::move(detail)}; }

model::Cidr parsed(const std::string& text) {
  model::Cidr c;
  model::parse_canonical_cidr(text, &c);
  return c;
}

// An IP literal as a host-sized network (/32 or /128), or nullopt.
std::optional<model::Cidr> host_address(const std::string& host) {
  model::Cidr c;
  if (inet_pton(AF_INET, host.c_str(), c.address) == 1) {
    c.prefix = 32;
    return c;
  }
  if (inet_pton(AF_INET6, host.c_str(), c.address) == 1) {
    c.ipv6 = true;
    c.prefix = 128;
    return c;
  }
  return std::nullopt;
}

bool host_inside(const std::string& host, const EnvironmentScope& scope) {
  if (scope.loopback_only) return host == "127.0.0.1" || host == "localhost";
  model::Cidr network;
  auto address = host_address(host);
  return address && model::parse_canonical_cidr(scope.cidr, &network) && network.contains(*address);
}

Verdict check_invariants(const model::DesiredService& s, const model::DesiredService* accepted,
                         const CustomerPolicy& policy, const EnvironmentScope& scope) {
  if (s.support) {
    // DESIGN §4.4: support reads, never writes; every query it runs is logged;
    // it signs in with a short-lived certificate, never a password.
    if (!s.support->readonly) return refuse("invariant_violation", "the support user would be writable");
    if (!s.support->log_queries) return refuse("invariant_violation", "the support user would not be logged");
    if (!s.support->password_sha256_hex.empty())
      return refuse("invariant_violation", "the support user would have a password");
  }
  for (const auto& host : s.cluster_hosts)
    if (!host_inside(host, scope))
      return refuse("invariant_violation", "cluster host " + host + " is outside the environment");
  if (accepted && accepted->default_password_sha256_hex != s.default_password_sha256_hex &&
      !policy.vendor_may_reset_default_password)
    return refuse(
        "invariant_violation",
        "the default user's password hash would change and the customer policy forbids vendor resets");
  return {};
}

Verdict check_policy(const model::DesiredService& s, const CustomerPolicy& policy) {
  if (s.support && s.support->enabled && !policy.vendor_support_access)
    return refuse("policy_violation", "vendor support access is off in the customer policy");
  for (const auto& entry : s.allowed_ips) {
    model::Cidr c;
    if (!model::parse_canonical_cidr(entry, &c))
      return refuse("invariant_violation", "allowlist entry " + entry + " is not a canonical network");
    int widest = c.ipv6 ? policy.widest_allowlist_prefix_v6 : policy.widest_allowlist_prefix_v4;
    if (c.prefix < widest)
      return refuse(
          "policy_violation",
          "allowlist entry " + entry + " is wider than the customer policy's /" + std::to_string(widest));
    if (!policy.public_endpoint_allowed && !is_private_network(entry))
      return refuse("policy_violation", "allowlist entry " + entry +
                                            " is public and the customer policy allows no public endpoint");
  }
  return {};
}

}  // namespace

bool is_private_network(const std::string& cidr) {
  static const char* kPrivate[] = {"10.0.0.0/8",     "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8",
                                   "169.254.0.0/16", "fc00::/7",      "fe80::/10",      "::1/128"};
  model::Cidr c;
  if (!model::parse_canonical_cidr(cidr, &c)) return false;
  return std::any_of(std::begin(kPrivate), std::end(kPrivate),
                     [&](const char* p) { return parsed(p).contains(c); });
}

Verdict check_service(const model::DesiredService& service, const model::DesiredService* accepted,
                      const CustomerPolicy& policy, const EnvironmentScope& scope) {
  // The parser enforces these too; the agent doesn't rely on the parser alone.
  if (service.shards < 1 || service.shards > kMaxShards || service.replicas < 1 ||
      service.replicas > kMaxReplicas)
    return refuse("unsupported_topology", "the topology exceeds what any runtime runs");
  Verdict v = check_invariants(service, accepted, policy, scope);
  if (!v.accepted()) return v;
  return check_policy(service, policy);
}

Verdict check_environment_network(const std::string& desired, const std::string& pinned) {
  if (desired.empty() || desired == pinned) return {};
  if (!pinned.empty())
    return refuse("invariant_violation",
                  "the environment network would change from " + pinned + " to " + desired);
  model::Cidr c;
  if (!model::parse_canonical_cidr(desired, &c) || c.ipv6 || !is_private_network(desired))
    return refuse("invariant_violation",
                  "the environment network " + desired + " is not a private IPv4 network");
  return {};
}

}  // namespace byoc::agent
