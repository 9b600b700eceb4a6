// The agent's side of troubleshooting access, on the injected clock: the
// support CA made once and kept (key 0600), each grant decided once and
// remembered across restarts, certificates shaped as promised, grants that
// wait while policy.json is unreadable, and certificates of grants that left
// the desired state listed for the CRL until they expire.
#include "agent/support_access.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../e2e/e2e_support.h"
#include "access/signed_note.h"
#include "agent/state_layout.h"
#include "agent/support_gateway_check.h"
#include "base/files.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {
using namespace std::chrono_literals;

constexpr int64_t kNow = 1'800'000'000;
const std::string kEnv = "env-0123456789abcdef";

class SupportAccessTest : public ::testing::Test {
 protected:
  model::DesiredGrant grant(const std::string& id, int64_t duration = 3600) {
    model::DesiredGrant g;
    g.request_id = id;
    g.requester = "eng@vendor.example";
    g.scope = "clickhouse-system";
    g.csr_pem = crypto::make_csr(key, "engineer");
    g.duration_seconds = duration;
    g.not_before = kNow - 30;
    g.not_after = kNow - 30 + duration;
    g.approve_before = kNow + 3600;
    g.reviews = {{"lead@vendor.example", "approver", "approve", kNow - 30}};
    return g;
  }
  void write_policy(const std::string& text) { files::write_atomic(dir.path() / layout::kPolicy, text, 0600); }

  testing::TempDir dir;
  ManualClock clock{kNow};
  std::string key = crypto::generate_key_pem();
};

TEST_F(SupportAccessTest, TheCaIsMadeOnceAndItsKeyStaysPrivate) {
  std::string ca = SupportAccess(dir.path(), kEnv, clock).ca_pem();
  EXPECT_EQ(SupportAccess(dir.path(), kEnv, clock).ca_pem(), ca);
  EXPECT_EQ(e2e::file_mode(dir.path() / layout::kSupportCaKey), 0600u);
  EXPECT_TRUE(crypto::inspect(ca).is_ca);
  EXPECT_EQ(crypto::inspect(ca).organization, kEnv);
}

TEST_F(SupportAccessTest, ACertificateNamesEngineerEnvironmentAndGrantForTheGrantsWindow) {
  SupportAccess support(dir.path(), kEnv, clock);
  auto g = grant("acc-0000000000000001");
  support.decide({g});
  auto outcomes = support.outcomes();
  ASSERT_EQ(outcomes.size(), 1u);
  ASSERT_EQ(outcomes[0].state, "issued") << outcomes[0].reason;
  const std::string& cert = outcomes[0].certificate_pem;
  auto info = crypto::inspect(cert);
  EXPECT_EQ(info.common_name, "eng@vendor.example");
  EXPECT_EQ(info.organization, kEnv);
  EXPECT_EQ(info.organizational_unit, "acc-0000000000000001");
  EXPECT_EQ(info.serial_hex, outcomes[0].serial);
  EXPECT_FALSE(info.is_ca);
  EXPECT_EQ(info.not_before_unix, kNow - 60) << "backdated 60 s, no more";
  EXPECT_EQ(info.not_after_unix, g.not_after);
  EXPECT_TRUE(crypto::certificate_matches_key(cert, key));
  EXPECT_TRUE(crypto::verify_issued_by(cert, support.ca_pem(), clock.system_time()));
  // active_grant() takes the serial as the gateway check normalizes it (a
  // certificate's serial may well start with a zero byte).
  EXPECT_EQ(support.active_grant(normalized_serial(info.serial_hex)),
            (ActiveGrant{"acc-0000000000000001", "clickhouse-system", g.not_after}));
}

TEST_F(SupportAccessTest, EachGrantIsDecidedOnceEvenAcrossRestarts) {
  auto g = grant("acc-0000000000000001");
  std::string serial;
  {
    SupportAccess support(dir.path(), kEnv, clock);
    support.decide({g});
    serial = support.outcomes().at(0).serial;
    support.decide({g});
    EXPECT_EQ(support.outcomes().at(0).serial, serial);
  }
  SupportAccess again(dir.path(), kEnv, clock);
  again.decide({g});
  EXPECT_EQ(again.outcomes().at(0).serial, serial);
  EXPECT_EQ(e2e::file_mode(dir.path() / layout::kSupportGrants), 0600u);
}

TEST_F(SupportAccessTest, GrantsBeyondThePolicyAreRefusedWithTheirReason) {
  write_policy(R"({"max_support_grant_seconds": 1800})");
  SupportAccess support(dir.path(), kEnv, clock);
  support.decide({grant("acc-0000000000000001", 3600), grant("acc-0000000000000002", 1800)});
  auto outcomes = support.outcomes();
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].state, "refused");
  EXPECT_EQ(outcomes[0].reason, "duration_too_long");
  EXPECT_EQ(outcomes[1].state, "issued");
  EXPECT_EQ(support.reported_policy(),
            (model::ReportedAccessPolicy{true, false, 1800, std::vector<std::string>{"clickhouse-system"}}));
  write_policy(R"({"vendor_support_access": false})");
  support.decide({grant("acc-0000000000000003")});
  EXPECT_EQ(support.outcomes().at(0).reason, "support_access_off");
  // A refusal the agent itself imposes (e.g. the audit log did not verify).
  support.decide({grant("acc-0000000000000004")}, "audit_inconsistent");
  EXPECT_EQ(support.outcomes().at(0).reason, "audit_inconsistent");
}

// The compromised-plane case: reviews written straight into the plane's
// store reach the agent as a grant, but without the customer's own note.
TEST_F(SupportAccessTest, UnderCustomerApprovalForgedReviewsAloneGetNothing) {
  auto customer = access::note::make_signer("ops", crypto::random_bytes(32));
  write_policy(nlohmann::json{{"require_customer_approval", true},
                              {"customer_approver_keys", {access::note::format_verifier(access::note::verifier_of(customer))}}}
                   .dump());
  SupportAccess support(dir.path(), kEnv, clock);
  auto forged = grant("acc-0000000000000001");
  forged.required_approvals = 3;
  forged.reviews = {{"a@vendor.example", "approver", "approve", 0},
                    {"b@vendor.example", "approver", "approve", 0},
                    {"c@vendor.example", "approver", "approve", 0},
                    {"ops@customer.example", "customer", "approve", 0}};
  support.decide({forged});
  EXPECT_EQ(support.outcomes().at(0).reason, "customer_approval_missing");
  EXPECT_EQ(support.reported_policy().customer_approval_required, true);
}

TEST_F(SupportAccessTest, AnUnreadablePolicyLeavesGrantsWaitingAndReportsSupportOff) {
  write_policy(R"({"vendor_support_access": "yes"})");
  SupportAccess support(dir.path(), kEnv, clock);
  support.decide({grant("acc-0000000000000001")});
  EXPECT_TRUE(support.outcomes().empty());
  EXPECT_FALSE(support.reported_policy().support_access);
  write_policy("{}");
  support.decide({grant("acc-0000000000000001")});
  EXPECT_EQ(support.outcomes().at(0).state, "issued");
}

TEST_F(SupportAccessTest, ACertificateWhoseGrantLeftIsListedUntilItExpires) {
  SupportAccess support(dir.path(), kEnv, clock);
  auto g = grant("acc-0000000000000001");
  support.decide({g});
  std::string serial = support.outcomes().at(0).serial;
  EXPECT_TRUE(support.revoked_serials().empty());
  support.decide({});  // revoked, done or expired on the plane
  EXPECT_EQ(support.revoked_serials(), std::vector<std::string>{serial});
  EXPECT_FALSE(support.active_grant(normalized_serial(serial)));
  EXPECT_TRUE(support.outcomes().empty());
  clock.set_unix_seconds(g.not_after);
  EXPECT_TRUE(support.revoked_serials().empty()) << "an expired certificate needs no CRL entry";
  clock.set_unix_seconds(g.not_after + 24 * 3600 + 1);
  support.decide({});
  auto saved = nlohmann::json::parse(files::read(dir.path() / layout::kSupportGrants));
  EXPECT_TRUE(saved.empty()) << "forgotten a day after it expired";
}

// kubernetes-readonly: issued from the same CA when the environment serves
// it and the customer lists it; the gateways learn each certificate's scope
// from its grant, also after a restart.
TEST_F(SupportAccessTest, AKubernetesGrantNeedsAServingEnvironmentAndTheCustomersConsent) {
  auto k8s = [&](const std::string& id) {
    auto g = grant(id);
    g.scope = "kubernetes-readonly";
    return g;
  };
  const std::vector<std::string> both = {"clickhouse-system", "kubernetes-readonly"};
  {
    SupportAccess local(dir.path(), kEnv, clock);  // the local runtime: no Kubernetes API
    local.decide({k8s("acc-0000000000000001")});
    EXPECT_EQ(local.outcomes().at(0).reason, "scope_unsupported");
    EXPECT_EQ(local.reported_policy().scopes, std::vector<std::string>{"clickhouse-system"});
  }
  SupportAccess cluster(dir.path(), kEnv, clock, both);
  cluster.decide({k8s("acc-0000000000000002")});
  EXPECT_EQ(cluster.outcomes().at(0).reason, "scope_not_allowed") << "not listed in policy.json";
  EXPECT_EQ(cluster.reported_policy().scopes, std::vector<std::string>{"clickhouse-system"});

  write_policy(R"({"support_access_scopes": ["kubernetes-readonly", "clickhouse-system"]})");
  EXPECT_EQ(cluster.reported_policy().scopes, both) << "in the protocol's order";
  auto g = k8s("acc-0000000000000003");
  cluster.decide({g, grant("acc-0000000000000004")});
  auto outcomes = cluster.outcomes();
  ASSERT_EQ(outcomes.size(), 2u);
  ASSERT_EQ(outcomes[0].state, "issued") << outcomes[0].reason;
  EXPECT_TRUE(crypto::verify_issued_by(outcomes[0].certificate_pem, cluster.ca_pem(), clock.system_time()));
  const std::string k8s_serial = normalized_serial(outcomes[0].serial);
  const std::string ch_serial = normalized_serial(outcomes[1].serial);
  EXPECT_EQ(cluster.active_grant(k8s_serial), (ActiveGrant{"acc-0000000000000003", "kubernetes-readonly", g.not_after}));
  EXPECT_EQ(cluster.active_grant(ch_serial)->scope, "clickhouse-system");

  SupportAccess restarted(dir.path(), kEnv, clock, both);
  EXPECT_EQ(restarted.active_grant(k8s_serial)->scope, "kubernetes-readonly");
  clock.set_unix_seconds(g.not_after);
  EXPECT_FALSE(restarted.active_grant(k8s_serial)) << "not past the grant's end";
}

// Decisions an agent kept before grants had scopes were all clickhouse-system's.
TEST_F(SupportAccessTest, ADecisionKeptWithoutAScopeIsClickhouseSystems) {
  std::string serial;
  {
    SupportAccess support(dir.path(), kEnv, clock);
    support.decide({grant("acc-0000000000000001")});
    serial = normalized_serial(support.outcomes().at(0).serial);
  }
  auto saved = nlohmann::json::parse(files::read(dir.path() / layout::kSupportGrants));
  saved["acc-0000000000000001"].erase("scope");
  files::write_atomic(dir.path() / layout::kSupportGrants, saved.dump(), 0600);
  EXPECT_EQ(SupportAccess(dir.path(), kEnv, clock).active_grant(serial)->scope, "clickhouse-system");
}

}  // namespace
}  // namespace byoc::agent
