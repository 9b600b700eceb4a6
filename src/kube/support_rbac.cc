#include "kube/support_rbac.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "kube/resources.h"

namespace byoc::kube {
namespace {

using nlohmann::json;

constexpr std::string_view kGetListWatch[] = {"get", "list", "watch"};
// A log is read, never listed; the metrics API serves get and list only.
constexpr std::string_view kGet[] = {"get"};
constexpr std::string_view kGetList[] = {"get", "list"};

// What an engineer needs to see why a pod won't start, a volume won't
// attach or a node is unhealthy — and nothing that holds a credential
// (secrets, configmaps, service-account tokens) or runs anything (exec,
// attach, port-forward, proxies, ephemeral containers). A resource not here
// is refused, by the API server and by the gateway.
constexpr ReadableResource kTroubleshootingSet[] = {
    {"", "pods", kGetListWatch},
    {"", "events", kGetListWatch},
    {"", "services", kGetListWatch},
    {"", "endpoints", kGetListWatch},
    {"", "persistentvolumeclaims", kGetListWatch},
    {"", "persistentvolumes", kGetListWatch},
    {"", "nodes", kGetListWatch},
    {"", "namespaces", kGetListWatch},
    {"", "resourcequotas", kGetListWatch},
    {"", "limitranges", kGetListWatch},
    {"", "pods/log", kGet},
    {"events.k8s.io", "events", kGetListWatch},
    {"discovery.k8s.io", "endpointslices", kGetListWatch},
    {"storage.k8s.io", "storageclasses", kGetListWatch},
    {"storage.k8s.io", "volumeattachments", kGetListWatch},
    {"storage.k8s.io", "csidrivers", kGetListWatch},
    {"storage.k8s.io", "csinodes", kGetListWatch},
    {"apps", "statefulsets", kGetListWatch},
    {"apps", "deployments", kGetListWatch},
    {"apps", "daemonsets", kGetListWatch},
    {"apps", "replicasets", kGetListWatch},
    {"apps", "controllerrevisions", kGetListWatch},
    {"batch", "jobs", kGetListWatch},
    {"batch", "cronjobs", kGetListWatch},
    {"policy", "poddisruptionbudgets", kGetListWatch},
    {"networking.k8s.io", "networkpolicies", kGetListWatch},
    {"networking.k8s.io", "ingresses", kGetListWatch},
    {"autoscaling", "horizontalpodautoscalers", kGetListWatch},
    // `kubectl top`, when the cluster runs metrics-server.
    {"metrics.k8s.io", "pods", kGetList},
    {"metrics.k8s.io", "nodes", kGetList},
};

Error invalid(const std::string& field, const std::string& message) {
  return Error::Invalid("kube_support_rbac_invalid", message, field);
}

void check(const SupportRbacOptions& options) {
  if (options.environment_id.empty() || !is_label_value(options.environment_id))
    throw invalid("environment_id", "the environment id must be a Kubernetes label value");
  if (!is_dns1123_label(options.agent_namespace))
    throw invalid("agent_namespace", "the agent's namespace '" + options.agent_namespace + "' is not a DNS-1123 label");
  if (!is_dns1123_subdomain(options.agent_service_account))
    throw invalid("agent_service_account",
                  "the agent's service account '" + options.agent_service_account + "' is not a DNS-1123 name");
}

json cluster_object(const char* kind, const char* name, const SupportRbacOptions& options) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", kind},
          {"metadata",
           {{"name", name},
            {"labels",
             {{"app.kubernetes.io/name", name},
              // One selector for the four objects, to find or prune them together.
              {"app.kubernetes.io/component", "support-access"},
              {"app.kubernetes.io/managed-by", "byoc"},
              {"byoc.io/environment", options.environment_id}}}}}};
}

json strings(std::span<const std::string_view> values) {
  json out = json::array();
  for (auto v : values) out.push_back(std::string(v));
  return out;
}

// One rule per run of the table with the same group and verbs, in table
// order: a reviewer reads the role as the table reads.
json readonly_rules() {
  json rules = json::array();
  const ReadableResource* previous = nullptr;
  for (const auto& entry : kTroubleshootingSet) {
    bool same_rule = previous && previous->api_group == entry.api_group &&
                     std::ranges::equal(previous->verbs, entry.verbs);
    if (!same_rule)
      rules.push_back({{"apiGroups", {std::string(entry.api_group)}},
                       {"resources", json::array()},
                       {"verbs", strings(entry.verbs)}});
    rules.back()["resources"].push_back(std::string(entry.resource));
    previous = &entry;
  }
  return rules;
}

json readonly_role(const SupportRbacOptions& options) {
  json o = cluster_object("ClusterRole", kSupportReadonlyRole, options);
  // No nonResourceURLs: discovery (/api, /apis, /openapi, /version) comes
  // from the built-in system:discovery role, which the API server grants
  // every authenticated user — an impersonated one included.
  o["rules"] = readonly_rules();
  return o;
}

json binding(const char* name, const json& subject, const SupportRbacOptions& options) {
  json o = cluster_object("ClusterRoleBinding", name, options);
  o["roleRef"] = {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", name}};
  o["subjects"] = json::array({subject});
  return o;
}

json impersonate_role(const SupportRbacOptions& options) {
  json o = cluster_object("ClusterRole", kAgentImpersonateRole, options);
  o["rules"] = json::array({
      {{"apiGroups", {""}}, {"resources", {"users"}}, {"verbs", {"impersonate"}}, {"resourceNames", {kSupportUser}}},
      {{"apiGroups", {""}}, {"resources", {"groups"}}, {"verbs", {"impersonate"}}, {"resourceNames", {kSupportGroup}}},
      // No resourceNames: for an extra they name the values it may take, and
      // the value is the grant id, new with every grant. Only this key may be
      // set; the grant it carries is the gateway's to check.
      {{"apiGroups", {"authentication.k8s.io"}},
       {"resources", {std::string("userextras/") + kSupportGrantExtraKey}},
       {"verbs", {"impersonate"}}},
  });
  return o;
}

}  // namespace

std::span<const ReadableResource> support_readonly_resources() { return kTroubleshootingSet; }

bool support_readonly_grants(std::string_view api_group, std::string_view resource, std::string_view verb) {
  return std::ranges::any_of(kTroubleshootingSet, [&](const ReadableResource& entry) {
    return entry.api_group == api_group && entry.resource == resource &&
           std::ranges::find(entry.verbs, verb) != entry.verbs.end();
  });
}

std::vector<json> render_support_rbac(const SupportRbacOptions& options) {
  check(options);
  json group = {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Group"}, {"name", kSupportGroup}};
  json service_account = {
      {"kind", "ServiceAccount"}, {"name", options.agent_service_account}, {"namespace", options.agent_namespace}};
  return {
      readonly_role(options),
      binding(kSupportReadonlyRole, group, options),
      impersonate_role(options),
      binding(kAgentImpersonateRole, service_account, options),
  };
}

}  // namespace byoc::kube
