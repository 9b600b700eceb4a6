// KubeControl: the Kubernetes API calls the upgrader makes on nodes, pods,
// PodDisruptionBudgets and the Eviction subresource. The simulator
// (simulator.h) implements it; so would an adapter over kube::Client. Lists
// are bounded by the fleet limits (fleet.h). Every method may throw Throttled
// (429 Too Many Requests with Retry-After). Not thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "plan/upgrade/eks_control.h"

namespace byoc::plan::upgrade {

// The label EKS puts on a managed node group's nodes.
inline constexpr const char* kNodegroupLabel = "eks.amazonaws.com/nodegroup";
// Taken out of load balancers' target groups before the node is drained.
inline constexpr const char* kExcludeFromLbLabel = "node.kubernetes.io/exclude-from-external-load-balancers";
// The upgrader's NoSchedule taint on old nodes.
inline constexpr const char* kUpgradeTaintKey = "byoc.io/upgrading";
// Pod labels and annotation the upgrader reads.
inline constexpr const char* kServiceLabel = "byoc.io/service";
inline constexpr const char* kShardLabel = "byoc.io/shard";
inline constexpr const char* kComponentLabel = "byoc.io/component";  // "clickhouse" or anything else
inline constexpr const char* kDrainSecondsAnnotation = "byoc.io/drain-seconds";

struct Taint {
  std::string key;
  std::string value;
  std::string effect;  // "NoSchedule"
  bool operator==(const Taint&) const = default;
};

struct Node {
  std::string name;
  std::map<std::string, std::string> labels;
  bool ready = false;          // status.conditions[type=Ready].status == "True"
  bool unschedulable = false;  // spec.unschedulable (cordoned)
  std::vector<Taint> taints;
};

struct Pod {
  std::string name;
  std::string nodeName;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  bool ready = false;
  bool terminating = false;  // metadata.deletionTimestamp set
};

// A PodDisruptionBudget: spec.selector.matchLabels and status.
struct Pdb {
  std::string name;
  std::map<std::string, std::string> matchLabels;
  int disruptionsAllowed = 0;
  int currentHealthy = 0;
  int expectedPods = 0;
};

enum class EvictionResult {
  kEvicted,        // 201: the pod is terminating
  kBudgetRefused,  // 429 from a PodDisruptionBudget
  kNotFound,       // 404: already gone
};

class KubeControl {
 public:
  virtual ~KubeControl() = default;
  // GET /api/v1/nodes?labelSelector=key=value
  virtual std::vector<Node> list_nodes(const std::string& label_key, const std::string& label_value) = 0;
  // One strategic-merge PATCH adding `taint` and `label`=`label_value`.
  virtual void taint_and_label_node(const std::string& node, const Taint& taint, const std::string& label,
                                    const std::string& label_value) = 0;
  // PATCH spec.unschedulable = true
  virtual void cordon_node(const std::string& node) = 0;
  // GET /api/v1/pods?fieldSelector=spec.nodeName=node
  virtual std::vector<Pod> list_pods_on_node(const std::string& node) = 0;
  // POST /api/v1/namespaces/{ns}/pods/{name}/eviction
  virtual EvictionResult evict_pod(const std::string& pod) = 0;
  // GET /apis/policy/v1/poddisruptionbudgets
  virtual std::vector<Pdb> list_pdbs() = 0;
};

}  // namespace byoc::plan::upgrade
