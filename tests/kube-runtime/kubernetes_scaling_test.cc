// Replicas added to and dropped from a service of the Kubernetes runtime,
// against the stand-in API server with real ClickHouse behind the pods: the
// local runtime runs three replicas of one shard (ZooKeeper included) and
// the test points the Kubernetes pods orders-s1-0, -1, -2 at them
// (KubernetesRuntimeOptions::replica_address), playing the StatefulSet
// controller and the kubelet — which makes a pod Ready only once its
// serving condition, the runtime's, is True.
//
// What it shows: a replica added to a running service serves only once it
// has the others' tables and caught up, and stays out of their cluster until
// then, without restarting them; a dropped one stops serving at once, keeps
// running while it is drained (what was written to it alone reaches the
// others), leaves ZooKeeper, and only then goes, its volume claim after it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent/runtimes/kubernetes/kubernetes_runtime.h"
#include "agent/runtimes/kubernetes/replica_changes.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "base/files.h"
#include "fake_kube_api.h"
#include "kube_service_spec.h"
#include "render/kubernetes/kubernetes.h"
#include "../agent/runtime_harness.h"

namespace byoc::agent::test {
namespace {

using nlohmann::json;
namespace rk = render::kubernetes;

constexpr const char* kNamespace = "byoc-services";
constexpr const char* kStatefulSet = "orders-s1";

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

ServiceSpec kube_spec(int replicas) { return testing::kube_service_spec("orders", 1, replicas); }

bool condition(const json& pod, const std::string& type) {
  for (const auto& c : pod["status"].value("conditions", json::array()))
    if (c.value("type", "") == type) return c.value("status", "") == "True";
  return false;
}

class KubernetesScalingTest : public RuntimeTest {
 protected:
  void SetUp() override {
    // Three replicas of one shard; the table and a view over it on the
    // first two only, as if the third were a new, empty replica.
    ASSERT_EQ(apply(service_spec("orders", 1, 3)).state, ServiceState::kReady);
    for (const char* replica : {"s1r1", "s1r2"})
      ASSERT_EQ(replica_query("orders", replica,
                              "CREATE TABLE events (id UInt64, v String) ENGINE = "
                              "ReplicatedMergeTree('/clickhouse/tables/{shard}/events', '{replica}') ORDER BY id")
                    .status,
                200);
    ASSERT_EQ(replica_query("orders", "s1r1", "INSERT INTO events VALUES (1, 'a'), (2, 'b'), (3, 'c')").status, 200);
    ASSERT_TRUE(testing::eventually([&] { return rows_on("s1r2") == "3"; }, std::chrono::seconds(30)));
    for (const char* replica : {"s1r1", "s1r2"})
      ASSERT_EQ(replica_query("orders", replica, "CREATE VIEW total AS SELECT count() AS n FROM events").status, 200);

    // The Kubernetes side's cluster password is the local replicas'.
    api.put({{"apiVersion", "v1"},
             {"kind", "Secret"},
             {"metadata", {{"name", rk::credentials_secret_name("orders")}, {"namespace", kNamespace}}},
             {"type", "Opaque"},
             {"data",
              {{rk::kClusterPasswordKey, crypto::base64(*files::read_if_exists(service_dir("orders") / "cluster.secret"))},
               {rk::kSupportPasswordKey, crypto::base64("unused-support-password")}}}});
    KubernetesRuntimeOptions o;
    o.root = dir_.path() / "kube";
    o.environment_ca = ca_;
    o.clock = &manual;
    o.environment_id = "env-0123456789abcdef";
    o.client = api.client_config();
    o.watch_pause = std::chrono::milliseconds(20);
    o.failure_pause = std::chrono::milliseconds(50);
    o.replica_address = [this](const std::string& pod, const std::string& address) {
      EXPECT_FALSE(address.empty());
      const std::string local = "s1r" + std::to_string(std::stoi(pod.substr(pod.rfind('-') + 1)) + 1);
      return std::pair<std::string, int>{"127.0.0.1", replica_http_port("orders", local)};
    };
    kube = make_kubernetes_runtime(o);
  }

  void TearDown() override { kube.reset(); }

  std::string rows_on(const std::string& replica) {
    return first_line(replica_query("orders", replica, "SELECT count() FROM events").body);
  }

  json pod(int ordinal) { return api.object({"v1", "Pod", kNamespace, rk::replica_pod_name("orders", 1, ordinal)}).value_or(json()); }
  bool serving(int ordinal) { return !pod(ordinal).is_null() && condition(pod(ordinal), rk::kServingCondition); }
  json stateful_set() { return *api.object({"apps/v1", "StatefulSet", kNamespace, kStatefulSet}); }
  std::string replica_file(int ordinal) {
    auto config = api.object({"v1", "ConfigMap", kNamespace, std::string(kStatefulSet) + "-config"});
    return config ? (*config)["data"].value(rk::replica_pod_name("orders", 1, ordinal) + ".xml", "") : "";
  }
  // Whether replica `ordinal`'s config has `member` in its cluster.
  bool in_cluster_of(int ordinal, int member) {
    return replica_file(ordinal).find("<host>" + rk::replica_pod_name("orders", 1, member) + ".") != std::string::npos;
  }

  // The StatefulSet controller and the kubelet: the set's pods run, answer
  // and are Ready once serving; those above its replicas go.
  void play_cluster() {
    json set = stateful_set();
    const int replicas = set["spec"]["replicas"];
    int ready = 0;
    for (int r = 0; r < 5; ++r) {
      const std::string name = rk::replica_pod_name("orders", 1, r);
      if (r >= replicas) {
        api.remove_object({"v1", "Pod", kNamespace, name});
        continue;
      }
      json p = pod(r);
      const bool gate = !p.is_null() && condition(p, rk::kServingCondition);
      json conditions = json::array({{{"type", "ContainersReady"}, {"status", "True"}},
                                     {{"type", "Ready"}, {"status", gate ? "True" : "False"}}});
      if (!p.is_null())
        for (const auto& c : p["status"].value("conditions", json::array()))
          if (c.value("type", "") == rk::kServingCondition) conditions.push_back(c);
      ready += gate ? 1 : 0;
      api.put({{"apiVersion", "v1"},
               {"kind", "Pod"},
               {"metadata", {{"name", name}, {"namespace", kNamespace}, {"labels", set["spec"]["template"]["metadata"]["labels"]}}},
               {"spec", set["spec"]["template"]["spec"]},
               {"status", {{"phase", "Running"}, {"podIP", "10.1.0." + std::to_string(r + 1)}, {"conditions", conditions}}}});
    }
    api.set_status({"apps/v1", "StatefulSet", kNamespace, kStatefulSet},
                   {{"observedGeneration", set["metadata"]["generation"]},
                    {"replicas", replicas},
                    {"readyReplicas", ready},
                    {"updatedReplicas", replicas},
                    {"currentRevision", "r"},
                    {"updateRevision", "r"}});
    kube::ObjectRef deployment{"apps/v1", "Deployment", kNamespace, rk::endpoint_service_name("orders")};
    if (auto d = api.object(deployment))
      api.set_status(deployment, {{"observedGeneration", (*d)["metadata"]["generation"]},
                                  {"replicas", 2},
                                  {"readyReplicas", 2},
                                  {"updatedReplicas", 2},
                                  {"availableReplicas", 2}});
    api.set_status({"v1", "Service", kNamespace, rk::endpoint_service_name("orders")},
                   {{"loadBalancer", {{"ingress", json::array({{{"hostname", "lb.example"}}})}}}});
  }

  // A report's worth of the agent, the cluster meanwhile; until `done`.
  bool rounds_until(const std::function<bool()>& done, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    return testing::eventually(
        [&] {
          play_cluster();
          manual.advance(std::chrono::milliseconds(20));
          kube->supervise();  // the certificate must name the load balancer
          kube->set_support_gateway(SupportGateway{});
          return done();
        },
        timeout);
  }

  ServiceStatus kube_status() {
    for (auto& s : kube->observe())
      if (s.name == "orders") return s;
    return {};
  }

  testing::FakeKubeApi api;
  ManualClock manual{std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count()};
  std::unique_ptr<Runtime> kube;
};

TEST_F(KubernetesScalingTest, AnAddedReplicaServesOnlyCaughtUpAndADroppedOneIsDrainedBeforeItGoes) {
  // 1x2: the first pod serves as soon as it answers (no other has
  // anything), the second once caught up with it.
  kube->apply(kube_spec(2));
  ASSERT_TRUE(rounds_until([&] { return serving(0) && serving(1) && kube_status().state == ServiceState::kReady; }));
  bool patched = false;
  for (const auto& r : api.requests())
    if (r.method == "PATCH" && r.target.rfind("/api/v1/namespaces/byoc-services/pods/orders-s1-0/status?", 0) == 0) {
      EXPECT_EQ(r.header("content-type"), "application/strategic-merge-patch+json");
      patched = true;
    }
  EXPECT_TRUE(patched);
  const json revision = stateful_set()["spec"]["template"]["metadata"]["annotations"]["byoc.io/config-revision"];

  // 1x3: the third starts out of everyone's cluster and not serving.
  kube->apply(kube_spec(3));
  EXPECT_EQ(stateful_set()["spec"]["replicas"], 3);
  EXPECT_EQ(stateful_set()["spec"]["template"]["metadata"]["annotations"]["byoc.io/config-revision"], revision)
      << "a replica joining restarts no other";
  EXPECT_FALSE(in_cluster_of(0, 2));
  EXPECT_TRUE(in_cluster_of(2, 2)) << "a replica is always in its own shard";
  EXPECT_EQ(kube_status().reason, "scaling");
  ASSERT_TRUE(rounds_until([&] {
    if (!serving(2)) return false;
    // The moment it may serve, it has what the others have.
    EXPECT_EQ(rows_on("s1r3"), "3");
    return true;
  }));
  EXPECT_EQ(first_line(replica_query("orders", "s1r3", "SELECT n FROM total").body), "3");
  ASSERT_TRUE(rounds_until([&] { return in_cluster_of(0, 2) && kube_status().state == ServiceState::kReady; }));
  EXPECT_EQ(kube_status().reason, "");

  // 1x2: the third stops serving at once but stays while drained.
  kube->apply(kube_spec(2));
  ASSERT_TRUE(rounds_until([&] { return !serving(2); }));
  EXPECT_EQ(stateful_set()["spec"]["replicas"], 3) << "held until drained";
  EXPECT_FALSE(in_cluster_of(0, 2));
  // Written to the leaving replica alone, the others fetching nothing for now.
  for (const char* replica : {"s1r1", "s1r2"})
    ASSERT_EQ(replica_query("orders", replica, "SYSTEM STOP FETCHES").status, 200);
  ASSERT_EQ(replica_query("orders", "s1r3", "INSERT INTO events VALUES (4, 'd')").status, 200);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(rounds_until([] { return true; }));
  EXPECT_EQ(rows_on("s1r3"), "4") << "not dropped before the others' configs can have changed";
  manual.set_unix_seconds(manual.unix_seconds() + kube_runtime::kLeaveLingerSeconds);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(rounds_until([] { return true; }));
  EXPECT_EQ(rows_on("s1r3"), "4") << "not dropped while the others lack what was written to it";
  EXPECT_EQ(stateful_set()["spec"]["replicas"], 3);

  for (const char* replica : {"s1r1", "s1r2"})
    ASSERT_EQ(replica_query("orders", replica, "SYSTEM START FETCHES").status, 200);
  ASSERT_TRUE(rounds_until([&] { return stateful_set()["spec"]["replicas"] == 2; }));
  EXPECT_EQ(rows_on("s1r1"), "4");
  EXPECT_EQ(rows_on("s1r2"), "4");
  EXPECT_EQ(first_line(replica_query("orders", "s1r3", "EXISTS TABLE events").body), "0");
  EXPECT_EQ(first_line(replica_query("orders", "s1r1",
                                     "SELECT count() FROM system.zookeeper "
                                     "WHERE path = '/clickhouse/tables/1/events/replicas' AND name = 's1r3'")
                           .body),
            "0")
      << "its replica node left ZooKeeper";

  // Its pod gone, its volume claim goes and the service is READY at 1x2.
  ASSERT_TRUE(rounds_until([&] {
    for (const auto& d : api.deletions())
      if (d.ref.kind == "PersistentVolumeClaim" && d.ref.name == "data-orders-s1-2") return true;
    return false;
  }));
  ASSERT_TRUE(rounds_until([&] { return kube_status().state == ServiceState::kReady && kube_status().reason.empty(); }));
  EXPECT_TRUE(replica_file(2).empty());
  // Everything applied on the way (held replicas, readiness gates) is valid for Kubernetes 1.33.
  EXPECT_EQ(testing::kubernetes_models_failures(testing::applied_bodies(api.requests())), "");
}

}  // namespace
}  // namespace byoc::agent::test
