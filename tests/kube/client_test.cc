// kube::Client over real HTTPS to a stand-in API server on loopback that
// records every request and answers as the Kubernetes API does (its Status
// objects written out in api_answers.h). Retries wait on a recording sleep,
// never for real.
#include "kube/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "api_answers.h"
#include "aws/fake_aws.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "testing/testing.h"

namespace byoc::kube {
namespace {

using byoc::testing::CannedResponse;
using byoc::testing::FakeAws;
using byoc::testing::RecordedRequest;
using byoc::testing::answer;
using byoc::testing::in_turn;
using byoc::testing::status_answer;
using nlohmann::json;
using std::chrono::milliseconds;

const json kDeployment = {
    {"apiVersion", "apps/v1"},
    {"kind", "Deployment"},
    {"metadata", {{"name", "byoc-agent"}, {"namespace", "byoc-system"}}},
    {"spec", {{"replicas", 1}}},
};
const ObjectRef kSecret{"v1", "Secret", "byoc-system", "byoc-agent-join"};

class KubeClientTest : public ::testing::Test {
 protected:
  ClientConfig config() {
    return byoc::testing::stand_in_config(
        api, [this] { return "k8s-aws-v1.secret-" + std::to_string(++token_calls); }, sleeps);
  }
  std::string token_text(int n) { return "k8s-aws-v1.secret-" + std::to_string(n); }

  FakeAws api{nullptr};
  std::atomic<int> token_calls{0};
  std::vector<milliseconds> sleeps;
};

TEST_F(KubeClientTest, ApplyIsAServerSideApplyPatch) {
  json live = kDeployment;
  live["metadata"]["resourceVersion"] = "42";
  api.set_handler(in_turn({answer(200, live)}));
  Client client(config());
  EXPECT_EQ(client.apply(kDeployment), live);
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  EXPECT_EQ(r.method, "PATCH");
  EXPECT_EQ(r.target, "/apis/apps/v1/namespaces/byoc-system/deployments/byoc-agent?fieldManager=byoc&force=true");
  EXPECT_EQ(r.header("content-type"), "application/apply-patch+yaml");
  EXPECT_EQ(r.header("authorization"), "Bearer " + token_text(1));
  EXPECT_EQ(r.header("accept"), "application/json");
  EXPECT_EQ(json::parse(r.body), kDeployment);
  EXPECT_TRUE(sleeps.empty());
}

TEST_F(KubeClientTest, ApplyAddressesCoreAndClusterScopedKindsAndTakesAFieldManager) {
  api.set_handler([](const RecordedRequest& r) { return answer(200, json::parse(r.body)); });
  auto c = config();
  c.field_manager = "byoc agent";
  Client client(c);
  client.apply({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "byoc-system"}}}});
  client.apply({{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "s"}, {"namespace", "ns"}}}});
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target, "/api/v1/namespaces/byoc-system?fieldManager=byoc%20agent&force=true");
  EXPECT_EQ(requests[1].target, "/api/v1/namespaces/ns/secrets/s?fieldManager=byoc%20agent&force=true");
}

TEST_F(KubeClientTest, GetReturnsTheObjectOrNothing) {
  json secret = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "byoc-agent-join"}}}};
  api.set_handler(in_turn({answer(200, secret),
                           status_answer(404, "NotFound", "secrets \"byoc-agent-join\" not found")}));
  Client client(config());
  EXPECT_EQ(client.get(kSecret), secret);
  EXPECT_EQ(client.get(kSecret), std::nullopt);
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/api/v1/namespaces/byoc-system/secrets/byoc-agent-join");
  EXPECT_EQ(requests[0].header("content-type"), "");
  EXPECT_TRUE(sleeps.empty());
}

TEST_F(KubeClientTest, RemoveNamesThePropagationAndGoneIsDone) {
  api.set_handler(in_turn({answer(200, {{"kind", "Status"}, {"status", "Success"}}),
                           status_answer(404, "NotFound", "deployments.apps \"byoc-agent\" not found")}));
  Client client(config());
  client.remove(ref_of(kDeployment), Propagation::kForeground);
  client.remove(ref_of(kDeployment));
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "DELETE");
  EXPECT_EQ(requests[0].target, "/apis/apps/v1/namespaces/byoc-system/deployments/byoc-agent?propagationPolicy=Foreground");
  EXPECT_EQ(requests[1].target, "/apis/apps/v1/namespaces/byoc-system/deployments/byoc-agent?propagationPolicy=Background");
}

TEST_F(KubeClientTest, ListWalksEveryPageWithTheSelector) {
  api.set_handler(in_turn({
      answer(200, {{"kind", "PodList"}, {"apiVersion", "v1"}, {"metadata", {{"continue", "page/2="}}},
                   {"items", {{{"metadata", {{"name", "a"}}}}}}}),
      answer(200, {{"kind", "PodList"}, {"apiVersion", "v1"}, {"metadata", json::object()},
                   {"items", {{{"metadata", {{"name", "b"}}}}}}}),
  }));
  Client client(config());
  auto pods = client.list("v1", "Pod", "byoc-system", "app.kubernetes.io/name=byoc-agent,tier in (a,b)");
  ASSERT_EQ(pods.size(), 2u);
  EXPECT_EQ(pods[1], json({{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "b"}}}}));
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 2u);
  const std::string first = "/api/v1/namespaces/byoc-system/pods?limit=500&labelSelector="
                            "app.kubernetes.io%2Fname%3Dbyoc-agent%2Ctier%20in%20%28a%2Cb%29";
  EXPECT_EQ(requests[0].target, first);
  EXPECT_EQ(requests[1].target, first + "&continue=page%2F2%3D");
}

TEST_F(KubeClientTest, StatusAnswersBecomeApiErrorsWithoutRetrying) {
  struct Case {
    int code;
    std::string reason;
    ErrorKind kind;
  };
  for (const Case& c : {Case{403, "Forbidden", ErrorKind::kForbidden}, Case{422, "Invalid", ErrorKind::kInvalid},
                        Case{400, "BadRequest", ErrorKind::kBadRequest}}) {
    FakeAws server(in_turn({status_answer(c.code, c.reason, "deployments.apps is " + c.reason + " here")}));
    auto cfg = config();
    cfg.server = server.url();
    cfg.ca_pem = server.ca_pem();
    Client client(cfg);
    try {
      client.apply(kDeployment);
      ADD_FAILURE() << "no error for " << c.code;
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), c.code);
      EXPECT_EQ(e.reason(), c.reason);
      EXPECT_EQ(e.kind(), c.kind);
      EXPECT_EQ(e.code(), "kube_" + c.reason);
      EXPECT_NE(std::string(e.what()).find("deployments.apps is " + c.reason + " here"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("Deployment byoc-system/byoc-agent"), std::string::npos) << e.what();
    }
    EXPECT_EQ(server.requests().size(), 1u) << c.code;
  }
  EXPECT_TRUE(sleeps.empty());
}

// A forced apply takes every field it sets, so a conflict is a concurrent
// write (the object changed between read and write on the server): the
// same apply again settles it. Other calls never meet one worth retrying.
TEST_F(KubeClientTest, AConflictOnApplyIsRetriedWithBackoffAndOnGetIsNot) {
  json live = kDeployment;
  api.set_handler(in_turn({status_answer(409, "Conflict", "Operation cannot be fulfilled: the object has been modified"),
                           status_answer(409, "Conflict", "again"), answer(200, live)}));
  Client client(config());
  EXPECT_EQ(client.apply(kDeployment), live);
  EXPECT_EQ(api.requests().size(), 3u);
  EXPECT_EQ(sleeps, (std::vector<milliseconds>{milliseconds(187), milliseconds(375)}));

  FakeAws always(in_turn({status_answer(409, "AlreadyExists", "secrets \"s\" already exists")}));
  auto cfg = config();
  cfg.server = always.url();
  cfg.ca_pem = always.ca_pem();
  Client refused(cfg);
  sleeps.clear();
  EXPECT_EQ(testing::error_code([&] { refused.apply(kDeployment); }), "kube_AlreadyExists");
  EXPECT_EQ(always.requests().size(), 5u);  // every attempt, then the Status
  EXPECT_EQ(sleeps.size(), 4u);
  FakeAws on_get(in_turn({status_answer(409, "Conflict", "odd")}));
  cfg.server = on_get.url();
  cfg.ca_pem = on_get.ca_pem();
  Client reader(cfg);
  EXPECT_EQ(testing::error_code([&] { reader.get(kSecret); }), "kube_Conflict");
  EXPECT_EQ(on_get.requests().size(), 1u);
}

TEST_F(KubeClientTest, AnAnswerThatIsNoStatusStillNamesItsCode) {
  api.set_handler(in_turn({CannedResponse{418, {}, "teapot"}}));
  Client client(config());
  EXPECT_EQ(testing::error_code([&] { client.get(kSecret); }), "kube_http_418");
}

TEST_F(KubeClientTest, AnAnswerOverTheBoundIsCutOffAndNotAskedForAgain) {
  api.set_handler([](const RecordedRequest&) {
    return CannedResponse{200, {{"Content-Type", "application/json"}}, std::string(kMaxResponseBytes + 1, ' ')};
  });
  Client client(config());
  std::string message = testing::error_message([&] { client.get(kSecret); });
  EXPECT_NE(message.find("larger than"), std::string::npos) << message;
  EXPECT_EQ(api.requests().size(), 1u);
}

TEST_F(KubeClientTest, ThrottlingWaitsAsRetryAfterSays) {
  api.set_handler(in_turn({answer(429, {{"kind", "Status"}, {"reason", "TooManyRequests"}, {"code", 429}},
                                  {{"Retry-After", "3"}}),
                           status_answer(503, "ServiceUnavailable", "etcd is slow"), answer(200, kDeployment)}));
  Client client(config());
  EXPECT_EQ(client.apply(kDeployment), kDeployment);
  EXPECT_EQ(api.requests().size(), 3u);
  // Retry-After first; then the backoff's second attempt: half of 500 ms, plus half the rest at jitter 0.5.
  EXPECT_EQ(sleeps, (std::vector<milliseconds>{milliseconds(3000), milliseconds(375)}));
}

TEST_F(KubeClientTest, RetryAfterInTheStatusDetailsCountsToo) {
  api.set_handler(in_turn({answer(429, {{"kind", "Status"}, {"reason", "TooManyRequests"}, {"code", 429},
                                        {"details", {{"retryAfterSeconds", 2}}}}),
                           answer(200, kDeployment)}));
  Client client(config());
  client.get(ref_of(kDeployment));
  EXPECT_EQ(sleeps, (std::vector<milliseconds>{milliseconds(2000)}));
}

TEST_F(KubeClientTest, ServerFaultsAreRetriedUpToTheBound) {
  api.set_handler(in_turn({status_answer(503, "ServiceUnavailable", "the server is currently unable to handle the request")}));
  Client client(config());
  try {
    client.apply(kDeployment);
    ADD_FAILURE() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnavailable);
    EXPECT_EQ(e.code(), "kube_ServiceUnavailable");
    EXPECT_NE(std::string(e.what()).find("after 5 attempts"), std::string::npos) << e.what();
  }
  EXPECT_EQ(api.requests().size(), 5u);
  // Exponential from 250 ms with equal jitter (0.5 here): 187, 375, 750, 1500.
  EXPECT_EQ(sleeps, (std::vector<milliseconds>{milliseconds(187), milliseconds(375), milliseconds(750),
                                               milliseconds(1500)}));
}

TEST_F(KubeClientTest, ARetryAfterPastTheTotalWaitEndsTheCall) {
  api.set_handler(in_turn({answer(429, {{"kind", "Status"}, {"reason", "TooManyRequests"}}, {{"Retry-After", "40"}})}));
  Client client(config());
  EXPECT_EQ(testing::error_code([&] { client.get(kSecret); }), "kube_TooManyRequests");
  EXPECT_EQ(api.requests().size(), 1u);
  EXPECT_TRUE(sleeps.empty());
}

TEST_F(KubeClientTest, UnauthorizedAsksForAFreshTokenOnce) {
  api.set_handler(in_turn({status_answer(401, "Unauthorized", "Unauthorized"), answer(200, kDeployment)}));
  Client client(config());
  EXPECT_EQ(client.apply(kDeployment), kDeployment);
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].header("authorization"), "Bearer " + token_text(1));
  EXPECT_EQ(requests[1].header("authorization"), "Bearer " + token_text(2));
  EXPECT_TRUE(sleeps.empty());

  api.set_handler(in_turn({status_answer(401, "Unauthorized", "Unauthorized")}));
  try {
    client.get(kSecret);
    ADD_FAILURE() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnauthenticated);
  }
  EXPECT_EQ(api.requests().size(), 4u);  // one retry, no more
}

TEST_F(KubeClientTest, AServerTheCaDoesNotVouchForIsUnavailable) {
  using namespace std::chrono_literals;
  crypto::CertificateSpec spec;
  spec.common_name = "another-ca";
  SystemClock clock;
  spec.not_before = clock.system_time() - 1h;
  spec.not_after = clock.system_time() + 1h;
  auto c = config();
  c.ca_pem = crypto::make_ca(spec).cert_pem;
  Client client(c);
  try {
    client.get(kSecret);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnavailable);
    EXPECT_NE(std::string(e.what()).find("after 5 attempts"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(api.requests().empty());  // nothing reached the server's handler
  EXPECT_EQ(sleeps.size(), 4u);
}

TEST_F(KubeClientTest, NamesThatCouldEscapeThePathSendNothing) {
  Client client(config());
  for (std::string name : {"../../../api/v1/namespaces/kube-system/secrets/x", "a/b", "x?dryRun=All", "X"}) {
    EXPECT_EQ(testing::error_code([&] { client.get({"v1", "Secret", "byoc-system", name}); }), "kube_invalid_name");
    EXPECT_EQ(testing::error_code([&] { client.remove({"v1", "Secret", "byoc-system", name}); }), "kube_invalid_name");
    json object = kDeployment;
    object["metadata"]["name"] = name;
    EXPECT_EQ(testing::error_code([&] { client.apply(object); }), "kube_invalid_name");
  }
  EXPECT_EQ(testing::error_code([&] { client.list("v1", "Pod", "../kube-system"); }), "kube_invalid_namespace");
  EXPECT_EQ(testing::error_code([&] { client.list("v1", "Widget", "ns"); }), "kube_unknown_kind");
  EXPECT_TRUE(api.requests().empty());
}

TEST_F(KubeClientTest, TheTokenNeverAppearsInAnError) {
  // A server that echoes the credentials it got back in its message.
  api.set_handler([](const RecordedRequest& r) {
    return status_answer(403, "Forbidden", "denied for " + r.header("authorization"));
  });
  Client client(config());
  std::string message = testing::error_message([&] { client.get(kSecret); });
  EXPECT_EQ(message.find("secret-1"), std::string::npos) << message;
  EXPECT_NE(message.find("[redacted]"), std::string::npos) << message;

  auto c = config();
  c.token = [] { return std::string("k8s-aws-v1.secret\r\nX-Evil: 1"); };
  Client bad_token(c);
  auto before = api.requests().size();
  message = testing::error_message([&] { bad_token.get(kSecret); });
  EXPECT_EQ(message.find("secret"), std::string::npos) << message;
  EXPECT_EQ(api.requests().size(), before);
}

TEST_F(KubeClientTest, TheServerMustBeAnHttpsOrigin) {
  for (std::string server : {"http://10.0.0.1", "https://", "https://host/path", "https://user@host",
                             "https://host?x=1", "https://host:0", "https://host:99999", "https://host:x",
                             "https://[::1", "10.0.0.1:443"}) {
    auto c = config();
    c.server = server;
    EXPECT_EQ(testing::error_code([&] { Client client(c); }), "kube_server_invalid") << server;
  }
  for (std::string server : {"https://ABC.gr7.eu-west-1.eks.amazonaws.com", "https://10.0.0.1:6443/",
                             "https://[fd00::1]:443"}) {
    auto c = config();
    c.server = server;
    EXPECT_NO_THROW(Client client(c)) << server;
  }
  auto c = config();
  c.token = nullptr;
  EXPECT_EQ(testing::error_code([&] { Client client(c); }), "kube_config_invalid");
}

}  // namespace
}  // namespace byoc::kube
