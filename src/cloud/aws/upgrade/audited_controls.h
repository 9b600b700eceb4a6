// The upgrader's calls into a customer's cluster, each recorded before it is
// sent: decorators of EksControl and KubeControl that hand every mutating
// call (a version update, a node group made or deleted, an add-on update, a
// node tainted or cordoned, a pod evicted) to a recorder — the aws driver's,
// which writes it to the environment's audit log as `cloud_access`, as it
// does the agent's install. Reads pass through unrecorded. A call the
// recorder refuses (it throws) is not sent. Not thread-safe.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plan/upgrade/eks_control.h"
#include "plan/upgrade/kube_control.h"

namespace byoc::aws {

// Gets {"action":"upgrade_cluster","call":…, and the call's target}.
using UpgradeCallRecorder = std::function<void(const nlohmann::json& event)>;

class AuditedEksControl final : public plan::upgrade::EksControl {
 public:
  // `inner` must outlive this.
  AuditedEksControl(plan::upgrade::EksControl& inner, UpgradeCallRecorder record)
      : inner_(inner), record_(std::move(record)) {}
  plan::upgrade::Cluster describe_cluster() override { return inner_.describe_cluster(); }
  std::string update_cluster_version(const std::string& version, const std::string& token) override;
  std::vector<std::string> list_nodegroups() override { return inner_.list_nodegroups(); }
  std::optional<plan::upgrade::Nodegroup> describe_nodegroup(const std::string& name) override {
    return inner_.describe_nodegroup(name);
  }
  void create_nodegroup(const plan::upgrade::CreateNodegroupRequest& request) override;
  void delete_nodegroup(const std::string& name) override;
  std::optional<plan::upgrade::Addon> describe_addon(const std::string& name) override {
    return inner_.describe_addon(name);
  }
  void update_addon(const std::string& name, const std::string& version, const std::string& token) override;

 private:
  plan::upgrade::EksControl& inner_;
  UpgradeCallRecorder record_;
};

class AuditedKubeControl final : public plan::upgrade::KubeControl {
 public:
  // `inner` must outlive this.
  AuditedKubeControl(plan::upgrade::KubeControl& inner, UpgradeCallRecorder record)
      : inner_(inner), record_(std::move(record)) {}
  std::vector<plan::upgrade::Node> list_nodes(const std::string& key, const std::string& value) override {
    return inner_.list_nodes(key, value);
  }
  void taint_and_label_node(const std::string& node, const plan::upgrade::Taint& taint, const std::string& label,
                            const std::string& label_value) override;
  void cordon_node(const std::string& node) override;
  std::vector<plan::upgrade::Pod> list_pods_on_node(const std::string& node) override {
    return inner_.list_pods_on_node(node);
  }
  plan::upgrade::EvictionResult evict_pod(const std::string& pod) override;
  std::vector<plan::upgrade::Pdb> list_pdbs() override { return inner_.list_pdbs(); }

 private:
  plan::upgrade::KubeControl& inner_;
  UpgradeCallRecorder record_;
};

}  // namespace byoc::aws
