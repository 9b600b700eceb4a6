// The Kubernetes renderer as data: the objects of 1 × 1, 2 × 2 and 3 × 3
// services on two profiles, their placement, sizes, security and network
// rules, that no password is in them, their order, the refusals of bad
// input, and one service's objects against a golden file.
//
// The golden file (golden/orders-2x2.json) is rewritten, rather than
// compared, when BYOC_UPDATE_GOLDEN=1:
//   BYOC_UPDATE_GOLDEN=1 BYOC_SOURCE_DIR=$PWD BUILD/tests/render/kubernetes/render_kubernetes_test --gtest_filter='*Golden*'
// (from the source tree's root, BUILD the build directory), then review the diff.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "base/crypto.h"
#include "base/error.h"
#include "base/files.h"
#include "cases.h"
#include "plan/upgrade/kube_control.h"
#include "render/kubernetes/kubernetes.h"
#include "testing/testing.h"

namespace byoc::render::kubernetes {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
namespace t = testing;

std::vector<json> render(int n) { return render_kubernetes(t::two_services(n), t::two_profiles(n)); }

std::vector<json> of_kind(const std::vector<json>& items, const std::string& kind) {
  std::vector<json> out;
  std::copy_if(items.begin(), items.end(), std::back_inserter(out), [&](const json& o) { return o["kind"] == kind; });
  return out;
}

const json& find(const std::vector<json>& items, const std::string& kind, const std::string& name) {
  for (const auto& o : items)
    if (o["kind"] == kind && o["metadata"]["name"] == name) return o;
  throw std::runtime_error("no " + kind + " " + name);
}

std::vector<std::string> names(const std::vector<json>& items) {
  std::vector<std::string> out;
  for (const auto& o : items) out.push_back(o["kind"].get<std::string>() + "/" + o["metadata"]["name"].get<std::string>());
  return out;
}

// Every container of every pod template.
void each_pod(const std::vector<json>& items, const std::function<void(const json& owner, const json& pod)>& f) {
  for (const auto& o : items)
    if (o["kind"] == "StatefulSet" || o["kind"] == "Deployment") f(o, o["spec"]["template"]["spec"]);
}

// The whole output as text, with every Secret's data decoded as well.
std::string all_text(const std::vector<json>& items) {
  std::string text = json(items).dump();
  for (const auto& s : of_kind(items, "Secret"))
    for (const auto& [key, value] : s["data"].items()) text += *crypto::base64_decode(value.get<std::string>());
  return text;
}

std::string users_xml(const std::vector<json>& items, const std::string& service) {
  return *crypto::base64_decode(find(items, "Secret", service + "-users")["data"]["users.xml"].get<std::string>());
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(RenderKubernetes, ShapesOfOneTwoAndThreeShardsAndReplicas) {
  for (int n = 1; n <= 3; ++n) {
    SCOPED_TRACE("n = " + std::to_string(n));
    auto items = render(n);
    for (const std::string service : {"events", "orders"}) {
      for (int shard = 1; shard <= n; ++shard) {
        const std::string shard_name = service + "-s" + std::to_string(shard);
        const json& sts = find(items, "StatefulSet", shard_name);
        EXPECT_EQ(sts["spec"]["replicas"], n);
        EXPECT_EQ(sts["spec"]["serviceName"], service + "-replicas");
        EXPECT_EQ(sts["spec"]["podManagementPolicy"], "Parallel");
        EXPECT_EQ(sts["spec"]["template"]["metadata"]["labels"]["byoc.io/shard"], std::to_string(shard));
        EXPECT_EQ(find(items, "ConfigMap", shard_name + "-config")["data"].size(), static_cast<size_t>(n));
        EXPECT_EQ(find(items, "PodDisruptionBudget", shard_name)["spec"]["maxUnavailable"], 1);
      }
      EXPECT_EQ(find(items, "Service", service + "-replicas")["spec"]["clusterIP"], "None");
      find(items, "Service", service + "-clickhouse");
      find(items, "Service", service + "-endpoint");
      find(items, "Secret", service + "-users");
      find(items, "Deployment", service + "-endpoint");
    }
    EXPECT_EQ(of_kind(items, "StatefulSet").size(), static_cast<size_t>(2 * n + (n > 1 ? 1 : 0)));
    EXPECT_EQ(of_kind(items, "Deployment").size(), 2u);
    EXPECT_EQ(of_kind(items, "Secret").size(), 2u);
    EXPECT_EQ(of_kind(items, "NetworkPolicy").size(), static_cast<size_t>(5 + (n > 1 ? 1 : 0)));
  }
}

TEST(RenderKubernetes, EveryObjectIsLabelledInTheNamespace) {
  auto items = render(2);
  for (const auto& o : items) {
    SCOPED_TRACE(o["kind"].get<std::string>() + " " + o["metadata"]["name"].get<std::string>());
    EXPECT_EQ(o["metadata"]["namespace"], "byoc-services");
    const json& l = o["metadata"]["labels"];
    EXPECT_EQ(l["app.kubernetes.io/managed-by"], "byoc");
    EXPECT_EQ(l["app.kubernetes.io/part-of"], "byoc");
    EXPECT_EQ(l["byoc.io/environment"], "env-0123456789abcdef");
    const std::string name = o["metadata"]["name"];
    bool per_service = name.rfind("orders-", 0) == 0 || name.rfind("events-", 0) == 0;
    EXPECT_EQ(l.contains("byoc.io/service"), per_service);
    if (per_service) {
      EXPECT_EQ(name.rfind(l["byoc.io/service"].get<std::string>() + "-", 0), 0u);
    }
  }
  KubernetesOptions options = t::two_profiles(2);
  options.namespace_name = "customer-data";
  for (const auto& o : render_kubernetes(t::two_services(2), options))
    EXPECT_EQ(o["metadata"]["namespace"], "customer-data");
}

TEST(RenderKubernetes, ReplicasOfAShardSpreadAcrossNodesAndZonesOnTheirProfile) {
  auto items = render(3);
  for (const auto& [service, type] : std::map<std::string, std::string>{{"orders", "m7gd.large"}, {"events", "r7gd.xlarge"}}) {
    for (int shard = 1; shard <= 3; ++shard) {
      const json& sts = find(items, "StatefulSet", service + "-s" + std::to_string(shard));
      const json& pod = sts["spec"]["template"]["spec"];
      const json selector = sts["spec"]["selector"]["matchLabels"];
      EXPECT_EQ(selector, json({{"app.kubernetes.io/name", "clickhouse"}, {"byoc.io/service", service},
                                {"byoc.io/shard", std::to_string(shard)}}));
      const json& anti = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"];
      ASSERT_EQ(anti.size(), 1u);
      EXPECT_EQ(anti[0]["topologyKey"], "kubernetes.io/hostname");
      EXPECT_EQ(anti[0]["labelSelector"]["matchLabels"], selector);
      const json& spread = pod["topologySpreadConstraints"];
      ASSERT_EQ(spread.size(), 1u);
      EXPECT_EQ(spread[0]["topologyKey"], "topology.kubernetes.io/zone");
      EXPECT_EQ(spread[0]["maxSkew"], 1);
      EXPECT_EQ(spread[0]["labelSelector"]["matchLabels"], selector);
      // infra_eks.cc's node groups: labels and taint.
      EXPECT_EQ(pod["nodeSelector"], json({{"byoc.io/role", "clickhouse"}, {"byoc.io/instance-type", type}}));
      EXPECT_EQ(pod["tolerations"], json::parse(R"([{"key":"byoc.io/clickhouse","operator":"Equal","value":"true",
                                                    "effect":"NoSchedule"}])"));
    }
  }
  // ZooKeeper: one member per node, on the system group.
  const json& zk = find(items, "StatefulSet", "byoc-zookeeper")["spec"]["template"]["spec"];
  EXPECT_EQ(zk["nodeSelector"], json({{"byoc.io/role", "system"}}));
  EXPECT_EQ(zk["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]["topologyKey"],
            "kubernetes.io/hostname");
}

TEST(RenderKubernetes, WithoutAProfileAnyClickHouseNodeGroup) {
  KubernetesOptions options = t::two_profiles(1);
  options.profiles.erase("events");
  auto items = render_kubernetes(t::two_services(1), options);
  EXPECT_EQ(find(items, "StatefulSet", "events-s1")["spec"]["template"]["spec"]["nodeSelector"],
            json({{"byoc.io/role", "clickhouse"}}));
}

TEST(RenderKubernetes, RequestsEqualLimitsFromTheServiceSize) {
  auto items = render(2);
  const json& orders = find(items, "StatefulSet", "orders-s2")["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(orders["resources"]["requests"], json({{"cpu", "1500m"}, {"memory", "6144Mi"}}));
  const json& events = find(items, "StatefulSet", "events-s1")["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(events["resources"]["limits"], json({{"cpu", "3500m"}, {"memory", "28672Mi"}}));
  each_pod(items, [](const json& owner, const json& pod) {
    for (const auto& c : pod["containers"]) {
      SCOPED_TRACE(owner["metadata"]["name"].get<std::string>());
      EXPECT_EQ(c["resources"]["requests"], c["resources"]["limits"]);
    }
  });
  // config.xml's limits follow the same size (render/clickhouse_config.h).
  const std::string config = find(items, "ConfigMap", "orders-s1-config")["data"]["orders-s1-0.xml"];
  EXPECT_THAT(config, HasSubstr("<mark_cache_size>805306368</mark_cache_size>"));
}

TEST(RenderKubernetes, PodsRunNonRootReadOnlyWithoutServiceAccountToken) {
  auto items = render(2);
  int pods = 0;
  each_pod(items, [&](const json& owner, const json& pod) {
    SCOPED_TRACE(owner["metadata"]["name"].get<std::string>());
    ++pods;
    EXPECT_EQ(pod["automountServiceAccountToken"], false);
    EXPECT_EQ(pod["securityContext"]["runAsNonRoot"], true);
    EXPECT_GT(pod["securityContext"]["runAsUser"].get<int>(), 0);
    EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    std::set<std::string> volumes;
    for (const auto& v : pod["volumes"]) volumes.insert(v["name"]);
    if (owner["kind"] == "StatefulSet")
      for (const auto& claim : owner["spec"]["volumeClaimTemplates"]) volumes.insert(claim["metadata"]["name"]);
    for (const auto& c : pod["containers"]) {
      EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
      EXPECT_EQ(c["securityContext"]["allowPrivilegeEscalation"], false);
      EXPECT_EQ(c["securityContext"]["capabilities"]["drop"], json::array({"ALL"}));
      for (const auto& m : c["volumeMounts"]) EXPECT_TRUE(volumes.count(m["name"])) << m.dump();
      EXPECT_FALSE(c.contains("privileged"));
    }
  });
  EXPECT_EQ(pods, 2 * 2 + 2 + 1);
  // ClickHouse writes only to its volume, its logs and /tmp.
  const json& ch = find(items, "StatefulSet", "orders-s1");
  std::map<std::string, bool> writable;
  for (const auto& m : ch["spec"]["template"]["spec"]["containers"][0]["volumeMounts"])
    writable[m["mountPath"]] = !m.value("readOnly", false);
  EXPECT_EQ(writable, (std::map<std::string, bool>{{"/var/lib/clickhouse/", true},
                                                   {"/etc/clickhouse-server/config/", false},
                                                   {"/etc/clickhouse-server/users/", false},
                                                   {"/var/log/clickhouse-server/", true},
                                                   {"/tmp", true}}));
  const json& claim = ch["spec"]["volumeClaimTemplates"][0]["spec"];
  EXPECT_EQ(claim["storageClassName"], "gp3");
  EXPECT_EQ(claim["resources"]["requests"]["storage"], "100Gi");
}

TEST(RenderKubernetes, NoPasswordInTheOutputOnlyTheDefaultUsersHash) {
  for (int n = 1; n <= 3; ++n) {
    auto items = render(n);
    const std::string text = all_text(items);
    EXPECT_THAT(text, Not(HasSubstr(t::kPassword)));
    // No placeholder of the adapted renderers is left either.
    for (const std::string& mark : {std::string(64, 'a'), std::string(64, 'b'), std::string(64, 'c'), std::string(64, 'd'),
                                   std::string("FROM_ENV"), std::string("192.0.2."), std::string("127.0.0.3")})
      EXPECT_THAT(text, Not(HasSubstr(mark))) << mark;
    // The hash is in the users Secrets (one per service), nowhere else.
    std::vector<json> others;
    std::copy_if(items.begin(), items.end(), std::back_inserter(others), [](const json& o) { return o["kind"] != "Secret"; });
    EXPECT_THAT(json(others).dump(), Not(HasSubstr(t::password_hash())));
    EXPECT_EQ(count(text, t::password_hash()), 2);
    EXPECT_EQ(names(of_kind(items, "Secret")), (std::vector<std::string>{"Secret/events-users", "Secret/orders-users"}));
  }
}

TEST(RenderKubernetes, InternalPasswordsComeFromTheEnvironment) {
  auto items = render(2);
  const std::string config = find(items, "ConfigMap", "orders-s2-config")["data"]["orders-s2-1.xml"];
  EXPECT_EQ(count(config, "<password from_env=\"BYOC_CLUSTER_PASSWORD\"/>"), 4);
  EXPECT_THAT(config, HasSubstr("<replica>orders-s2-1</replica>"));
  EXPECT_THAT(config, HasSubstr("<shard>2</shard>"));
  EXPECT_THAT(config, HasSubstr(
                          "<interserver_http_host>orders-s2-1.orders-replicas.byoc-services.svc.cluster.local"
                          "</interserver_http_host>"));
  EXPECT_THAT(config, HasSubstr("<host>orders-s1-0.orders-replicas.byoc-services.svc.cluster.local</host>"));
  const std::string users = users_xml(items, "orders");
  EXPECT_THAT(users, HasSubstr("<password_sha256_hex>" + t::password_hash() + "</password_sha256_hex>"));
  EXPECT_THAT(users, HasSubstr("<password from_env=\"BYOC_CLUSTER_PASSWORD\"/>"));
  EXPECT_THAT(users, HasSubstr("<password from_env=\"BYOC_SUPPORT_PASSWORD\"/>"));
  EXPECT_THAT(users, HasSubstr("<ip>10.20.0.0/16</ip>"));
  // Both read from the runtime's Secret, never written here.
  const json& env = find(items, "StatefulSet", "orders-s1")["spec"]["template"]["spec"]["containers"][0]["env"];
  EXPECT_EQ(env[1]["valueFrom"]["secretKeyRef"], json({{"name", "orders-credentials"}, {"key", "cluster-password"}}));
  EXPECT_EQ(env[2]["valueFrom"]["secretKeyRef"], json({{"name", "orders-credentials"}, {"key", "support-password"}}));
  const std::string nginx = find(items, "ConfigMap", "orders-endpoint")["data"]["nginx.conf.template"];
  EXPECT_EQ(count(nginx, "X-Byoc-Check-Key ${BYOC_CHECK_KEY};"), 3);  // the check twice, the Kubernetes proxy
  // kubernetes-readonly: /k8s/ goes to the agent's proxy, which decides.
  EXPECT_THAT(nginx, HasSubstr("location /k8s/ {\n      proxy_pass http://byoc-agent.byoc-system.svc.cluster.local:8082/;"));
  EXPECT_EQ(count(nginx, "X-ClickHouse-Key ${BYOC_SUPPORT_PASSWORD};"), 1);
  EXPECT_EQ(count(nginx, "orders-clickhouse.byoc-services.svc.cluster.local:"), 3);
  EXPECT_THAT(nginx, HasSubstr("proxy_pass http://byoc-agent.byoc-system.svc.cluster.local:8081/check;"));
  EXPECT_THAT(nginx, Not(HasSubstr("proxy_bind")));
  EXPECT_THAT(nginx, Not(HasSubstr("load_module")));
  // Without the gateway, no support user and nothing of it in nginx.
  auto plain = render(1);
  EXPECT_THAT(users_xml(plain, "orders"), Not(HasSubstr("support")));
  EXPECT_THAT(find(plain, "ConfigMap", "orders-endpoint")["data"]["nginx.conf.template"].get<std::string>(),
              Not(HasSubstr("BYOC_")));
}

// The Kubernetes upgrader waits for a ClickHouse pod's window by these
// marks, and for a window that fits its drain (plan/upgrade/kube_control.h).
TEST(RenderKubernetes, ClickHousePodsAreMarkedForTheUpgrader) {
  for (const auto& set : of_kind(render(2), "StatefulSet")) {
    const json& meta = set["spec"]["template"]["metadata"];
    const bool clickhouse = meta["labels"]["app.kubernetes.io/name"] == "clickhouse";
    EXPECT_EQ(meta["labels"].value(plan::upgrade::kComponentLabel, ""), clickhouse ? "clickhouse" : "")
        << set["metadata"]["name"];
    if (clickhouse) {
      EXPECT_EQ(meta["annotations"][plan::upgrade::kDrainSecondsAnnotation], "360");
      // The selector can't change: no mark is in it.
      EXPECT_FALSE(set["spec"]["selector"]["matchLabels"].contains(plan::upgrade::kComponentLabel));
    }
  }
}

// Who is in the cluster (remote_servers) is the runtime's to say, and no
// part of the pods' config revision: a replica joining or leaving restarts
// no other. A leaving replica's StatefulSet keeps it, and its config file.
TEST(RenderKubernetes, ClusterMembersAndHeldReplicasRollNoPod) {
  auto config = [](const std::vector<json>& items, int ordinal) {
    return find(items, "ConfigMap", "orders-s1-config")["data"].value("orders-s1-" + std::to_string(ordinal) + ".xml", "");
  };
  auto member = [](const std::string& file, int ordinal) {
    return file.find("<host>orders-s1-" + std::to_string(ordinal) + ".") != std::string::npos;
  };
  auto revision = [](const std::vector<json>& items) {
    return find(items, "StatefulSet", "orders-s1")["spec"]["template"]["metadata"]["annotations"]["byoc.io/config-revision"];
  };
  model::DesiredState two = t::two_services(2);
  KubernetesOptions options = t::two_profiles(2);
  const auto before = render_kubernetes(two, options);
  EXPECT_TRUE(member(config(before, 0), 1));
  EXPECT_EQ(find(before, "StatefulSet", "orders-s1")["spec"]["template"]["spec"]["readinessGates"],
            json::parse(R"([{"conditionType":"byoc.io/serving"}])"));

  // 2 → 3 replicas, the third joining: out of the others' cluster, in its own.
  model::DesiredState three = two;
  for (auto& s : three.services) s.replicas = 3;
  options.outside_cluster["orders"] = {"orders-s1-2"};
  const auto joining = render_kubernetes(three, options);
  EXPECT_EQ(revision(joining), revision(before));
  EXPECT_FALSE(member(config(joining, 0), 2));
  EXPECT_TRUE(member(config(joining, 2), 2));
  EXPECT_TRUE(member(config(joining, 2), 0));
  EXPECT_EQ(find(joining, "StatefulSet", "orders-s1")["spec"]["replicas"], 3);
  options.outside_cluster.clear();
  const auto joined = render_kubernetes(three, options);
  EXPECT_EQ(revision(joined), revision(before));
  EXPECT_TRUE(member(config(joined, 0), 2));

  // 3 → 2, the third leaving: held with its file, out of every cluster but its own.
  options.outside_cluster["orders"] = {"orders-s1-2"};
  options.held_replicas["orders"] = {3, 2};
  const auto leaving = render_kubernetes(two, options);
  EXPECT_EQ(find(leaving, "StatefulSet", "orders-s1")["spec"]["replicas"], 3);
  EXPECT_EQ(find(leaving, "StatefulSet", "orders-s2")["spec"]["replicas"], 2);
  EXPECT_FALSE(member(config(leaving, 0), 2));
  EXPECT_TRUE(member(config(leaving, 2), 2));
  EXPECT_EQ(revision(leaving), revision(before));
  // A shard whose every member is out keeps them all in the other shards'
  // clusters (ClickHouse refuses an empty shard).
  options.outside_cluster["orders"] = {"orders-s1-0", "orders-s1-1"};
  const std::string other_shard =
      find(render_kubernetes(two, options), "ConfigMap", "orders-s2-config")["data"]["orders-s2-0.xml"];
  EXPECT_NE(other_shard.find("<host>orders-s1-0."), std::string::npos);
  EXPECT_NE(other_shard.find("<host>orders-s1-1."), std::string::npos);
}

TEST(RenderKubernetes, NetworkPoliciesDenyAllButReplicasEndpointAndAllowlist) {
  auto items = render(2);
  const json& deny = find(items, "NetworkPolicy", "byoc-default-deny")["spec"];
  EXPECT_EQ(deny, json::parse(R"({"podSelector":{},"policyTypes":["Ingress"]})"));

  const json& ch = find(items, "NetworkPolicy", "orders-clickhouse")["spec"];
  EXPECT_EQ(ch["podSelector"]["matchLabels"], json({{"app.kubernetes.io/name", "clickhouse"}, {"byoc.io/service", "orders"}}));
  ASSERT_EQ(ch["ingress"].size(), 3u);
  EXPECT_EQ(ch["ingress"][0]["from"][0]["podSelector"]["matchLabels"],
            json({{"app.kubernetes.io/name", "clickhouse"}, {"byoc.io/service", "orders"}}));
  EXPECT_EQ(ch["ingress"][0]["ports"].size(), 3u);
  EXPECT_EQ(ch["ingress"][1]["from"][0]["podSelector"]["matchLabels"],
            json({{"app.kubernetes.io/name", "endpoint"}, {"byoc.io/service", "orders"}}));
  EXPECT_EQ(ch["ingress"][1]["ports"], json::parse(R"([{"port":8123,"protocol":"TCP"},{"port":9000,"protocol":"TCP"}])"));
  // The agent (its namespace and pods), over HTTP only: it copies a joining
  // replica's tables and drains a leaving one.
  EXPECT_EQ(ch["ingress"][2]["from"], json::parse(R"([{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"byoc-system"}},
      "podSelector":{"matchLabels":{"app.kubernetes.io/name":"byoc-agent","byoc.io/environment":"env-0123456789abcdef"}}}])"));
  EXPECT_EQ(ch["ingress"][2]["ports"], json::parse(R"([{"port":8123,"protocol":"TCP"}])"));

  const json& ep = find(items, "NetworkPolicy", "orders-endpoint")["spec"];
  ASSERT_EQ(ep["ingress"].size(), 1u);
  EXPECT_EQ(ep["ingress"][0]["from"], json::parse(R"([{"ipBlock":{"cidr":"10.20.0.0/16"}},
      {"ipBlock":{"cidr":"203.0.113.7/32"}},{"ipBlock":{"cidr":"10.20.0.0/16"}}])"));
  EXPECT_EQ(ep["ingress"][0]["ports"].size(), 3u);  // https, native, support

  const json& zk = find(items, "NetworkPolicy", "byoc-zookeeper")["spec"];
  EXPECT_EQ(zk["ingress"][0]["from"][0]["podSelector"]["matchLabels"], json({{"app.kubernetes.io/name", "clickhouse"}}));
  // The Jobs that delete a removed service's chroot; nothing else (the agent never talks to ZooKeeper).
  EXPECT_EQ(zk["ingress"][0]["from"][1], json::parse(R"({"podSelector":{"matchLabels":{"app.kubernetes.io/name":"zookeeper-cleanup"}}})"));
  EXPECT_EQ(zk["ingress"][0]["from"].size(), 2u);
  EXPECT_EQ(zk["ingress"][1]["ports"].size(), 3u);

  // Nobody from outside: no allowlist, no environment network.
  model::DesiredState closed = t::two_services(1);
  closed.environment_cidr = "";
  closed.services[0].allowed_ips.clear();
  auto closed_items = render_kubernetes(closed, t::two_profiles(1));
  EXPECT_EQ(find(closed_items, "NetworkPolicy", "orders-endpoint")["spec"]["ingress"], json::array());
  EXPECT_THAT(users_xml(closed_items, "orders"), HasSubstr("<ip>0.0.0.0/0</ip>"));
}

TEST(RenderKubernetes, EndpointIsAnInternalNlbLimitedToTheAllowlist) {
  auto items = render(2);
  const json& svc = find(items, "Service", "orders-endpoint");
  EXPECT_EQ(svc["spec"]["type"], "LoadBalancer");
  EXPECT_EQ(svc["spec"]["loadBalancerSourceRanges"], json::array({"10.20.0.0/16", "203.0.113.7/32"}));
  EXPECT_EQ(find(items, "Service", "events-endpoint")["spec"]["loadBalancerSourceRanges"], json::array({"192.168.4.0/24"}));
  const json& a = svc["metadata"]["annotations"];
  EXPECT_EQ(a["service.beta.kubernetes.io/aws-load-balancer-type"], "external");
  EXPECT_EQ(a["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"], "ip");
  EXPECT_EQ(a["service.beta.kubernetes.io/aws-load-balancer-scheme"], "internal");
  EXPECT_EQ(svc["spec"]["selector"], json({{"app.kubernetes.io/name", "endpoint"}, {"byoc.io/service", "orders"}}));
  EXPECT_EQ(svc["spec"]["ports"].size(), 3u);
  // nginx enforces the same allowlist.
  const std::string nginx = find(items, "ConfigMap", "orders-endpoint")["data"]["nginx.conf.template"];
  EXPECT_THAT(nginx, HasSubstr("allow 203.0.113.7/32;"));

  model::DesiredState closed = t::two_services(1);
  closed.services[0].allowed_ips.clear();
  const auto closed_items = render_kubernetes(closed, t::two_profiles(1));
  const json& in_cluster = find(closed_items, "Service", "orders-endpoint");
  EXPECT_EQ(in_cluster["spec"]["type"], "ClusterIP");
  EXPECT_FALSE(in_cluster["spec"].contains("loadBalancerSourceRanges"));
  EXPECT_FALSE(in_cluster["metadata"].contains("annotations"));
}

TEST(RenderKubernetes, ACleanupJobDeletesARemovedServicesChrootAndNothingElse) {
  const auto state = t::two_services(2);
  const auto options = t::two_profiles(2);
  json job = zookeeper_cleanup_job(state, "gone", options);
  EXPECT_EQ(job["kind"], "Job");
  EXPECT_EQ(job["metadata"]["name"], "gone-zk-cleanup");
  EXPECT_EQ(job["metadata"]["name"], zookeeper_cleanup_job_name("gone", ""));
  EXPECT_EQ(job["metadata"]["labels"]["byoc.io/service"], "gone");
  EXPECT_EQ(job["metadata"]["labels"]["app.kubernetes.io/managed-by"], "byoc");
  const json& pod = job["spec"]["template"]["spec"];
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"], "zookeeper-cleanup");
  EXPECT_EQ(pod["restartPolicy"], "OnFailure");
  EXPECT_EQ(pod["automountServiceAccountToken"], false);
  const json& command = pod["containers"][0]["command"];
  EXPECT_EQ(command.back(), "/byoc/gone");
  EXPECT_THAT(command[2].get<std::string>(), HasSubstr("deleteall \"$1\""));
  // Done only once ZooKeeper says the node is not there: a repeated removal succeeds, an unreachable ensemble not.
  EXPECT_THAT(command[2].get<std::string>(), HasSubstr("grep -q 'Node does not exist'"));
  // Another incarnation of the name: its own chroot and Job.
  auto with_incarnation = options;
  with_incarnation.incarnations["gone"] = "0a1b2c3d";
  json other = zookeeper_cleanup_job(state, "gone", with_incarnation);
  EXPECT_EQ(other["metadata"]["name"], "gone-0a1b2c3d-zk-cleanup");
  EXPECT_EQ(other["spec"]["template"]["spec"]["containers"][0]["command"].back(), "/byoc/gone-0a1b2c3d");
  with_incarnation.incarnations["gone"] = "BAD!";
  EXPECT_EQ(byoc::testing::error_code([&] { zookeeper_cleanup_job(state, "gone", with_incarnation); }), "invalid_value");
  EXPECT_GT(job["spec"]["ttlSecondsAfterFinished"], 0);
  EXPECT_GT(job["spec"]["activeDeadlineSeconds"], 0);
  // A name that could not be a service's is refused, never put in a command.
  EXPECT_EQ(byoc::testing::error_code([&] { zookeeper_cleanup_job(state, "x; rm -rf /", options); }), "invalid_value");
}

TEST(RenderKubernetes, RuntimeSecretsAreLabelledAsTheirServicesObjects) {
  const auto state = t::two_services(1);
  json secret = runtime_secret(state, t::two_profiles(1), "orders", "orders-credentials", "Opaque", {{"k", "v"}});
  EXPECT_EQ(secret["metadata"]["namespace"], "byoc-services");
  EXPECT_EQ(secret["metadata"]["labels"]["byoc.io/service"], "orders");
  EXPECT_EQ(secret["metadata"]["labels"]["byoc.io/environment"], state.environment_id);
  EXPECT_EQ(secret["data"]["k"], "dg==");
  json shared = runtime_secret(state, t::two_profiles(1), "", kGatewayCheckSecret, "Opaque", {});
  EXPECT_FALSE(shared["metadata"]["labels"].contains("byoc.io/service"));
}

TEST(RenderKubernetes, AChangedConfigOrPasswordRollsTheShardsPodsAndAnIncarnationMovesTheChroot) {
  auto state = t::two_services(2);
  const auto options = t::two_profiles(2);
  auto revision = [&](const model::DesiredState& st, const KubernetesOptions& o) {
    return find(render_kubernetes(st, o), "StatefulSet", "orders-s1")["spec"]["template"]["metadata"]["annotations"]
        ["byoc.io/config-revision"];
  };
  const json before = revision(state, options);
  ASSERT_TRUE(before.is_string());
  auto password = state;
  password.services[0].default_password_sha256_hex = std::string(64, '1');
  EXPECT_NE(revision(password, options), before);  // users.xml: ClickHouse would only see it a minute later
  auto sizing = state;
  sizing.services[0].memory_mib = 8192;
  EXPECT_NE(revision(sizing, options), before);
  auto other = state;
  other.services[1].memory_mib = 8192;  // another service's: nothing here
  EXPECT_EQ(revision(other, options), before);
  auto moved = options;
  moved.incarnations["orders"] = "x1y2";
  EXPECT_NE(revision(state, moved), before);
  const std::string config = find(render_kubernetes(state, moved), "ConfigMap", "orders-s1-config")["data"]["orders-s1-0.xml"];
  EXPECT_THAT(config, HasSubstr("<root>/byoc/orders-x1y2</root>"));
}

TEST(RenderKubernetes, AServicesOwnProfileSelectsItsNodeGroupUnlessTheOptionsSayOtherwise) {
  auto state = t::two_services(1);
  KubernetesOptions plain;  // no --profile
  auto selector = [&](const model::DesiredState& st, const KubernetesOptions& o) {
    return find(render_kubernetes(st, o), "StatefulSet", "events-s1")["spec"]["template"]["spec"]["nodeSelector"];
  };
  EXPECT_EQ(selector(state, plain), json({{"byoc.io/role", "clickhouse"}}));
  state.services[1].profile = "r7gd.xlarge";
  EXPECT_EQ(selector(state, plain), json({{"byoc.io/role", "clickhouse"}, {"byoc.io/instance-type", "r7gd.xlarge"}}));
  KubernetesOptions chosen;
  chosen.profiles["events"] = "m7gd.large";
  EXPECT_EQ(selector(state, chosen)["byoc.io/instance-type"], "m7gd.large");
  state.services[1].profile = "host";  // the host profile names no node group
  EXPECT_EQ(selector(state, plain), json({{"byoc.io/role", "clickhouse"}}));
  state.services[1].profile = "bad profile";
  EXPECT_EQ(byoc::testing::error_code([&] { render_kubernetes(state, plain); }), "invalid_value");
}

TEST(RenderKubernetes, ARenewedCertificateRollsTheEndpoint) {
  const auto state = t::two_services(1);
  auto options = t::two_profiles(1);
  auto revision = [&] {
    return find(render_kubernetes(state, options), "Deployment", "orders-endpoint")["spec"]["template"]["metadata"]
                                                                                  ["annotations"]["byoc.io/config-revision"];
  };
  const json before = revision();
  options.certificate_revisions["events"] = "other";  // another service's: no change here
  EXPECT_EQ(revision(), before);
  options.certificate_revisions["orders"] = "0123456789abcdef";
  EXPECT_NE(revision(), before);
}

TEST(RenderKubernetes, ZooKeeperIffAServiceIsReplicated) {
  auto single = render(1);
  for (const auto& o : single) EXPECT_THAT(o["metadata"]["name"].get<std::string>(), Not(HasSubstr("zookeeper")));
  EXPECT_THAT(find(single, "ConfigMap", "orders-s1-config")["data"]["orders-s1-0.xml"].get<std::string>(),
              Not(HasSubstr("<zookeeper>")));

  model::DesiredState mixed = t::two_services(1);
  mixed.services[1].replicas = 2;  // events 1 × 2
  auto items = render_kubernetes(mixed, t::two_profiles(1));
  EXPECT_EQ(find(items, "StatefulSet", "byoc-zookeeper")["spec"]["replicas"], 3);
  // A replicated service's pods make its chroot before ClickHouse starts,
  // waiting for the ensemble; the chroot is passed as an argument, never
  // parsed by the shell.
  const json& events_pod = find(items, "StatefulSet", "events-s1")["spec"]["template"]["spec"];
  ASSERT_EQ(events_pod["initContainers"].size(), 1u);
  const json& chroot = events_pod["initContainers"][0];
  EXPECT_EQ(chroot["name"], "zookeeper-chroot");
  EXPECT_EQ(chroot["command"].back(), "/byoc/events");
  EXPECT_THAT(chroot["command"][2].get<std::string>(), HasSubstr("until timeout 60 zkCli.sh -server \"$ZK\" stat \"$1\""));
  EXPECT_EQ(chroot["env"][0]["value"],
            "byoc-zookeeper-0.byoc-zookeeper.byoc-services.svc.cluster.local:2181,"
            "byoc-zookeeper-1.byoc-zookeeper.byoc-services.svc.cluster.local:2181,"
            "byoc-zookeeper-2.byoc-zookeeper.byoc-services.svc.cluster.local:2181");
  EXPECT_EQ(chroot["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(chroot["resources"]["limits"], chroot["resources"]["requests"]);  // the pod stays Guaranteed
  // An unreplicated service has none.
  for (const auto& o : single)
    if (o["kind"] == "StatefulSet") EXPECT_FALSE(o["spec"]["template"]["spec"].contains("initContainers"));
  EXPECT_EQ(find(items, "PodDisruptionBudget", "byoc-zookeeper")["spec"]["maxUnavailable"], 1);
  EXPECT_EQ(find(items, "Service", "byoc-zookeeper")["spec"]["publishNotReadyAddresses"], true);
  EXPECT_THAT(find(items, "ConfigMap", "orders-s1-config")["data"]["orders-s1-0.xml"].get<std::string>(),
              Not(HasSubstr("<zookeeper>")));
  const std::string events = find(items, "ConfigMap", "events-s1-config")["data"]["events-s1-1.xml"];
  EXPECT_THAT(events, HasSubstr("<root>/byoc/events</root>"));
  EXPECT_EQ(count(events, ".byoc-zookeeper.byoc-services.svc.cluster.local</host>"), 3);
  const std::string zoo = find(items, "ConfigMap", "byoc-zookeeper")["data"]["zoo.cfg"];
  EXPECT_THAT(zoo, HasSubstr("standaloneEnabled=false"));
  EXPECT_THAT(zoo, HasSubstr("server.3=byoc-zookeeper-2.byoc-zookeeper.byoc-services.svc.cluster.local:2888:3888\n"));
  EXPECT_THAT(zoo, HasSubstr("4lw.commands.whitelist=ruok"));
}

TEST(RenderKubernetes, OrderIsStable) {
  auto items = render(2);
  EXPECT_EQ(items, render(2));
  model::DesiredState reversed = t::two_services(2);
  std::reverse(reversed.services.begin(), reversed.services.end());
  EXPECT_EQ(items, render_kubernetes(reversed, t::two_profiles(2)));
  auto order = names(items);
  // The environment's first, then each service's, services by name.
  EXPECT_EQ(std::vector<std::string>(order.begin(), order.begin() + 8),
            (std::vector<std::string>{"NetworkPolicy/byoc-default-deny", "ConfigMap/byoc-support-ca",
                                      "NetworkPolicy/byoc-zookeeper", "ConfigMap/byoc-zookeeper",
                                      "Service/byoc-zookeeper", "PodDisruptionBudget/byoc-zookeeper",
                                      "StatefulSet/byoc-zookeeper", "NetworkPolicy/events-clickhouse"}));
  auto first_orders = std::find(order.begin(), order.end(), "NetworkPolicy/orders-clickhouse");
  EXPECT_EQ(std::vector<std::string>(first_orders, order.end()),
            (std::vector<std::string>{
                "NetworkPolicy/orders-clickhouse", "NetworkPolicy/orders-endpoint", "ConfigMap/orders-s1-config",
                "ConfigMap/orders-s2-config", "Secret/orders-users", "Service/orders-replicas",
                "Service/orders-clickhouse", "PodDisruptionBudget/orders-s1", "PodDisruptionBudget/orders-s2",
                "StatefulSet/orders-s1", "StatefulSet/orders-s2", "ConfigMap/orders-endpoint",
                "Service/orders-endpoint", "PodDisruptionBudget/orders-endpoint", "Deployment/orders-endpoint"}));
  // The per-kind functions give the same objects.
  const model::DesiredState state = t::two_services(2);
  EXPECT_EQ(service_objects(state, state.services[0], t::two_profiles(2)),
            std::vector<json>(first_orders - order.begin() + items.begin(), items.end()));
}

TEST(RenderKubernetes, BadInputNamesTheField) {
  struct Case {
    std::string field;
    std::function<void(model::DesiredState&, KubernetesOptions&)> spoil;
  };
  const std::vector<Case> cases = {
      {"desired.environment_id", [](auto& d, auto&) { d.environment_id = ""; }},
      {"desired.environment_id", [](auto& d, auto&) { d.environment_id = "env 1"; }},
      {"desired.environment_cidr", [](auto& d, auto&) { d.environment_cidr = "10.20.0.1/16"; }},
      {"desired.services[0].name", [](auto& d, auto&) { d.services[0].name = "Orders"; }},
      {"desired.services[0].name", [](auto& d, auto&) { d.services[0].name = "1orders"; }},
      {"desired.services[0].name", [](auto& d, auto&) { d.services[0].name = std::string(41, 'o'); }},
      {"desired.services[1].name", [](auto& d, auto&) { d.services[1].name = "orders"; }},
      {"desired.services[0].clickhouse_version", [](auto& d, auto&) { d.services[0].clickhouse_version = "latest"; }},
      {"desired.services[0].shards", [](auto& d, auto&) { d.services[0].shards = 0; }},
      {"desired.services[0].replicas", [](auto& d, auto&) { d.services[0].replicas = 17; }},
      {"desired.services[0].cpu_millis", [](auto& d, auto&) { d.services[0].cpu_millis = 0; }},
      {"desired.services[0].memory_mib", [](auto& d, auto&) { d.services[0].memory_mib = 100; }},
      {"desired.services[0].default_password_sha256_hex",
       [](auto& d, auto&) { d.services[0].default_password_sha256_hex = t::kPassword; }},
      {"desired.services[0].allowed_ips[1]", [](auto& d, auto&) { d.services[0].allowed_ips[1] = "203.0.113.7/8"; }},
      {"namespace", [](auto&, auto& o) { o.namespace_name = "Customer_Data"; }},
      {"namespace", [](auto&, auto& o) { o.namespace_name = "byoc-system"; }},
      {"registry", [](auto&, auto& o) { o.registry = "registry.example/clickhouse-server:latest"; }},
      {"registry", [](auto&, auto& o) { o.registry = "registry.example/click house"; }},
      {"storage_class", [](auto&, auto& o) { o.storage_class = "GP3 "; }},
      {"profile", [](auto&, auto& o) { o.profiles["billing"] = "m7gd.large"; }},
      {"profile", [](auto&, auto& o) { o.profiles["orders"] = "m7gd large"; }},
      {"support_gateway.check_address", [](auto&, auto& o) { o.support_gateway.check_address = "agent;8081"; }},
      {"support_gateway.crl_pem", [](auto&, auto& o) { o.support_gateway.crl_pem.clear(); }},
      {"clickhouse_images", [](auto&, auto& o) { o.clickhouse_images["billing"] = t::kPinnedImage; }},
      {"clickhouse_images", [](auto&, auto& o) { o.clickhouse_images["orders"] = "registry.example/ch; rm"; }},
      {"desired.services[0].clickhouse_version",
       [](auto& d, auto& o) {
         o.clickhouse_images[d.services[0].name] = t::kPinnedImage;
         d.services[0].clickhouse_version = "24.3 lts";
       }},
      {"partitions", [](auto&, auto& o) { o.partitions["billing"] = {0, 0}; }},
      {"partitions", [](auto&, auto& o) { o.partitions["orders"] = {1}; }},  // 2 shards
      {"partitions", [](auto&, auto& o) { o.partitions["orders"] = {1, -1}; }},
  };
  for (const auto& c : cases) {
    model::DesiredState state = t::two_services(2);
    KubernetesOptions options = t::two_profiles(2);
    c.spoil(state, options);
    try {
      render_kubernetes(state, options);
      ADD_FAILURE() << "no error for " << c.field;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalid) << c.field;
      EXPECT_EQ(e.field(), c.field) << e.what();
    }
  }
}

TEST(RenderKubernetes, ImageFromTheVersion) {
  EXPECT_EQ(clickhouse_image("18.16.1", ""), "docker.io/yandex/clickhouse-server:18.16.1");
  EXPECT_EQ(clickhouse_image("24.8.4.13", ""), "docker.io/clickhouse/clickhouse-server:24.8.4.13");
  EXPECT_EQ(clickhouse_image("18.16.1", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/clickhouse"),
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/clickhouse:18.16.1");
  KubernetesOptions options = t::two_profiles(1);
  options.registry = "registry.example/ch";
  auto items = render_kubernetes(t::two_services(1), options);
  EXPECT_EQ(find(items, "StatefulSet", "orders-s1")["spec"]["template"]["spec"]["containers"][0]["image"],
            "registry.example/ch:18.16.1");
}

TEST(RenderKubernetes, ImageFromTheRuntimesVersionsOverTheTagAndPartitionsHoldPods) {
  auto items = render(3);
  auto container = [&](const std::string& set) {
    return find(items, "StatefulSet", set)["spec"]["template"]["spec"]["containers"][0];
  };
  // events' image is the one resolved from versions.json, whatever its version's name.
  for (const char* set : {"events-s1", "events-s2", "events-s3"}) EXPECT_EQ(container(set)["image"], t::kPinnedImage);
  EXPECT_EQ(container("orders-s1")["image"], "docker.io/yandex/clickhouse-server:18.16.1");
  model::DesiredState named = t::two_services(3);
  for (auto& s : named.services)
    if (s.name == "events") s.clickhouse_version = "24.8-lts";
  EXPECT_EQ(find(render_kubernetes(named, t::two_profiles(3)), "StatefulSet", "events-s1")["spec"]["template"]["spec"]
                ["containers"][0]["image"],
            t::kPinnedImage);
  // One partition per shard; none for a service without.
  EXPECT_EQ(find(items, "StatefulSet", "events-s1")["spec"]["updateStrategy"],
            json({{"type", "RollingUpdate"}, {"rollingUpdate", {{"partition", 3}}}}));
  EXPECT_EQ(find(items, "StatefulSet", "events-s2")["spec"]["updateStrategy"]["rollingUpdate"]["partition"], 1);
  EXPECT_EQ(find(items, "StatefulSet", "events-s3")["spec"]["updateStrategy"]["rollingUpdate"]["partition"], 0);
  EXPECT_EQ(find(items, "StatefulSet", "orders-s1")["spec"]["updateStrategy"], json({{"type", "RollingUpdate"}}));
  EXPECT_EQ(service_clickhouse_image(t::service("orders", 1, 1), t::two_profiles(3)),
            "docker.io/yandex/clickhouse-server:18.16.1");
}

TEST(RenderKubernetes, GoldenOneService) {
  const std::string rendered = kubernetes_list(render_kubernetes(t::golden_state(), t::golden_options())).dump(2) + "\n";
  const auto file = byoc::testing::source_dir() / "tests" / "render" / "kubernetes" / "golden" / "orders-2x2.json";
  if (const char* update = std::getenv("BYOC_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    files::write_atomic(file, rendered);
    GTEST_SKIP() << "rewrote " << file;
  }
  auto expected = files::read_if_exists(file);
  ASSERT_TRUE(expected) << "missing " << file << " (BYOC_UPDATE_GOLDEN=1 writes it)";
  EXPECT_EQ(rendered, *expected) << "the rendered objects differ from " << file
                                 << "; if the change is meant, rerun with BYOC_UPDATE_GOLDEN=1 and review the diff";
}

}  // namespace
}  // namespace byoc::render::kubernetes
