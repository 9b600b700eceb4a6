// AwsClusterUpgradeClients: what the Kubernetes upgrader drives an `aws`
// environment's cluster through (cloud::ClusterUpgradeClients) — the EKS
// calls (EksUpgradeControl over an EKS client acting as the onboarding role)
// and the cluster's API (kube::KubeUpgradeControl over a kube::Client of
// cluster_access.h) — owning the clients under them.
//
// The renderer marks ClickHouse pods for the upgrader
// (byoc.io/component=clickhouse and byoc.io/drain-seconds,
// render/kubernetes/kubernetes.h); a pod made from a template of an older
// agent has no marks, so the pods the upgrader lists are seen through
// ClickHousePodMarks: a pod of byoc's ClickHouse
// (app.kubernetes.io/name=clickhouse with a byoc.io/service) lacking the
// component label is given it, and the renderer's drain estimate when it
// has none — so its eviction waits for its service's window all the same. Every mutating
// call is recorded before it is sent (audited_controls.h). Not thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "cloud/aws/client.h"
#include "cloud/aws/upgrade/audited_controls.h"
#include "cloud/aws/upgrade/eks_upgrade_control.h"
#include "cloud/driver.h"
#include "kube/client.h"
#include "kube/upgrade_control.h"
#include "render/kubernetes/kubernetes.h"

namespace byoc::aws {

// A ClickHouse replica's drain, when its pod does not say: what the renderer marks pods with.
inline constexpr std::chrono::seconds kDefaultDrain{render::kubernetes::kReplicaDrainSeconds};

// KubeControl over another, its pods' marks completed as above.
class ClickHousePodMarks final : public plan::upgrade::KubeControl {
 public:
  // `inner` must outlive this.
  explicit ClickHousePodMarks(plan::upgrade::KubeControl& inner) : inner_(inner) {}
  std::vector<plan::upgrade::Node> list_nodes(const std::string& key, const std::string& value) override {
    return inner_.list_nodes(key, value);
  }
  void taint_and_label_node(const std::string& node, const plan::upgrade::Taint& taint, const std::string& label,
                            const std::string& label_value) override {
    inner_.taint_and_label_node(node, taint, label, label_value);
  }
  void cordon_node(const std::string& node) override { inner_.cordon_node(node); }
  std::vector<plan::upgrade::Pod> list_pods_on_node(const std::string& node) override;
  plan::upgrade::EvictionResult evict_pod(const std::string& pod) override { return inner_.evict_pod(pod); }
  std::vector<plan::upgrade::Pdb> list_pdbs() override { return inner_.list_pdbs(); }

 private:
  plan::upgrade::KubeControl& inner_;
};

class AwsClusterUpgradeClients final : public cloud::ClusterUpgradeClients {
 public:
  AwsClusterUpgradeClients(std::unique_ptr<Client> eks, const std::string& cluster, std::unique_ptr<kube::Client> kube,
                           const UpgradeCallRecorder& record)
      : eks_client_(std::move(eks)),
        kube_client_(std::move(kube)),
        eks_(*eks_client_, cluster),
        kube_(*kube_client_),
        marked_(kube_),
        audited_eks_(eks_, record),
        audited_kube_(marked_, record) {}
  plan::upgrade::EksControl& eks() override { return audited_eks_; }
  plan::upgrade::KubeControl& kube() override { return audited_kube_; }

 private:
  std::unique_ptr<Client> eks_client_;
  std::unique_ptr<kube::Client> kube_client_;
  EksUpgradeControl eks_;
  kube::KubeUpgradeControl kube_;
  ClickHousePodMarks marked_;
  AuditedEksControl audited_eks_;
  AuditedKubeControl audited_kube_;
};

}  // namespace byoc::aws
