#include "kube/resources.h"

#include <array>
#include <nlohmann/json.hpp>

#include "base/error.h"

namespace byoc::kube {
namespace {

struct KindInfo {
  std::string_view api_version;
  std::string_view kind;
  std::string_view plural;
  bool namespaced;
};

// The kinds byoc installs or runs services with. A kind not here is refused
// rather than guessed (a plural is not always kind + "s").
constexpr std::array<KindInfo, 20> kKinds = {{
    {"v1", "Namespace", "namespaces", false},
    {"v1", "ServiceAccount", "serviceaccounts", true},
    {"v1", "Secret", "secrets", true},
    {"v1", "ConfigMap", "configmaps", true},
    {"v1", "Service", "services", true},
    {"v1", "Pod", "pods", true},
    {"v1", "PersistentVolumeClaim", "persistentvolumeclaims", true},
    {"v1", "Endpoints", "endpoints", true},
    {"v1", "Node", "nodes", false},
    {"rbac.authorization.k8s.io/v1", "Role", "roles", true},
    {"rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true},
    {"rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false},
    {"apps/v1", "Deployment", "deployments", true},
    {"apps/v1", "StatefulSet", "statefulsets", true},
    {"apps/v1", "DaemonSet", "daemonsets", true},
    {"batch/v1", "Job", "jobs", true},
    {"policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true},
    {"networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true},
    {"storage.k8s.io/v1", "StorageClass", "storageclasses", false},
}};

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

const KindInfo& kind_info(const std::string& api_version, const std::string& kind) {
  for (const auto& info : kKinds)
    if (info.api_version == api_version && info.kind == kind) return info;
  throw Error::Invalid("kube_unknown_kind",
                       "kind " + kind + " of apiVersion " + api_version + " is not one byoc knows how to address",
                       "kind");
}

// The API root of the kind's group, and the namespace segment when it has one.
std::string scope_prefix(const KindInfo& info, const std::string& namespace_name, bool all_namespaces_allowed) {
  std::string path = info.api_version == "v1" ? "/api/v1" : "/apis/" + std::string(info.api_version);
  if (!info.namespaced) {
    if (!namespace_name.empty())
      throw Error::Invalid("kube_invalid_namespace", std::string(info.kind) + " is cluster-scoped: no namespace",
                           "metadata.namespace");
    return path;
  }
  if (namespace_name.empty()) {
    if (all_namespaces_allowed) return path;
    throw Error::Invalid("kube_invalid_namespace", std::string(info.kind) + " needs a namespace", "metadata.namespace");
  }
  if (!is_dns1123_label(namespace_name))
    throw Error::Invalid("kube_invalid_namespace", "namespace '" + namespace_name + "' is not a DNS-1123 label",
                         "metadata.namespace");
  return path + "/namespaces/" + namespace_name;
}

const std::string& string_at(const nlohmann::json& object, const nlohmann::json::json_pointer& pointer) {
  if (!object.contains(pointer) || !object.at(pointer).is_string())
    throw Error::Invalid("kube_object_invalid", "the object has no " + pointer.to_string().substr(1) + " string",
                         pointer.to_string().substr(1));
  return object.at(pointer).get_ref<const std::string&>();
}

}  // namespace

bool is_dns1123_label(std::string_view text) {
  if (text.empty() || text.size() > 63) return false;
  if (!is_lower_alnum(text.front()) || !is_lower_alnum(text.back())) return false;
  for (char c : text)
    if (!is_lower_alnum(c) && c != '-') return false;
  return true;
}

bool is_dns1123_subdomain(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    std::string_view label = text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    // Subdomain labels follow the label rule except for length, bounded as a whole.
    if (label.empty() || !is_lower_alnum(label.front()) || !is_lower_alnum(label.back())) return false;
    for (char c : label)
      if (!is_lower_alnum(c) && c != '-') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool is_label_value(std::string_view text) {
  if (text.empty()) return true;
  if (text.size() > 63 || !is_alnum(text.front()) || !is_alnum(text.back())) return false;
  for (char c : text)
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

ObjectRef ref_of(const nlohmann::json& object) {
  using pointer = nlohmann::json::json_pointer;
  if (!object.is_object()) throw Error::Invalid("kube_object_invalid", "a Kubernetes object must be a JSON object");
  ObjectRef ref;
  ref.api_version = string_at(object, pointer("/apiVersion"));
  ref.kind = string_at(object, pointer("/kind"));
  ref.name = string_at(object, pointer("/metadata/name"));
  if (object.contains(pointer("/metadata/namespace"))) ref.namespace_name = string_at(object, pointer("/metadata/namespace"));
  return ref;
}

std::string object_path(const ObjectRef& ref) {
  const KindInfo& info = kind_info(ref.api_version, ref.kind);
  std::string prefix = scope_prefix(info, ref.namespace_name, false);
  if (!is_dns1123_subdomain(ref.name))
    throw Error::Invalid("kube_invalid_name", ref.kind + " name '" + ref.name + "' is not a DNS-1123 subdomain",
                         "metadata.name");
  return prefix + "/" + std::string(info.plural) + "/" + ref.name;
}

std::string collection_path(const std::string& api_version, const std::string& kind,
                            const std::string& namespace_name) {
  const KindInfo& info = kind_info(api_version, kind);
  return scope_prefix(info, namespace_name, true) + "/" + std::string(info.plural);
}

std::string describe(const ObjectRef& ref) {
  return ref.kind + " " + (ref.namespace_name.empty() ? "" : ref.namespace_name + "/") + ref.name;
}

}  // namespace byoc::kube
