// The kubernetes-readonly proxy between the support gateway (nginx) and the
// API server: requests sent as nginx sends them, the stand-in API server
// (fake_kube_api.h) behind. What it forwards carries the agent's token and
// the impersonation of byoc-support with the grant, and nothing of the
// client's identity; what the read-only role doesn't grant never leaves it;
// every decision is audited.
#include "agent/kube_support_proxy.h"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "base/http_client.h"
#include "fake_kube_api.h"
#include "testing/testing.h"

namespace byoc::testing {
namespace {

using agent::KubeAuditEntry;
using nlohmann::json;

const std::string kKey(64, 'e');
constexpr const char* kGrant = "acc-0123456789abcdef";

class KubeSupportProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api.put({{"apiVersion", "v1"},
             {"kind", "Pod"},
             {"metadata", {{"name", "orders-s1-0"}, {"namespace", "byoc-services"}}},
             {"spec", {{"containers", json::array({{{"name", "clickhouse"}, {"image", "clickhouse"}}})}}}});
    agent::KubeSupportProxyOptions o;
    o.listen_host = "127.0.0.1";
    o.check_key = kKey;
    o.api = api.client_config();
    o.grant = [](const std::string& serial) -> std::optional<agent::KubeSupportGrant> {
      const int64_t later = std::time(nullptr) + 3600;
      if (serial == "a1b") return agent::KubeSupportGrant{kGrant, "kubernetes-readonly", later};
      if (serial == "c2d") return agent::KubeSupportGrant{"acc-fedcba9876543210", "clickhouse-system", later};
      return std::nullopt;
    };
    o.audit = [this](const KubeAuditEntry& e) {
      std::lock_guard lock(mu);
      audited.push_back(e);
    };
    proxy = std::make_unique<agent::KubeSupportProxy>(o);
  }

  // A request as nginx sends it: the gateway's key, the certificate's result and serial.
  http::Response send(const std::string& method, const std::string& target,
                      std::vector<std::pair<std::string, std::string>> headers = {}, const std::string& serial = "0A1B",
                      const std::string& key = kKey, const std::string& body = "") {
    http::Client client;
    http::Request r;
    r.method = method;
    r.url = "http://127.0.0.1:" + std::to_string(proxy->port()) + target;
    r.headers = {{"X-Byoc-Check-Key", key}, {"X-Byoc-Verify", "SUCCESS"}, {"X-Byoc-Serial", serial}};
    r.headers.insert(r.headers.end(), headers.begin(), headers.end());
    r.body = body;
    r.timeout = std::chrono::seconds(10);
    return client.send(r);
  }

  std::vector<KubeAuditEntry> audit() {
    std::lock_guard lock(mu);
    return audited;
  }

  FakeKubeApi api;
  std::mutex mu;
  std::vector<KubeAuditEntry> audited;
  std::unique_ptr<agent::KubeSupportProxy> proxy;
};

TEST_F(KubeSupportProxyTest, AReadIsForwardedAsTheSupportUserWithTheGrantAndNothingOfTheClients) {
  api.clear_requests();
  auto answer = send("GET", "/api/v1/namespaces/byoc-services/pods",
                     {{"Accept", "application/json"},
                      {"Authorization", "Bearer stolen"},
                      {"Impersonate-User", "system:admin"},
                      {"Impersonate-Group", "system:masters"},
                      {"Impersonate-Extra-byoc-grant", "acc-1111111111111111"},
                      {"Impersonate-Uid", "0"}});
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(json::parse(answer.body)["items"][0]["metadata"]["name"], "orders-s1-0");
  EXPECT_EQ(answer.header("content-type"), "application/json");

  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 1u);
  const RecordedRequest& r = requests[0];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/api/v1/namespaces/byoc-services/pods");
  EXPECT_EQ(r.header("authorization"), std::string("Bearer ") + FakeKubeApi::kToken);  // the agent's own
  EXPECT_EQ(r.header("impersonate-user"), "byoc-support");
  EXPECT_EQ(r.header("impersonate-group"), "byoc:support-readonly");
  EXPECT_EQ(r.header("impersonate-extra-byoc-grant"), kGrant);
  EXPECT_EQ(r.header("impersonate-uid"), "");
  EXPECT_EQ(r.header("accept"), "application/json");
  for (const auto& [name, value] : r.headers) EXPECT_EQ(value.find("system:"), std::string::npos) << name;

  auto entries = audit();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].decision, "allowed");
  EXPECT_EQ(entries[0].verb, "list");
  EXPECT_EQ(entries[0].resource, "pods");
  EXPECT_EQ(entries[0].namespace_name, "byoc-services");
  EXPECT_EQ(entries[0].request_id, kGrant);
  EXPECT_EQ(entries[0].serial, "a1b");
  EXPECT_EQ(entries[0].status, 200);
}

TEST_F(KubeSupportProxyTest, ExecSecretsWritesAndTheUnknownNeverReachTheApi) {
  struct Case {
    std::string method, target, code;
    int status;
  };
  const std::vector<Case> cases = {
      {"POST", "/api/v1/namespaces/byoc-services/pods/orders-s1-0/exec?command=sh&stdin=true", "exec_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-services/pods/orders-s1-0/exec?command=sh", "exec_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-services/pods/orders-s1-0/attach", "exec_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-services/secrets", "secrets_refused", 403},
      {"GET", "/api/v1/secrets", "secrets_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-services/secrets/orders-credentials", "secrets_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-services/configmaps/orders-s1-config", "configmaps_refused", 403},
      {"DELETE", "/api/v1/namespaces/byoc-services/pods/orders-s1-0", "write_refused", 403},
      {"PATCH", "/apis/apps/v1/namespaces/byoc-services/statefulsets/orders-s1", "write_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-services/services/orders-endpoint:https/proxy", "proxy_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-system/serviceaccounts/byoc-agent/token", "token_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-services/pods/%2e%2e/log", "unknown_request", 400},
  };
  api.clear_requests();
  for (const auto& c : cases) {
    auto answer = send(c.method, c.target);
    EXPECT_EQ(answer.status, c.status) << c.method << " " << c.target;
    EXPECT_EQ(json::parse(answer.body)["error"]["code"], c.code) << c.target;
  }
  // A GET with a body is no read either.
  auto with_body = send("GET", "/api/v1/namespaces/byoc-services/pods", {}, "0A1B", kKey, "{}");
  EXPECT_EQ(with_body.status, 403);
  EXPECT_EQ(json::parse(with_body.body)["error"]["code"], "write_refused");
  EXPECT_TRUE(api.requests().empty());

  auto entries = audit();
  ASSERT_EQ(entries.size(), cases.size() + 1);
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(entries[i].decision, cases[i].code);
    EXPECT_EQ(entries[i].request_id, kGrant);
    EXPECT_EQ(entries[i].status, cases[i].status);
  }
  EXPECT_EQ(entries[0].verb, "create");
  EXPECT_EQ(entries[0].subresource, "exec");
  EXPECT_EQ(entries[0].name, "orders-s1-0");
  // Never a query value in the audit.
  for (const auto& e : entries) EXPECT_EQ(e.path.find("command"), std::string::npos);
}

TEST_F(KubeSupportProxyTest, OnlyOurGatewayWithAnActiveKubernetesGrantGetsThrough) {
  api.clear_requests();
  auto stranger = send("GET", "/api/v1/namespaces/byoc-services/pods", {}, "0A1B", std::string(64, 'f'));
  EXPECT_EQ(stranger.status, 401);
  auto no_grant = send("GET", "/api/v1/namespaces/byoc-services/pods", {}, "99");
  EXPECT_EQ(no_grant.status, 403);
  EXPECT_EQ(json::parse(no_grant.body)["error"]["code"], "grant_inactive");
  auto other_scope = send("GET", "/api/v1/namespaces/byoc-services/pods", {}, "C2D");
  EXPECT_EQ(other_scope.status, 403);
  EXPECT_EQ(json::parse(other_scope.body)["error"]["code"], "scope_mismatch");
  auto no_serial = send("GET", "/api/v1/namespaces/byoc-services/pods", {}, "");
  EXPECT_EQ(json::parse(no_serial.body)["error"]["code"], "no_certificate");
  EXPECT_TRUE(api.requests().empty());
  auto entries = audit();
  ASSERT_EQ(entries.size(), 3u);  // the stranger is not ours to audit
  EXPECT_EQ(entries[0].decision, "grant_inactive");
  EXPECT_EQ(entries[1].decision, "scope_mismatch");
  EXPECT_EQ(entries[1].request_id, "acc-fedcba9876543210");
}

TEST_F(KubeSupportProxyTest, AWatchIsStreamedAndTheApisRefusalsPassAsTheyAre) {
  const std::string version = api.resource_version();
  api.put({{"apiVersion", "v1"},
           {"kind", "Pod"},
           {"metadata", {{"name", "orders-s1-1"}, {"namespace", "byoc-services"}}},
           {"spec", {{"containers", json::array({{{"name", "clickhouse"}, {"image", "clickhouse"}}})}}}});
  auto watch = send("GET", "/api/v1/namespaces/byoc-services/pods?watch=true&resourceVersion=" + version);
  ASSERT_EQ(watch.status, 200);
  EXPECT_NE(watch.body.find("\"orders-s1-1\""), std::string::npos) << watch.body;
  EXPECT_EQ(audit().back().verb, "watch");

  auto missing = send("GET", "/api/v1/namespaces/byoc-services/pods/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["reason"], "NotFound");
  EXPECT_EQ(audit().back().decision, "allowed");
  EXPECT_EQ(audit().back().status, 404);

  auto discovery = send("GET", "/version");
  EXPECT_EQ(audit().back().path, "/version");
}

TEST_F(KubeSupportProxyTest, StopEndsEveryConnection) {
  proxy->stop();
  proxy->stop();
  http::Client client;
  http::Request r;
  r.url = "http://127.0.0.1:" + std::to_string(proxy->port()) + "/version";
  r.timeout = std::chrono::seconds(2);
  EXPECT_THROW(client.send(r), Error);
}

}  // namespace
}  // namespace byoc::testing
