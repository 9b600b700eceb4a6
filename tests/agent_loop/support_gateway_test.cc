// The agent's side of the support gateways, on the injected clock: what the
// runtime is told to enforce (on only while policy.json allows support, the
// support CA, the check's address and key), a CRL that lists exactly the
// certificates of grants that left the desired state, re-signed when that
// list changes and every hour — always a day before nginx would find it
// stale — and the check answering on the address it gives.
#include "agent/support_gateway.h"

#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <map>
#include <set>

#include "agent/state_layout.h"
#include "base/files.h"
#include "base/http_client.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {
using namespace std::chrono_literals;

constexpr int64_t kNow = 1'800'000'000;
const std::string kEnv = "env-0123456789abcdef";

struct CrlView {
  int64_t this_update = 0;
  int64_t next_update = 0;
  std::set<std::string> serials;  // lowercase hex, no leading zeros
  bool signed_by_ca = false;
};

int64_t unix_of(const ASN1_TIME* t) {
  int days = 0, seconds = 0;
  ASN1_TIME* epoch = ASN1_TIME_set(nullptr, 0);
  ASN1_TIME_diff(&days, &seconds, epoch, t);
  ASN1_TIME_free(epoch);
  return int64_t{days} * 86400 + seconds;
}

CrlView read_crl(const std::string& pem, const std::string& ca_pem) {
  CrlView view;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509_CRL* crl = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!crl) return view;
  view.this_update = unix_of(X509_CRL_get0_lastUpdate(crl));
  view.next_update = unix_of(X509_CRL_get0_nextUpdate(crl));
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i)), nullptr);
    char* hex = BN_bn2hex(bn);
    view.serials.insert(normalized_serial(hex));
    OPENSSL_free(hex);
    BN_free(bn);
  }
  BIO* ca_bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509* ca = PEM_read_bio_X509(ca_bio, nullptr, nullptr, nullptr);
  BIO_free(ca_bio);
  view.signed_by_ca = ca && X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1;
  X509_free(ca);
  X509_CRL_free(crl);
  return view;
}

class SupportGatewayKeeperTest : public ::testing::Test {
 protected:
  model::DesiredGrant grant(const std::string& id) {
    model::DesiredGrant g;
    g.request_id = id;
    g.requester = "eng@vendor.example";
    g.scope = "clickhouse-system";
    g.csr_pem = crypto::make_csr(crypto::generate_key_pem(), "engineer");
    g.duration_seconds = 3 * 3600;
    g.not_before = clock.unix_seconds() - 30;
    g.not_after = clock.unix_seconds() - 30 + 3 * 3600;
    g.approve_before = clock.unix_seconds() + 3600;
    g.reviews = {{"lead@vendor.example", "approver", "approve", clock.unix_seconds() - 30}};
    return g;
  }
  std::string serial_of(const std::string& id) {
    for (const auto& o : support.outcomes())
      if (o.request_id == id) return normalized_serial(o.serial);
    return "";
  }

  testing::TempDir dir;
  ManualClock clock{kNow};
  SupportAccess support{dir.path(), kEnv, clock};
  SupportGatewayKeeper keeper{dir.path(), support, clock};
};

TEST_F(SupportGatewayKeeperTest, OffUntilTheCheckRunsAndWhilePolicyRefusesSupport) {
  EXPECT_FALSE(keeper.current().enabled) << "no check, nothing to ask";
  keeper.start();
  SupportGateway on = keeper.current();
  ASSERT_TRUE(on.enabled);
  EXPECT_EQ(on.ca_pem, support.ca_pem());
  EXPECT_EQ(on.check_address.rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(on.check_key.size(), 64u);
  files::write_atomic(dir.path() / layout::kPolicy, R"({"vendor_support_access": false})", 0600);
  EXPECT_EQ(keeper.current(), SupportGateway{}) << "off, and nothing of the CA or check handed out";
  files::write_atomic(dir.path() / layout::kPolicy, "{not json", 0600);
  EXPECT_FALSE(keeper.current().enabled) << "an unreadable policy allows nothing";
  keeper.stop();
}

TEST_F(SupportGatewayKeeperTest, TheCrlListsRevokedGrantsAndIsResignedOnChangeAndDaily) {
  keeper.start();
  auto a = grant("acc-000000000000000a"), b = grant("acc-000000000000000b");
  support.decide({a, b});
  const std::string serial_a = serial_of(a.request_id), serial_b = serial_of(b.request_id);
  ASSERT_FALSE(serial_a.empty());
  SupportGateway first = keeper.current();
  CrlView crl = read_crl(first.crl_pem, support.ca_pem());
  EXPECT_TRUE(crl.signed_by_ca);
  EXPECT_TRUE(crl.serials.empty());
  EXPECT_EQ(crl.this_update, kNow - 60) << "backdated like the certificates";
  EXPECT_EQ(crl.next_update, kNow + 7 * 24 * 3600);
  EXPECT_EQ(keeper.current(), first) << "nothing changed: the same CRL, no reload";

  // `a` leaves the desired state (revoked): listed at once, and refused per request.
  support.decide({b});
  SupportGateway revoked = keeper.current();
  EXPECT_EQ(read_crl(revoked.crl_pem, support.ca_pem()).serials, std::set<std::string>{serial_a});
  EXPECT_FALSE(support.active_grant(serial_a));
  EXPECT_TRUE(support.active_grant(serial_b));

  clock.advance(1h);
  EXPECT_EQ(keeper.current().crl_pem, revoked.crl_pem) << "nothing changed, not due: no reload";

  // Once `a`'s certificate has expired, it need not be listed any more.
  clock.advance(2h);
  SupportGateway shorter = keeper.current();
  EXPECT_TRUE(read_crl(shorter.crl_pem, support.ca_pem()).serials.empty());

  // Re-signed daily, each time valid for a week: six days before nginx would find it stale.
  clock.advance(23h + 59min);
  EXPECT_EQ(keeper.current().crl_pem, shorter.crl_pem);
  clock.advance(1min);
  EXPECT_EQ(read_crl(keeper.current().crl_pem, support.ca_pem()).next_update, kNow + 3 * 3600 + 24 * 3600 + 7 * 24 * 3600);
  keeper.stop();
}

TEST_F(SupportGatewayKeeperTest, TheCheckAnswersOnTheAddressGivenAndRefusalsAreCounted) {
  keeper.start();
  auto g = grant("acc-000000000000000c");
  support.decide({g});
  SupportGateway gw = keeper.current();
  http::Client client(http::TlsOptions{.insecure_skip_verify = true});
  auto ask = [&](const std::string& serial) {
    http::Request r;
    r.url = "http://" + gw.check_address + "/check";
    r.headers = {{"X-Byoc-Check-Key", gw.check_key}, {"X-Byoc-Service", "s1"}, {"X-Byoc-Verify", "SUCCESS"},
                 {"X-Byoc-Serial", serial},           {"X-Byoc-Uri", "/?query=SELECT%201"},
                 {"X-Byoc-Credentials", "0"}};
    r.timeout = 5s;
    return client.send(r);
  };
  std::string serial = serial_of(g.request_id);
  http::Response admitted = ask("00" + serial);  // nginx may lead with zeros
  EXPECT_EQ(admitted.status, 204);
  EXPECT_EQ(admitted.header("x-byoc-serial"), serial);
  // policy.json turns support off: refused at once by the check, whatever the gateways still render.
  files::write_atomic(dir.path() / layout::kPolicy, R"({"vendor_support_access": false})", 0600);
  keeper.current();
  EXPECT_EQ(ask(serial).status, 403);
  std::filesystem::remove(dir.path() / layout::kPolicy);
  keeper.current();
  EXPECT_EQ(ask(serial).status, 204);
  keeper.denials().pending(10);
  support.decide({});  // revoked
  http::Response refused = ask(serial);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.header("x-byoc-refusal"), "grant_inactive") << "for nginx, which drops the body";
  auto pending = keeper.denials().pending(10);
  ASSERT_EQ(pending.size(), 2u);
  pending.erase(pending.begin());
  EXPECT_EQ(pending[0].reason, "grant_inactive");
  EXPECT_EQ(pending[0].serial, serial);
  EXPECT_EQ(pending[0].service, "s1");
  keeper.stop();
}

// Where the services run on a Kubernetes API, the keeper runs the
// kubernetes-readonly proxy while support is on: it learns each
// certificate's grant from SupportAccess and every decision it makes goes
// into the ledger of Kubernetes requests. (Refused requests only: nothing
// here answers as an API server.)
TEST_F(SupportGatewayKeeperTest, WithAKubernetesApiTheProxyRunsWhileSupportIsOnAndCountsEveryDecision) {
  files::write_atomic(dir.path() / layout::kPolicy,
                      R"({"support_access_scopes": ["clickhouse-system", "kubernetes-readonly"]})", 0600);
  SupportAccess cluster_access{dir.path(), kEnv, clock, {"clickhouse-system", "kubernetes-readonly"}};
  GatewayListening listening;
  listening.kubernetes_api = kube::ClientConfig{.server = "https://127.0.0.1:9", .ca_pem = support.ca_pem()};
  listening.kube_proxy_port = 0;
  SupportGatewayKeeper cluster{dir.path(), cluster_access, clock, listening};
  EXPECT_EQ(cluster.kube_proxy_port(), 0) << "nothing before the check runs";
  cluster.start();
  auto k8s = grant("acc-000000000000000d");
  k8s.scope = "kubernetes-readonly";
  auto ch = grant("acc-000000000000000e");
  cluster_access.decide({k8s, ch});
  SupportGateway gw = cluster.current();
  ASSERT_NE(cluster.kube_proxy_port(), 0);
  std::string k8s_serial, ch_serial;
  for (const auto& o : cluster_access.outcomes())
    (o.request_id == k8s.request_id ? k8s_serial : ch_serial) = normalized_serial(o.serial);
  ASSERT_FALSE(k8s_serial.empty());

  http::Client client(http::TlsOptions{.insecure_skip_verify = true});
  auto ask = [&](const std::string& serial, const std::string& target) {
    http::Request r;
    r.url = "http://127.0.0.1:" + std::to_string(cluster.kube_proxy_port()) + target;
    r.headers = {{"X-Byoc-Check-Key", gw.check_key}, {"X-Byoc-Verify", "SUCCESS"}, {"X-Byoc-Serial", serial}};
    r.timeout = 5s;
    return client.send(r).status;
  };
  EXPECT_EQ(ask(k8s_serial, "/api/v1/namespaces/byoc-services/secrets"), 403);
  EXPECT_EQ(ask(ch_serial, "/api/v1/pods"), 403) << "a clickhouse-system certificate";
  ASSERT_TRUE(cluster.kube_requests().has_unreported());
  std::map<std::string, model::KubeRequest> by_decision;
  for (const auto& r : cluster.kube_requests().pending(10)) by_decision[r.decision] = r;
  ASSERT_EQ(by_decision.count("secrets_refused"), 1u);
  const model::KubeRequest& secrets = by_decision["secrets_refused"];
  EXPECT_EQ(secrets.request_id, k8s.request_id);
  EXPECT_EQ(secrets.serial, k8s_serial);
  EXPECT_EQ(secrets.resource, "secrets");
  EXPECT_EQ(secrets.namespace_name, "byoc-services");
  EXPECT_EQ(secrets.status, 403);
  ASSERT_EQ(by_decision.count("scope_mismatch"), 1u);
  EXPECT_EQ(by_decision["scope_mismatch"].request_id, ch.request_id);

  // Support off: the proxy stops (every answer it streams ends with it).
  files::write_atomic(dir.path() / layout::kPolicy, R"({"vendor_support_access": false})", 0600);
  cluster.current();
  EXPECT_EQ(cluster.kube_proxy_port(), 0);
  files::write_atomic(dir.path() / layout::kPolicy,
                      R"({"support_access_scopes": ["clickhouse-system", "kubernetes-readonly"]})", 0600);
  cluster.current();
  EXPECT_NE(cluster.kube_proxy_port(), 0) << "and starts again when it is back on";
  cluster.stop();
}

}  // namespace
}  // namespace byoc::agent
