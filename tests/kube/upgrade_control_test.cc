// KubeUpgradeControl's contract with the Kubernetes API, through the real
// kube::Client over HTTPS to a stand-in API server on loopback: for each call
// the exact request (method, path and query, content type, body) and the
// reading of answers as the API server writes them — a PodDisruptionBudget's
// 429 told apart from the API server's throttling 429, a pod already gone,
// a taint patch that meets a concurrent write (409). Retries wait on a
// recording sleep, never for real.
#include "kube/upgrade_control.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api_answers.h"
#include "aws/fake_aws.h"

namespace byoc::kube {
namespace {

using namespace byoc::testing;
using nlohmann::json;
using std::chrono::milliseconds;
namespace up = plan::upgrade;

json ready_condition(bool ready) {
  return {{"type", "Ready"}, {"status", ready ? "True" : "False"}, {"lastTransitionTime", "2027-01-15T07:00:00Z"}};
}

// A node of an EKS managed node group, as GET /api/v1/nodes lists it.
json eks_node(const std::string& name, const std::string& group, bool ready, const std::string& resource_version = "100") {
  return {{"metadata",
           {{"name", name},
            {"resourceVersion", resource_version},
            {"labels",
             {{"eks.amazonaws.com/nodegroup", group},
              {"kubernetes.io/hostname", name},
              {"node.kubernetes.io/instance-type", "m7g.2xlarge"}}}}},
          {"spec",
           {{"providerID", "aws:///eu-west-1a/i-0abc"},
            {"taints", {{{"key", "byoc.io/clickhouse"}, {"value", "true"}, {"effect", "NoSchedule"}}}}}},
          {"status",
           {{"conditions",
             {{{"type", "MemoryPressure"}, {"status", "False"}}, ready_condition(ready)}},
            {"nodeInfo", {{"kubeletVersion", "v1.30.4-eks-a737599"}}}}}};
}

json pod(const std::string& ns, const std::string& name, const std::string& node) {
  return {{"metadata",
           {{"name", name},
            {"namespace", ns},
            {"resourceVersion", "7"},
            {"labels", {{"byoc.io/service", "svc-1"}, {"byoc.io/shard", "0"}, {"byoc.io/component", "clickhouse"}}},
            {"annotations", {{"byoc.io/drain-seconds", "120"}}},
            {"ownerReferences",
             {{{"apiVersion", "apps/v1"}, {"kind", "StatefulSet"}, {"name", "ch"}, {"controller", true}}}}}},
          {"spec", {{"nodeName", node}, {"containers", {{{"name", "clickhouse"}}}}}},
          {"status", {{"phase", "Running"}, {"conditions", json::array({ready_condition(true)})}}}};
}

json list_of(const std::string& kind, std::vector<json> items) {
  return {{"kind", kind}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", "500"}}}, {"items", items}};
}

// The Eviction API's refusal for a PodDisruptionBudget (pkg/registry/core/pod/storage/eviction.go).
CannedResponse budget_refusal(int code = 429) {
  return answer(code, {{"kind", "Status"},
                       {"apiVersion", "v1"},
                       {"metadata", json::object()},
                       {"status", "Failure"},
                       {"message", "Cannot evict pod as it would violate the pod's disruption budget."},
                       {"reason", code == 429 ? "TooManyRequests" : "Forbidden"},
                       {"details",
                        {{"causes", json::array({{{"reason", "DisruptionBudget"},
                                                  {"message", "The disruption budget ch-svc-1 needs 2 healthy pods "
                                                              "and has 2 currently"}}})}}},
                       {"code", code}});
}

// The API server's own throttling (API Priority and Fairness).
CannedResponse throttle() {
  return answer(429,
                {{"kind", "Status"},
                 {"apiVersion", "v1"},
                 {"metadata", json::object()},
                 {"status", "Failure"},
                 {"message", "Too many requests, please try again later."},
                 {"reason", "TooManyRequests"},
                 {"details", {{"retryAfterSeconds", 1}}},
                 {"code", 429}},
                {{"Retry-After", "1"}});
}

class KubeUpgradeControlTest : public ::testing::Test {
 protected:
  ClientConfig config(const FakeAws& server) {
    return stand_in_config(server, [] { return "k8s-aws-v1.token"; }, sleeps);
  }

  // The one request sent so far, checked to be a GET of `target`.
  void expect_one_get(const std::string& target) {
    auto requests = api.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, "GET");
    EXPECT_EQ(requests[0].target, target);
  }

  FakeAws api{nullptr};
  std::vector<milliseconds> sleeps;
  Client client{config(api)};
  KubeUpgradeControl control{client};
};

TEST_F(KubeUpgradeControlTest, ListNodesSelectsByLabelAndReadsReadinessCordonAndTaints) {
  json cordoned = eks_node("ip-10-0-1-2.eu-west-1.compute.internal", "system", false);
  cordoned["spec"]["unschedulable"] = true;
  api.set_handler(in_turn({answer(200, list_of("NodeList", {eks_node("ip-10-0-1-1.eu-west-1.compute.internal", "system", true),
                                                            cordoned}))}));
  std::vector<up::Node> nodes = control.list_nodes("eks.amazonaws.com/nodegroup", "system");
  expect_one_get("/api/v1/nodes?limit=500&labelSelector=eks.amazonaws.com%2Fnodegroup%3Dsystem");
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].name, "ip-10-0-1-1.eu-west-1.compute.internal");
  EXPECT_EQ(nodes[0].labels.at("eks.amazonaws.com/nodegroup"), "system");
  EXPECT_TRUE(nodes[0].ready);
  EXPECT_FALSE(nodes[0].unschedulable);
  EXPECT_EQ(nodes[0].taints, (std::vector<up::Taint>{{"byoc.io/clickhouse", "true", "NoSchedule"}}));
  EXPECT_FALSE(nodes[1].ready);
  EXPECT_TRUE(nodes[1].unschedulable);
}

TEST_F(KubeUpgradeControlTest, TheTaintGoesInWithTheWholeListTheLabelAndTheVersionItWasBuiltFrom) {
  const std::string name = "ip-10-0-1-1.eu-west-1.compute.internal";
  json patched = eks_node(name, "system", true, "101");
  api.set_handler(in_turn({answer(200, eks_node(name, "system", true, "100")), answer(200, patched)}));
  control.taint_and_label_node(name, {"byoc.io/upgrading", "1.31", "NoSchedule"},
                               "node.kubernetes.io/exclude-from-external-load-balancers", "true");
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/api/v1/nodes/" + name);
  EXPECT_EQ(requests[1].method, "PATCH");
  EXPECT_EQ(requests[1].target, "/api/v1/nodes/" + name + "?fieldManager=byoc");
  EXPECT_EQ(requests[1].header("content-type"), "application/strategic-merge-patch+json");
  EXPECT_EQ(json::parse(requests[1].body),
            json({{"metadata",
                   {{"resourceVersion", "100"}, {"labels", {{"node.kubernetes.io/exclude-from-external-load-balancers", "true"}}}}},
                  {"spec",
                   {{"taints",
                     {{{"key", "byoc.io/clickhouse"}, {"value", "true"}, {"effect", "NoSchedule"}},
                      {{"key", "byoc.io/upgrading"}, {"value", "1.31"}, {"effect", "NoSchedule"}}}}}}}));
}

TEST_F(KubeUpgradeControlTest, ATaintPatchThatMeetsAConcurrentWriteReadsAgainAndPatchesAgain) {
  const std::string name = "n1";
  json changed = eks_node(name, "system", true, "105");
  changed["spec"]["taints"].push_back({{"key", "node.kubernetes.io/unreachable"}, {"effect", "NoExecute"}});
  api.set_handler(in_turn({answer(200, eks_node(name, "system", true, "100")),
                           status_answer(409, "Conflict",
                                         "Operation cannot be fulfilled on nodes \"n1\": the object has been modified; "
                                         "please apply your changes to the latest version and try again"),
                           answer(200, changed), answer(200, changed)}));
  control.taint_and_label_node(name, {"byoc.io/upgrading", "1.31", "NoSchedule"}, "l", "true");
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[2].method, "GET");
  EXPECT_EQ(requests[3].method, "PATCH");
  json second = json::parse(requests[3].body);
  EXPECT_EQ(second["metadata"]["resourceVersion"], "105");
  EXPECT_EQ(second["spec"]["taints"].size(), 3u);  // the concurrent writer's taint kept
  EXPECT_EQ(second["spec"]["taints"][1], json({{"key", "node.kubernetes.io/unreachable"}, {"effect", "NoExecute"}}));
  EXPECT_TRUE(sleeps.empty());  // the client did not retry the 409 itself
}

TEST_F(KubeUpgradeControlTest, ANodeAlreadyTaintedAndLabelledIsNotPatchedAndConflictsAreBounded) {
  json done = eks_node("n1", "system", true);
  done["spec"]["taints"].push_back({{"key", "byoc.io/upgrading"}, {"value", "1.31"}, {"effect", "NoSchedule"}});
  done["metadata"]["labels"]["l"] = "true";
  api.set_handler(in_turn({answer(200, done)}));
  control.taint_and_label_node("n1", {"byoc.io/upgrading", "1.31", "NoSchedule"}, "l", "true");
  EXPECT_EQ(api.requests().size(), 1u);

  FakeAws busy([](const RecordedRequest& r) {
    return r.method == "GET" ? answer(200, eks_node("n1", "system", true)) : status_answer(409, "Conflict", "modified");
  });
  Client busy_client(config(busy));
  KubeUpgradeControl bounded(busy_client, 3);
  try {
    bounded.taint_and_label_node("n1", {"byoc.io/upgrading", "1.31", "NoSchedule"}, "l", "true");
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 409);
  }
  EXPECT_EQ(busy.requests().size(), 6u);  // three reads, three patches
}

TEST_F(KubeUpgradeControlTest, CordonPatchesUnschedulableAndANodeGoneIsDone) {
  api.set_handler(in_turn({answer(200, eks_node("n1", "system", true)), status_answer(404, "NotFound", "nodes \"n2\" not found")}));
  control.cordon_node("n1");
  control.cordon_node("n2");
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "PATCH");
  EXPECT_EQ(requests[0].target, "/api/v1/nodes/n1?fieldManager=byoc");
  EXPECT_EQ(requests[0].header("content-type"), "application/strategic-merge-patch+json");
  EXPECT_EQ(json::parse(requests[0].body), json({{"spec", {{"unschedulable", true}}}}));
}

TEST_F(KubeUpgradeControlTest, PodsOnANodeAreListedByFieldSelectorAcrossNamespacesAsANamespacedName) {
  json terminating = pod("svc-2", "ch-1", "n1");
  terminating["metadata"]["deletionTimestamp"] = "2027-01-15T08:00:00Z";
  terminating["status"]["conditions"] = json::array({ready_condition(false)});
  json daemon = pod("kube-system", "aws-node-x7k2p", "n1");
  daemon["metadata"]["ownerReferences"] = {{{"apiVersion", "apps/v1"}, {"kind", "DaemonSet"}, {"name", "aws-node"}, {"controller", true}}};
  json mirror = pod("kube-system", "static-n1", "n1");
  mirror["metadata"]["annotations"]["kubernetes.io/config.mirror"] = "abc";
  json finished = pod("jobs", "backup-29", "n1");
  finished["status"]["phase"] = "Succeeded";
  api.set_handler(in_turn({answer(200, list_of("PodList", {pod("svc-1", "ch-0", "n1"), terminating, daemon, mirror, finished}))}));
  std::vector<up::Pod> pods = control.list_pods_on_node("n1");
  expect_one_get("/api/v1/pods?limit=500&fieldSelector=spec.nodeName%3Dn1");
  ASSERT_EQ(pods.size(), 2u);  // not the DaemonSet's, the mirror or the finished one
  EXPECT_EQ(pods[0].name, "svc-1/ch-0");
  EXPECT_EQ(pods[0].nodeName, "n1");
  EXPECT_EQ(pods[0].labels.at("byoc.io/component"), "clickhouse");
  EXPECT_EQ(pods[0].annotations.at("byoc.io/drain-seconds"), "120");
  EXPECT_TRUE(pods[0].ready);
  EXPECT_FALSE(pods[0].terminating);
  EXPECT_EQ(pods[1].name, "svc-2/ch-1");
  EXPECT_FALSE(pods[1].ready);
  EXPECT_TRUE(pods[1].terminating);
}

TEST_F(KubeUpgradeControlTest, AnEvictionIsAPostOfAnEvictionToThePodsSubresource) {
  api.set_handler(in_turn({answer(201, {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Success"}, {"code", 201}})}));
  EXPECT_EQ(control.evict_pod("svc-1/ch-0"), up::EvictionResult::kEvicted);
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/api/v1/namespaces/svc-1/pods/ch-0/eviction");
  EXPECT_EQ(requests[0].header("content-type"), "application/json");
  EXPECT_EQ(json::parse(requests[0].body),
            json({{"apiVersion", "policy/v1"}, {"kind", "Eviction"}, {"metadata", {{"name", "ch-0"}, {"namespace", "svc-1"}}}}));
}

TEST_F(KubeUpgradeControlTest, ABudgetsRefusalIsAnAnswerNotRetriedAndAPodGoneIsNotFound) {
  api.set_handler(in_turn({budget_refusal(), budget_refusal(403), status_answer(404, "NotFound", "pods \"ch-0\" not found")}));
  EXPECT_EQ(control.evict_pod("svc-1/ch-0"), up::EvictionResult::kBudgetRefused);
  EXPECT_EQ(control.evict_pod("svc-1/ch-0"), up::EvictionResult::kBudgetRefused);
  EXPECT_EQ(control.evict_pod("svc-1/ch-0"), up::EvictionResult::kNotFound);
  EXPECT_EQ(api.requests().size(), 3u);
  EXPECT_TRUE(sleeps.empty());
}

TEST_F(KubeUpgradeControlTest, TheApiServersThrottlingIsRetriedThenThrottled) {
  api.set_handler(in_turn({throttle(), budget_refusal()}));
  EXPECT_EQ(control.evict_pod("svc-1/ch-0"), up::EvictionResult::kBudgetRefused);  // waited out, then the budget spoke
  EXPECT_EQ(sleeps, std::vector<milliseconds>{milliseconds(1000)});

  api.set_handler(in_turn({throttle()}));
  EXPECT_THROW(control.evict_pod("svc-1/ch-0"), up::Throttled);
  EXPECT_THROW(control.list_pdbs(), up::Throttled);
  EXPECT_THROW(control.list_nodes("k", "v"), up::Throttled);
}

TEST_F(KubeUpgradeControlTest, APodNameWithoutItsNamespaceSendsNothing) {
  EXPECT_THROW(control.evict_pod("ch-0"), Error);
  EXPECT_THROW(control.evict_pod("/ch-0"), Error);
  EXPECT_THROW(control.evict_pod("svc-1/"), Error);
  EXPECT_TRUE(api.requests().empty());
}

TEST_F(KubeUpgradeControlTest, PdbsAreListedInEveryNamespaceWithTheirSelectorAndStatus) {
  json selector = {{"matchLabels", {{"byoc.io/service", "svc-1"}, {"byoc.io/shard", "0"}}}};
  json pdb = {{"metadata", {{"name", "ch-svc-1"}, {"namespace", "svc-1"}}},
              {"spec", {{"maxUnavailable", 1}, {"selector", selector}}},
              {"status",
               {{"observedGeneration", 1},
                {"disruptionsAllowed", 1},
                {"currentHealthy", 2},
                {"desiredHealthy", 1},
                {"expectedPods", 2},
                {"conditions", json::array()}}}};
  api.set_handler(in_turn({answer(200, list_of("PodDisruptionBudgetList", {pdb}))}));
  std::vector<up::Pdb> pdbs = control.list_pdbs();
  expect_one_get("/apis/policy/v1/poddisruptionbudgets?limit=500");
  ASSERT_EQ(pdbs.size(), 1u);
  EXPECT_EQ(pdbs[0].name, "svc-1/ch-svc-1");
  EXPECT_EQ(pdbs[0].matchLabels, (std::map<std::string, std::string>{{"byoc.io/service", "svc-1"}, {"byoc.io/shard", "0"}}));
  EXPECT_EQ(pdbs[0].disruptionsAllowed, 1);
  EXPECT_EQ(pdbs[0].currentHealthy, 2);
  EXPECT_EQ(pdbs[0].expectedPods, 2);
}

}  // namespace
}  // namespace byoc::kube
