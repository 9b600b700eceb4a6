// The whole way with the kubernetes runtime: a real `byoc server`, an
// external environment, a real `byoc agent --runtime kubernetes` joined to
// it with a kubeconfig for the stand-in API server, and a service created
// through the CLI. The agent loop is the one every agent runs; only the
// runtime differs. The test plays the cluster's controllers and kubelets
// until the plane reports the service READY, then deletes it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/files.h"
#include "e2e/cli_server_fixture.h"
#include "fake_kube_api.h"

namespace byoc::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kNamespace = "byoc-services";

class AgentKubernetesTest : public CliServerTest {
 protected:
  fs::path write_kubeconfig() {
    json config = {{"apiVersion", "v1"},
                   {"kind", "Config"},
                   {"current-context", "fake"},
                   {"clusters", json::array({{{"name", "fake"},
                                              {"cluster",
                                               {{"server", api.url()},
                                                {"certificate-authority-data", crypto::base64(api.ca_pem())}}}}})},
                   {"users", json::array({{{"name", "agent"}, {"user", {{"token", testing::FakeKubeApi::kToken}}}}})},
                   {"contexts", json::array({{{"name", "fake"}, {"context", {{"cluster", "fake"}, {"user", "agent"}}}}})}};
    fs::path file = root_.path() / "kubeconfig";
    files::write_atomic(file, config.dump(), 0600);
    return file;
  }

  // What the StatefulSet controller, the kubelet, the Deployment controller
  // and the load-balancer controller would have done by now.
  void play_the_cluster(const std::string& service) {
    for (const auto& set : api.objects("StatefulSet", kNamespace)) {
      if (set["metadata"]["labels"].value("byoc.io/service", "") != service) continue;
      const std::string name = set["metadata"]["name"];
      const int replicas = set["spec"]["replicas"];
      const int64_t generation = set["metadata"]["generation"];
      api.set_status({"apps/v1", "StatefulSet", kNamespace, name},
                     {{"observedGeneration", generation}, {"replicas", replicas}, {"readyReplicas", replicas},
                      {"updatedReplicas", replicas}, {"currentRevision", "r1"}, {"updateRevision", "r1"}});
      for (int r = 0; r < replicas; ++r)
        api.put({{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata", {{"name", name + "-" + std::to_string(r)}, {"namespace", kNamespace},
                               {"labels", set["spec"]["template"]["metadata"]["labels"]}}},
                 {"spec", set["spec"]["template"]["spec"]},
                 {"status", {{"phase", "Running"}, {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}});
    }
    const std::string endpoint = service + "-endpoint";
    if (auto d = api.object({"apps/v1", "Deployment", kNamespace, endpoint})) {
      const int replicas = (*d)["spec"]["replicas"];
      api.set_status({"apps/v1", "Deployment", kNamespace, endpoint},
                     {{"observedGeneration", (*d)["metadata"]["generation"]}, {"replicas", replicas},
                      {"readyReplicas", replicas}, {"updatedReplicas", replicas}, {"availableReplicas", replicas}});
    }
    if (api.object({"v1", "Service", kNamespace, endpoint}))
      api.set_status({"v1", "Service", kNamespace, endpoint},
                     {{"loadBalancer", {{"ingress", json::array({{{"hostname", "nlb.example"}}})}}}});
  }

  testing::FakeKubeApi api;
};

TEST_F(AgentKubernetesTest, AServiceOfAnExternalEnvironmentRunsAsObjectsInTheCluster) {
  login();
  ASSERT_EQ(byoc({"env", "create", "k1", "--cloud", "external", "--cidr", "10.2.0.0/16"}).code, 0);
  RunResult token = byoc({"env", "join-token", "k1"});
  ASSERT_EQ(token.code, 0) << token.err;
  fs::path token_file = root_.path() / "join.token";
  files::write_atomic(token_file, token.out, 0600);
  const fs::path kubeconfig = write_kubeconfig();
  agent_ = std::make_unique<Child>(
      std::vector<std::string>{"agent", "--state-dir", (root_.path() / "agent").string(), "--server", url_,
                               "--join-token-file", token_file.string(), "--runtime", "kubernetes",
                               "--runtime-option", "kubeconfig=" + kubeconfig.string(),
                               "--runtime-option", "gateway-host=127.0.0.1",
                               "--runtime-option", "gateway-check-port=0",
                               "--runtime-option", "kube-proxy-port=0"},
      env(), root_.path() / "agent");
  ASSERT_TRUE(testing::eventually(
      [&] {
        json e = env_json("k1");
        return e.value("state", "") == "READY";
      },
      60s))
      << env_json("k1").dump(2) << "\nagent log:\n" << agent_->err();

  RunResult created = byoc({"service", "create", "orders", "--env", "k1"});
  ASSERT_EQ(created.code, 0) << created.err;
  // The agent applies the service's objects to the cluster.
  ASSERT_TRUE(testing::eventually(
      [&] { return api.object({"apps/v1", "StatefulSet", kNamespace, "orders-s1"}).has_value(); }, 60s))
      << agent_->err();
  EXPECT_TRUE(api.object({"v1", "Secret", kNamespace, "orders-credentials"}).has_value());
  EXPECT_TRUE(api.object({"v1", "Secret", kNamespace, "orders-tls"}).has_value());
  const json set = *api.object({"apps/v1", "StatefulSet", kNamespace, "orders-s1"});
  EXPECT_EQ(set["metadata"]["labels"]["byoc.io/environment"], env_json("k1")["id"]);

  // Not READY on the plane until the cluster says so.
  EXPECT_NE(service_json("k1", "orders").value("state", ""), "READY");
  json service;
  ASSERT_TRUE(testing::eventually(
      [&] {
        play_the_cluster("orders");
        service = service_json("k1", "orders");
        return service.value("state", "") == "READY";
      },
      90s))
      << service.dump(2) << "\nagent log:\n" << agent_->err();
  // No allowlist: an in-cluster endpoint, reached (and certified) by its name.
  EXPECT_EQ(service.value("endpoint", ""), "https://orders-endpoint.byoc-services.svc:443") << service.dump(2);
  // Every object the agent applied is a valid Kubernetes 1.33 object.
  EXPECT_EQ(testing::kubernetes_models_failures(testing::applied_bodies(api.requests())), "");

  ASSERT_EQ(byoc({"service", "delete", "orders", "--env", "k1"}).code, 0);
  ASSERT_TRUE(testing::eventually(
      [&] { return !api.object({"apps/v1", "StatefulSet", kNamespace, "orders-s1"}).has_value(); }, 60s))
      << agent_->err();
  EXPECT_FALSE(api.object({"v1", "Secret", kNamespace, "orders-credentials"}).has_value());
}

}  // namespace
}  // namespace byoc::e2e
