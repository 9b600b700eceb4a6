// The upgrader's calls into a cluster as the audit log sees them
// (audited_controls.h): each mutating call recorded before it is sent, with
// its target; reads not recorded; a call whose record fails is not sent.
#include "cloud/aws/upgrade/audited_controls.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace byoc::aws {
namespace {

namespace up = plan::upgrade;
using nlohmann::json;

// Inner controls that note each call they are sent, after the records so far.
struct Calls {
  std::vector<std::string> sent;
  std::vector<json> recorded;
  // What had been recorded when each call was sent.
  std::vector<size_t> recorded_before;
  void note(const std::string& call) {
    sent.push_back(call);
    recorded_before.push_back(recorded.size());
  }
};

class NotingEks final : public up::EksControl {
 public:
  explicit NotingEks(Calls& calls) : calls_(calls) {}
  up::Cluster describe_cluster() override { return calls_.note("describe_cluster"), up::Cluster{}; }
  std::string update_cluster_version(const std::string&, const std::string&) override {
    calls_.note("update_cluster_version");
    return "u-1";
  }
  std::vector<std::string> list_nodegroups() override { return calls_.note("list_nodegroups"), std::vector<std::string>{}; }
  std::optional<up::Nodegroup> describe_nodegroup(const std::string&) override {
    return calls_.note("describe_nodegroup"), std::nullopt;
  }
  void create_nodegroup(const up::CreateNodegroupRequest&) override { calls_.note("create_nodegroup"); }
  void delete_nodegroup(const std::string&) override { calls_.note("delete_nodegroup"); }
  std::optional<up::Addon> describe_addon(const std::string&) override { return calls_.note("describe_addon"), std::nullopt; }
  void update_addon(const std::string&, const std::string&, const std::string&) override { calls_.note("update_addon"); }

 private:
  Calls& calls_;
};

class NotingKube final : public up::KubeControl {
 public:
  explicit NotingKube(Calls& calls) : calls_(calls) {}
  std::vector<up::Node> list_nodes(const std::string&, const std::string&) override {
    return calls_.note("list_nodes"), std::vector<up::Node>{};
  }
  void taint_and_label_node(const std::string&, const up::Taint&, const std::string&, const std::string&) override {
    calls_.note("taint_node");
  }
  void cordon_node(const std::string&) override { calls_.note("cordon_node"); }
  std::vector<up::Pod> list_pods_on_node(const std::string&) override { return calls_.note("list_pods"), std::vector<up::Pod>{}; }
  up::EvictionResult evict_pod(const std::string&) override {
    calls_.note("evict_pod");
    return up::EvictionResult::kEvicted;
  }
  std::vector<up::Pdb> list_pdbs() override { return calls_.note("list_pdbs"), std::vector<up::Pdb>{}; }

 private:
  Calls& calls_;
};

TEST(AuditedUpgradeControls, EachMutatingCallIsRecordedWithItsTargetBeforeItIsSentAndReadsAreNot) {
  Calls calls;
  NotingEks eks_inner(calls);
  NotingKube kube_inner(calls);
  UpgradeCallRecorder record = [&](const json& event) { calls.recorded.push_back(event); };
  AuditedEksControl eks(eks_inner, record);
  AuditedKubeControl kube(kube_inner, record);

  eks.describe_cluster();
  eks.list_nodegroups();
  eks.describe_nodegroup("system");
  eks.describe_addon("coredns");
  kube.list_nodes("eks.amazonaws.com/nodegroup", "system");
  kube.list_pods_on_node("ip-10-0-1-1");
  kube.list_pdbs();
  EXPECT_TRUE(calls.recorded.empty());

  EXPECT_EQ(eks.update_cluster_version("1.32", "t-1"), "u-1");
  up::CreateNodegroupRequest create;
  create.nodegroupName = "system-1-32";
  create.version = "1.32";
  create.instanceTypes = {"m7gd.xlarge"};
  create.desiredSize = 3;
  eks.create_nodegroup(create);
  kube.taint_and_label_node("ip-10-0-1-1", {"byoc.io/upgrading", "true", "NoSchedule"},
                            "node.kubernetes.io/exclude-from-external-load-balancers", "true");
  kube.cordon_node("ip-10-0-1-1");
  EXPECT_EQ(kube.evict_pod("byoc-services/orders-s1-0"), up::EvictionResult::kEvicted);
  eks.delete_nodegroup("system");
  eks.update_addon("coredns", "v1.11.4-eksbuild.2", "t-2");

  const std::vector<json> expected = {
      {{"action", "upgrade_cluster"}, {"call", "update_cluster_version"}, {"version", "1.32"}},
      {{"action", "upgrade_cluster"}, {"call", "create_nodegroup"}, {"node_group", "system-1-32"}, {"version", "1.32"},
       {"instance_types", {"m7gd.xlarge"}}, {"nodes", 3}},
      {{"action", "upgrade_cluster"}, {"call", "taint_node"}, {"node", "ip-10-0-1-1"},
       {"taint", "byoc.io/upgrading=true:NoSchedule"},
       {"label", "node.kubernetes.io/exclude-from-external-load-balancers=true"}},
      {{"action", "upgrade_cluster"}, {"call", "cordon_node"}, {"node", "ip-10-0-1-1"}},
      {{"action", "upgrade_cluster"}, {"call", "evict_pod"}, {"pod", "byoc-services/orders-s1-0"}},
      {{"action", "upgrade_cluster"}, {"call", "delete_nodegroup"}, {"node_group", "system"}},
      {{"action", "upgrade_cluster"}, {"call", "update_addon"}, {"addon", "coredns"}, {"version", "v1.11.4-eksbuild.2"}}};
  EXPECT_EQ(calls.recorded, expected);
  // Every mutating call went out after its own record.
  for (size_t i = 0; i < calls.sent.size(); ++i) {
    auto at = std::find_if(expected.begin(), expected.end(), [&](const json& e) { return e["call"] == calls.sent[i]; });
    if (at == expected.end()) continue;  // a read
    EXPECT_EQ(calls.recorded_before[i], static_cast<size_t>(at - expected.begin()) + 1) << calls.sent[i];
  }
}

TEST(AuditedUpgradeControls, ACallWhoseRecordFailsIsNotSent) {
  Calls calls;
  NotingEks eks_inner(calls);
  NotingKube kube_inner(calls);
  UpgradeCallRecorder refuse = [](const json&) { throw std::runtime_error("the audit log is unavailable"); };
  AuditedEksControl eks(eks_inner, refuse);
  AuditedKubeControl kube(kube_inner, refuse);
  EXPECT_THROW(kube.evict_pod("byoc-services/orders-s1-0"), std::runtime_error);
  EXPECT_THROW(eks.delete_nodegroup("system"), std::runtime_error);
  EXPECT_TRUE(calls.sent.empty());
  kube.list_pdbs();  // reads need no record
  EXPECT_EQ(calls.sent, std::vector<std::string>{"list_pdbs"});
}

}  // namespace
}  // namespace byoc::aws
