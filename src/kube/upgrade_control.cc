#include "kube/upgrade_control.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.h"

namespace byoc::kube {
namespace {

using nlohmann::json;
namespace up = plan::upgrade;

// A throttle that outlasted the client's retries is the upgrader's to wait out.
template <class F>
auto throttle_mapped(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const ApiError& e) {
    if (e.status() == 429) throw up::Throttled(e.what());
    throw;
  }
}

const json& member(const json& object, const char* key) {
  static const json kNull;
  return object.is_object() && object.contains(key) ? object[key] : kNull;
}

std::string string_at(const json& object, const char* key) {
  const json& v = member(object, key);
  return v.is_string() ? v.get<std::string>() : "";
}

int int_at(const json& object, const char* key) {
  const json& v = member(object, key);
  return v.is_number_integer() ? v.get<int>() : 0;
}

std::map<std::string, std::string> string_map(const json& object) {
  std::map<std::string, std::string> out;
  if (!object.is_object()) return out;
  for (const auto& [k, v] : object.items())
    if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

// status.conditions[type=Ready].status == "True", for pods and nodes alike.
bool ready(const json& object) {
  const json& conditions = member(member(object, "status"), "conditions");
  if (!conditions.is_array()) return false;
  return std::any_of(conditions.begin(), conditions.end(), [](const json& c) {
    return string_at(c, "type") == "Ready" && string_at(c, "status") == "True";
  });
}

std::vector<up::Taint> taints_of(const json& spec) {
  std::vector<up::Taint> out;
  const json& taints = member(spec, "taints");
  if (!taints.is_array()) return out;
  for (const json& t : taints) out.push_back({string_at(t, "key"), string_at(t, "value"), string_at(t, "effect")});
  return out;
}

// "NAMESPACE/NAME" of a namespaced object.
std::string qualified_name(const json& metadata) {
  return string_at(metadata, "namespace") + "/" + string_at(metadata, "name");
}

ObjectRef node_ref(const std::string& node) { return {"v1", "Node", "", node}; }

// The node's taint list with `taint` in it (a taint is identified by key and
// effect: one of those with another value takes the new one); nullopt when
// it is there already.
std::optional<json> taints_with(const json& live_spec, const up::Taint& taint) {
  json taints = member(live_spec, "taints").is_array() ? member(live_spec, "taints") : json::array();
  for (json& t : taints) {
    if (string_at(t, "key") != taint.key || string_at(t, "effect") != taint.effect) continue;
    if (string_at(t, "value") == taint.value) return std::nullopt;
    t["value"] = taint.value;
    return taints;
  }
  taints.push_back({{"key", taint.key}, {"value", taint.value}, {"effect", taint.effect}});
  return taints;
}

}  // namespace

up::Node node_of(const json& node) {
  const json& spec = member(node, "spec");
  const json& unschedulable = member(spec, "unschedulable");
  return {string_at(member(node, "metadata"), "name"), string_map(member(member(node, "metadata"), "labels")),
          ready(node), unschedulable.is_boolean() && unschedulable.get<bool>(), taints_of(spec)};
}

up::Pod pod_of(const json& pod) {
  const json& metadata = member(pod, "metadata");
  return {qualified_name(metadata),
          string_at(member(pod, "spec"), "nodeName"),
          string_map(member(metadata, "labels")),
          string_map(member(metadata, "annotations")),
          ready(pod),
          !member(metadata, "deletionTimestamp").is_null()};
}

up::Pdb pdb_of(const json& pdb) {
  const json& status = member(pdb, "status");
  return {qualified_name(member(pdb, "metadata")),
          string_map(member(member(member(pdb, "spec"), "selector"), "matchLabels")),
          int_at(status, "disruptionsAllowed"), int_at(status, "currentHealthy"), int_at(status, "expectedPods")};
}

bool drain_moves(const json& pod) {
  const json& metadata = member(pod, "metadata");
  if (member(member(metadata, "annotations"), "kubernetes.io/config.mirror").is_string()) return false;
  const std::string phase = string_at(member(pod, "status"), "phase");
  if (phase == "Succeeded" || phase == "Failed") return false;
  const json& owners = member(metadata, "ownerReferences");
  if (!owners.is_array()) return true;
  return std::none_of(owners.begin(), owners.end(), [](const json& o) {
    return string_at(o, "kind") == "DaemonSet" && member(o, "controller") == true;
  });
}

KubeUpgradeControl::KubeUpgradeControl(Client& client, int max_patch_conflicts)
    : client_(client), max_patch_conflicts_(std::max(max_patch_conflicts, 1)) {}

std::vector<up::Node> KubeUpgradeControl::list_nodes(const std::string& label_key, const std::string& label_value) {
  return throttle_mapped([&] {
    std::vector<up::Node> nodes;
    for (const json& n : client_.list("v1", "Node", "", label_key + "=" + label_value)) nodes.push_back(node_of(n));
    return nodes;
  });
}

void KubeUpgradeControl::taint_and_label_node(const std::string& node, const up::Taint& taint,
                                              const std::string& label, const std::string& label_value) {
  throttle_mapped([&] {
    for (int attempt = 1;; ++attempt) {
      std::optional<json> live = client_.get(node_ref(node));
      if (!live) return;  // gone, and its pods with it: nothing left to keep off it
      const json& metadata = member(*live, "metadata");
      std::optional<json> taints = taints_with(member(*live, "spec"), taint);
      const auto labels = string_map(member(metadata, "labels"));
      const auto it = labels.find(label);
      const bool labelled = it != labels.end() && it->second == label_value;
      if (!taints && labelled) return;
      json patch = {{"metadata", {{"resourceVersion", string_at(metadata, "resourceVersion")},
                                  {"labels", {{label, label_value}}}}}};
      if (taints) patch["spec"] = {{"taints", *taints}};
      try {
        client_.strategic_merge_patch(node_ref(node), patch);
        return;
      } catch (const ApiError& e) {
        if (e.status() == 404) return;
        if (e.status() != 409 || attempt >= max_patch_conflicts_) throw;
      }
    }
  });
}

void KubeUpgradeControl::cordon_node(const std::string& node) {
  throttle_mapped([&] {
    try {
      client_.strategic_merge_patch(node_ref(node), {{"spec", {{"unschedulable", true}}}});
    } catch (const ApiError& e) {
      if (e.status() != 404) throw;  // gone: nothing can be scheduled on it
    }
  });
}

std::vector<up::Pod> KubeUpgradeControl::list_pods_on_node(const std::string& node) {
  return throttle_mapped([&] {
    std::vector<up::Pod> pods;
    for (const json& p : client_.list("v1", "Pod", "", "", "spec.nodeName=" + node))
      if (drain_moves(p)) pods.push_back(pod_of(p));
    return pods;
  });
}

up::EvictionResult KubeUpgradeControl::evict_pod(const std::string& pod) {
  const size_t slash = pod.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == pod.size())
    throw Error::Invalid("kube_pod_name_invalid", "a pod is named NAMESPACE/NAME here, not '" + pod + "'", "pod");
  return throttle_mapped([&] {
    switch (client_.evict(pod.substr(0, slash), pod.substr(slash + 1))) {
      case EvictionOutcome::kEvicted: return up::EvictionResult::kEvicted;
      case EvictionOutcome::kDisruptionBudget: return up::EvictionResult::kBudgetRefused;
      case EvictionOutcome::kNotFound: break;
    }
    return up::EvictionResult::kNotFound;
  });
}

std::vector<up::Pdb> KubeUpgradeControl::list_pdbs() {
  return throttle_mapped([&] {
    std::vector<up::Pdb> pdbs;
    for (const json& b : client_.list("policy/v1", "PodDisruptionBudget", "")) pdbs.push_back(pdb_of(b));
    return pdbs;
  });
}

}  // namespace byoc::kube
