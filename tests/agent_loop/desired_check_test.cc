// Each refusal of the agent's checks, and what still passes.
#include "agent/desired_check.h"

#include <gtest/gtest.h>

namespace byoc::agent {
namespace {

const std::string kHashA(64, 'a');
const std::string kHashB(64, 'b');

model::DesiredService service() {
  model::DesiredService s;
  s.name = "db";
  s.clickhouse_version = "18.16.1";
  s.default_password_sha256_hex = kHashA;
  return s;
}

model::SupportUser support() { return {true, true, true, ""}; }

const EnvironmentScope kLocal{true, ""};
const EnvironmentScope kCloud{false, "10.20.0.0/16"};

std::string reason(const model::DesiredService& s, const CustomerPolicy& p = {},
                   const model::DesiredService* accepted = nullptr, const EnvironmentScope& scope = kLocal) {
  Verdict v = check_service(s, accepted, p, scope);
  EXPECT_EQ(v.accepted(), v.reason.empty());
  if (!v.accepted()) {
    EXPECT_FALSE(v.detail.empty());
  }
  return v.reason;
}

TEST(DesiredCheck, APlainServiceIsAccepted) {
  EXPECT_EQ(reason(service()), "");
  model::DesiredService s = service();
  s.support = support();
  s.allowed_ips = {"127.0.0.1/32", "10.0.0.0/8", "192.168.4.0/24", "fd12:3456::/32", "::1/128"};
  s.cluster_hosts = {"127.0.0.1", "localhost"};
  EXPECT_EQ(reason(s), "");
}

TEST(DesiredCheck, AWeakenedSupportUserIsAnInvariantViolation) {
  model::DesiredService s = service();
  s.support = support();
  s.support->readonly = false;
  EXPECT_EQ(reason(s), "invariant_violation");
  s.support = support();
  s.support->log_queries = false;
  EXPECT_EQ(reason(s), "invariant_violation");
  s.support = support();
  s.support->password_sha256_hex = kHashB;
  EXPECT_EQ(reason(s), "invariant_violation");
  // Disabled or not, the desired state never describes a weaker support user.
  s.support = support();
  s.support->enabled = false;
  s.support->readonly = false;
  EXPECT_EQ(reason(s), "invariant_violation");
  // Even a customer who allows everything can't have it.
  CustomerPolicy open{true, true, 0, 0, true};
  s.support = support();
  s.support->log_queries = false;
  EXPECT_EQ(reason(s, open), "invariant_violation");
}

TEST(DesiredCheck, SupportAccessFollowsThePolicy) {
  CustomerPolicy closed;
  closed.vendor_support_access = false;
  model::DesiredService s = service();
  s.support = support();
  EXPECT_EQ(reason(s, closed), "policy_violation");
  s.support->enabled = false;
  EXPECT_EQ(reason(s, closed), "");
  s.support.reset();
  EXPECT_EQ(reason(s, closed), "");
}

TEST(DesiredCheck, ClusterHostsStayInsideTheEnvironment) {
  model::DesiredService s = service();
  for (const char* host : {"10.0.0.9", "127.0.0.2", "::1", "db.vendor.example", "0.0.0.0"}) {
    s.cluster_hosts = {"127.0.0.1", host};
    EXPECT_EQ(reason(s), "invariant_violation") << host;
  }
  s.cluster_hosts = {"10.20.3.4", "10.20.255.1"};
  EXPECT_EQ(reason(s, {}, nullptr, kCloud), "");
  for (const char* host : {"10.21.0.1", "127.0.0.1", "localhost", "db.internal", "fd00::1"}) {
    s.cluster_hosts = {"10.20.3.4", host};
    EXPECT_EQ(reason(s, {}, nullptr, kCloud), "invariant_violation") << host;
  }
  s.cluster_hosts = {"10.20.3.4"};
  EXPECT_EQ(reason(s, {}, nullptr, EnvironmentScope{false, ""}), "invariant_violation")
      << "no network: no host";
}

TEST(DesiredCheck, TheDefaultPasswordHashIsPinned) {
  model::DesiredService accepted = service();
  model::DesiredService s = service();
  EXPECT_EQ(reason(s, {}, &accepted), "");
  s.default_password_sha256_hex = kHashB;
  EXPECT_EQ(reason(s, {}, &accepted), "invariant_violation");
  EXPECT_EQ(reason(s, {}, nullptr), "") << "a new service takes its first hash";
  CustomerPolicy resets;
  resets.vendor_may_reset_default_password = true;
  EXPECT_EQ(reason(s, resets, &accepted), "");
}

TEST(DesiredCheck, PublicAllowlistEntriesFollowThePolicy) {
  model::DesiredService s = service();
  for (const char* cidr :
       {"0.0.0.0/0", "203.0.113.0/24", "8.8.8.8/32", "2001:db8::/32", "::/0", "100.64.0.0/10"}) {
    s.allowed_ips = {"127.0.0.1/32", cidr};
    EXPECT_EQ(reason(s), "policy_violation") << cidr;
  }
  CustomerPolicy open;
  open.public_endpoint_allowed = true;
  s.allowed_ips = {"203.0.113.0/24", "2001:db8::/48"};
  EXPECT_EQ(reason(s, open), "");
  // Public allowed still leaves the width limit: /0 is wider than /8.
  s.allowed_ips = {"0.0.0.0/0"};
  EXPECT_EQ(reason(s, open), "policy_violation");
  open.widest_allowlist_prefix_v4 = 0;
  EXPECT_EQ(reason(s, open), "");
}

TEST(DesiredCheck, AllowlistWidthFollowsThePolicy) {
  model::DesiredService s = service();
  s.allowed_ips = {"10.0.0.0/8"};
  EXPECT_EQ(reason(s), "");
  CustomerPolicy narrow;
  narrow.widest_allowlist_prefix_v4 = 24;
  narrow.widest_allowlist_prefix_v6 = 64;
  EXPECT_EQ(reason(s, narrow), "policy_violation");
  s.allowed_ips = {"10.1.2.0/24", "fd00:1:2:3::/64"};
  EXPECT_EQ(reason(s, narrow), "");
  s.allowed_ips = {"fd00:1:2::/48"};
  EXPECT_EQ(reason(s, narrow), "policy_violation");
  s.allowed_ips = {"fd00::/8"};
  EXPECT_EQ(reason(s), "policy_violation") << "wider than the default /32";
}

TEST(DesiredCheck, MalformedAllowlistEntryIsRefused) {
  model::DesiredService s = service();
  s.allowed_ips = {"10.0.0.1/8"};  // host bits: the parser rejects it, the agent doesn't rely on that
  EXPECT_EQ(reason(s), "invariant_violation");
}

TEST(DesiredCheck, TopologyBeyondAnyRuntimeIsRefused) {
  model::DesiredService s = service();
  s.shards = kMaxShards;
  s.replicas = kMaxReplicas;
  EXPECT_EQ(reason(s), "");
  s.shards = kMaxShards + 1;
  EXPECT_EQ(reason(s), "unsupported_topology");
  s.shards = 1;
  s.replicas = 0;
  EXPECT_EQ(reason(s), "unsupported_topology");
}

TEST(DesiredCheck, PrivateNetworks) {
  for (const char* cidr :
       {"10.0.0.0/8", "10.1.0.0/16", "172.16.0.0/12", "172.31.255.0/24", "192.168.0.0/16", "127.0.0.0/8",
        "127.0.0.2/32", "169.254.0.0/16", "fc00::/7", "fd00::/8", "fe80::/10", "::1/128"})
    EXPECT_TRUE(is_private_network(cidr)) << cidr;
  for (const char* cidr : {"0.0.0.0/0", "8.0.0.0/7", "172.32.0.0/16", "172.0.0.0/8", "192.169.0.0/16",
                           "11.0.0.0/8", "::/0", "2001:db8::/32", "fe00::/8", "not a cidr", "10.0.0.1/8"})
    EXPECT_FALSE(is_private_network(cidr)) << cidr;
}

TEST(DesiredCheck, TheEnvironmentNetworkIsPinned) {
  EXPECT_TRUE(check_environment_network("", "").accepted());
  EXPECT_TRUE(check_environment_network("10.20.0.0/16", "").accepted());
  EXPECT_TRUE(check_environment_network("10.20.0.0/16", "10.20.0.0/16").accepted());
  EXPECT_TRUE(check_environment_network("", "10.20.0.0/16").accepted());
  EXPECT_EQ(check_environment_network("10.99.0.0/16", "10.20.0.0/16").reason, "invariant_violation");
  EXPECT_EQ(check_environment_network("8.8.0.0/16", "").reason, "invariant_violation");
  EXPECT_EQ(check_environment_network("0.0.0.0/0", "").reason, "invariant_violation");
}

}  // namespace
}  // namespace byoc::agent
