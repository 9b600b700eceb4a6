// KubeUpgradeControl: the upgrader's Kubernetes calls (plan::upgrade::KubeControl)
// over a kube::Client — the real counterpart of the simulator's.
//
// Pods are named "NAMESPACE/NAME" (kubectl's notation): the interface names a
// pod by one string, and a real pod's name is unique only in its namespace.
// The name is what the upgrader records in its journal and hands back to
// evict_pod, so a resumed run needs no memory of an earlier listing. PDBs are
// named the same way. A PDB's selector is read through its matchLabels only.
//
// list_pods_on_node returns the pods a drain must move, as `kubectl drain
// --ignore-daemonsets` sees them: not a DaemonSet's pods (its controller
// would put them back on the node, which they tolerate), not a static pod's
// mirror (the kubelet owns it) and not a pod that has finished (Succeeded,
// Failed: it holds nothing and goes with the node).
//
// The taint goes in with the node's whole taint list: spec.taints has no
// patch merge key, so a strategic merge patch replaces the list. The patch
// carries the resourceVersion it was built from; when the node changed
// meanwhile (409) it is read and patched again, a bounded number of times.
//
// An API server's throttling that outlasted the client's retries (429)
// becomes plan::upgrade::Throttled; other failures stay kube::ApiError or
// byoc::Error. Not thread-safe (neither is the client).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "kube/client.h"
#include "plan/upgrade/kube_control.h"

namespace byoc::kube {

class KubeUpgradeControl final : public plan::upgrade::KubeControl {
 public:
  // `client` must outlive this. `max_patch_conflicts`: how many 409s in a
  // row a taint patch takes before it gives up (kConflict).
  explicit KubeUpgradeControl(Client& client, int max_patch_conflicts = 5);

  std::vector<plan::upgrade::Node> list_nodes(const std::string& label_key, const std::string& label_value) override;
  void taint_and_label_node(const std::string& node, const plan::upgrade::Taint& taint, const std::string& label,
                            const std::string& label_value) override;
  void cordon_node(const std::string& node) override;
  std::vector<plan::upgrade::Pod> list_pods_on_node(const std::string& node) override;
  // `pod` is "NAMESPACE/NAME"; anything else is byoc::Error kInvalid.
  plan::upgrade::EvictionResult evict_pod(const std::string& pod) override;
  std::vector<plan::upgrade::Pdb> list_pdbs() override;

 private:
  Client& client_;
  int max_patch_conflicts_;
};

// The readings of API objects the adapter makes, apart for tests.
plan::upgrade::Node node_of(const nlohmann::json& node);
plan::upgrade::Pod pod_of(const nlohmann::json& pod);
plan::upgrade::Pdb pdb_of(const nlohmann::json& pdb);
// False for the pods a drain leaves alone (see above).
bool drain_moves(const nlohmann::json& pod);

}  // namespace byoc::kube
