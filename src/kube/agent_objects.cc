#include "kube/agent_objects.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "kube/resources.h"
#include "kube/support_rbac.h"

namespace byoc::kube {
namespace {

using nlohmann::json;

// Where the pod keeps things. The state volume is mounted one level up and
// the agent makes its own state dir inside: it sets the dir's mode, which it
// can't do on a mount point owned by root.
constexpr const char* kStateMount = "/var/lib/byoc";
constexpr const char* kStateDir = "/var/lib/byoc/agent";
constexpr const char* kJoinMount = "/var/run/byoc/join";
// The image's user (deploy/agent/Dockerfile): numeric, so the kubelet can
// check runAsNonRoot without reading /etc/passwd.
constexpr int kAgentUid = 10001;

Error invalid(const std::string& field, const std::string& message) {
  return Error::Invalid("kube_agent_invalid", message, field);
}

bool has_blank_or_control(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
}

// A Kubernetes quantity as byoc writes them: digits, an optional fraction,
// an optional suffix.
bool is_quantity(const std::string& text) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    return i > start;
  };
  if (!digits()) return false;
  if (i < text.size() && text[i] == '.' && (++i, !digits())) return false;
  static const char* kSuffixes[] = {"", "m", "k", "M", "G", "T", "Ki", "Mi", "Gi", "Ti"};
  std::string suffix = text.substr(i);
  return std::any_of(std::begin(kSuffixes), std::end(kSuffixes), [&](const char* s) { return suffix == s; });
}

// Each option becomes one `KEY=VALUE` argument: a key the agent could
// mistake for a flag, or a value that would split or smuggle another, is
// refused rather than quoted.
void check_runtime_options(const AgentInstall& in) {
  if (!in.runtime_options.empty() && in.runtime.empty())
    throw invalid("runtime_options", "runtime options need a runtime to be given to");
  for (const auto& [key, value] : in.runtime_options) {
    if (!is_dns1123_label(key))
      throw invalid("runtime_options",
                    "the runtime option key '" + key + "' is not a DNS label (like environment-cidr)");
    if (value.empty() || value.size() > 1024 || has_blank_or_control(value) || value.find(',') != std::string::npos)
      throw invalid("runtime_options", "the runtime option " + key +
                                           " needs a value of at most 1024 characters without blanks, commas or "
                                           "control characters");
  }
}

void check(const AgentInstall& in) {
  if (!is_dns1123_label(in.namespace_name))
    throw invalid("namespace", "the agent's namespace '" + in.namespace_name + "' is not a DNS-1123 label");
  if (in.environment_id.empty() || !is_label_value(in.environment_id))
    throw invalid("environment_id", "the environment id must be a Kubernetes label value");
  if (in.image.empty() || in.image.size() > 512 || has_blank_or_control(in.image))
    throw invalid("agent_image", "the agent image must be a non-empty image reference without blanks");
  if (in.server_urls.empty()) throw invalid("server", "the agent needs at least one management-plane URL");
  for (const auto& url : in.server_urls)
    if (url.rfind("https://", 0) != 0 || url.size() == 8 || has_blank_or_control(url) ||
        url.find(',') != std::string::npos)
      throw invalid("server", "management-plane URLs must be https:// URLs without blanks or commas");
  // Not echoed: it is a secret.
  if (in.join_token.empty() || has_blank_or_control(in.join_token))
    throw invalid("join_token", "the join token is empty or holds blanks");
  if (!is_dns1123_label(in.services_namespace) || in.services_namespace == in.namespace_name)
    throw invalid("services_namespace", "the services' namespace '" + in.services_namespace +
                                            "' must be a DNS-1123 label other than the agent's");
  if (!in.runtime.empty() && !is_dns1123_label(in.runtime))
    throw invalid("runtime", "the agent runtime '" + in.runtime + "' is not a plain name");
  check_runtime_options(in);
  if (!in.state_volume_claim.empty() && !is_dns1123_subdomain(in.state_volume_claim))
    throw invalid("state_volume_claim", "the state volume claim '" + in.state_volume_claim + "' is not a DNS-1123 name");
  const AgentResources& r = in.resources;
  for (const auto& [field, value, required] :
       {std::tuple{"cpu_request", r.cpu_request, true}, {"memory_request", r.memory_request, true},
        {"cpu_limit", r.cpu_limit, false}, {"memory_limit", r.memory_limit, false}})
    if ((required || !value.empty()) && !is_quantity(value))
      throw invalid(field, std::string(field) + " '" + value + "' is not a Kubernetes quantity (like 250m or 512Mi)");
}

json labels(const AgentInstall& in) {
  return {{"app.kubernetes.io/name", kAgentName},
          {"app.kubernetes.io/managed-by", "byoc"},
          {"byoc.io/environment", in.environment_id}};
}

// What selects the agent's pod (a subset of its labels).
json agent_selector(const AgentInstall& in) {
  return {{"app.kubernetes.io/name", kAgentName}, {"byoc.io/environment", in.environment_id}};
}

json object(const char* api_version, const char* kind, const std::string& name, const AgentInstall& in,
            bool namespaced = true) {
  json o = {{"apiVersion", api_version}, {"kind", kind}, {"metadata", {{"name", name}, {"labels", labels(in)}}}};
  if (namespaced) o["metadata"]["namespace"] = in.namespace_name;
  return o;
}

// Pod Security Admission refuses any pod of the namespace that doesn't meet
// `restricted` (non-root, no privilege escalation, every capability
// dropped, seccomp RuntimeDefault, no host namespaces or paths): neither the
// agent nor anything it applies (or anyone with its rights) can run a
// privileged pod there. See kPodSecurityVersion for the pinned version.
json namespace_object(const std::string& name, const AgentInstall& in) {
  json o = object("v1", "Namespace", name, in, false);
  json& l = o["metadata"]["labels"];
  l["pod-security.kubernetes.io/enforce"] = kPodSecurityLevel;
  l["pod-security.kubernetes.io/enforce-version"] = kPodSecurityVersion;
  l["pod-security.kubernetes.io/warn"] = kPodSecurityLevel;
  l["pod-security.kubernetes.io/warn-version"] = "latest";
  l["pod-security.kubernetes.io/audit"] = kPodSecurityLevel;
  l["pod-security.kubernetes.io/audit-version"] = "latest";
  return o;
}

json rule(const std::string& api_group, const std::vector<std::string>& resources, const json& verbs) {
  return {{"apiGroups", json::array({api_group})}, {"resources", resources}, {"verbs", verbs}};
}

// What the agent does in the services' namespace, verb by verb what the
// kubernetes runtime sends there: server-side apply (a PATCH, which needs
// `create` as well when the object is missing: the API server authorizes
// that create separately), get and list, delete (pruning, remove()), and
// watch only on what its informers watch (StatefulSets, Deployments, Pods,
// Services). Of pods, only their status is written: the condition that lets
// a replica serve (render/kubernetes kServingCondition). Volume claims are
// read and deleted with their service or the replica that left. No `update`, no exec, no nodes, nothing cluster-wide.
json role(const AgentInstall& in) {
  const json applied = {"get", "list", "create", "patch", "delete"};
  const json applied_and_watched = {"get", "list", "watch", "create", "patch", "delete"};
  json o = object("rbac.authorization.k8s.io/v1", "Role", kAgentName, in);
  o["metadata"]["namespace"] = in.services_namespace;
  o["rules"] = json::array({
      rule("", {"pods"}, {"get", "list", "watch"}),
      rule("", {"pods/status"}, {"patch"}),
      rule("", {"persistentvolumeclaims"}, {"get", "list", "delete"}),
      rule("", {"services"}, applied_and_watched),
      rule("", {"configmaps", "secrets"}, applied),
      rule("apps", {"statefulsets", "deployments"}, applied_and_watched),
      rule("policy", {"poddisruptionbudgets"}, applied),
      rule("networking.k8s.io", {"networkpolicies"}, applied),
      rule("batch", {"jobs"}, applied),
  });
  return o;
}

json role_binding(const AgentInstall& in) {
  json o = object("rbac.authorization.k8s.io/v1", "RoleBinding", kAgentName, in);
  o["metadata"]["namespace"] = in.services_namespace;
  o["roleRef"] = {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", kAgentName}};
  o["subjects"] = json::array({{{"kind", "ServiceAccount"}, {"name", kAgentName}, {"namespace", in.namespace_name}}});
  return o;
}

json join_secret(const AgentInstall& in) {
  json o = object("v1", "Secret", kAgentJoinSecret, in);
  o["type"] = "Opaque";
  o["stringData"] = {{kAgentJoinTokenKey, in.join_token}};
  return o;
}

std::vector<std::string> agent_args(const AgentInstall& in) {
  std::string servers;
  for (const auto& url : in.server_urls) servers += (servers.empty() ? "" : ",") + url;
  std::vector<std::string> args = {"--state-dir", kStateDir, "--server", servers, "--join-token-file",
                                   std::string(kJoinMount) + "/" + kAgentJoinTokenKey};
  if (!in.runtime.empty()) args.insert(args.end(), {"--runtime", in.runtime});
  for (const auto& [key, value] : in.runtime_options) args.insert(args.end(), {"--runtime-option", key + "=" + value});
  return args;
}

json resources(const AgentResources& r) {
  json out = {{"requests", {{"cpu", r.cpu_request}, {"memory", r.memory_request}}}, {"limits", json::object()}};
  if (!r.cpu_limit.empty()) out["limits"]["cpu"] = r.cpu_limit;
  if (!r.memory_limit.empty()) out["limits"]["memory"] = r.memory_limit;
  if (out["limits"].empty()) out.erase("limits");
  return out;
}

json pod_spec(const AgentInstall& in) {
  json container = {
      {"name", "agent"},
      {"image", in.image},
      {"command", {"byoc", "agent"}},
      {"args", agent_args(in)},
      {"resources", resources(in.resources)},
      {"ports", json::array({{{"name", "gateway-check"}, {"containerPort", kAgentGatewayCheckPort}},
                             {{"name", "kube-proxy"}, {"containerPort", kAgentKubeProxyPort}}})},
      {"volumeMounts", json::array({{{"name", "state"}, {"mountPath", kStateMount}},
                                    {{"name", "join-token"}, {"mountPath", kJoinMount}, {"readOnly", true}},
                                    {{"name", "tmp"}, {"mountPath", "/tmp"}}})},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities", {{"drop", {"ALL"}}}}}},
  };
  json state = in.state_volume_claim.empty()
                   ? json{{"name", "state"}, {"emptyDir", json::object()}}
                   : json{{"name", "state"}, {"persistentVolumeClaim", {{"claimName", in.state_volume_claim}}}};
  return {
      {"serviceAccountName", kAgentName},
      // Stopping its services in order takes the agent a while.
      {"terminationGracePeriodSeconds", 60},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", kAgentUid},
        {"runAsGroup", kAgentUid},
        {"fsGroup", kAgentUid},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"containers", json::array({container})},
      {"volumes", json::array({state,
                               // 0440 with fsGroup: the agent's group reads it, nobody writes it.
                               {{"name", "join-token"}, {"secret", {{"secretName", kAgentJoinSecret}, {"defaultMode", 0440}}}},
                               {{"name", "tmp"}, {"emptyDir", json::object()}}})},
  };
}

json deployment(const AgentInstall& in) {
  json o = object("apps/v1", "Deployment", kAgentName, in);
  o["spec"] = {
      {"replicas", 1},
      // One agent per environment at a time: it holds a lock in its state
      // dir, and a second pod would contend for the same volume.
      {"strategy", {{"type", "Recreate"}}},
      {"selector", {{"matchLabels", agent_selector(in)}}},
      {"template", {{"metadata", {{"labels", labels(in)}}}, {"spec", pod_spec(in)}}},
  };
  return o;
}

// Where the services' gateways reach the agent (render/kubernetes:
// kGatewayCheckPort, kKubeProxyPort).
json agent_service(const AgentInstall& in) {
  json o = object("v1", "Service", kAgentName, in);
  o["spec"] = {{"type", "ClusterIP"},
               {"selector", agent_selector(in)},
               {"ports", json::array({{{"name", "gateway-check"}, {"port", kAgentGatewayCheckPort},
                                       {"targetPort", kAgentGatewayCheckPort}, {"protocol", "TCP"}},
                                      {{"name", "kube-proxy"}, {"port", kAgentKubeProxyPort},
                                       {"targetPort", kAgentKubeProxyPort}, {"protocol", "TCP"}}})}};
  return o;
}

// Who may reach the agent: the services' endpoint pods (their support
// gateway calls the gateway check and the Kubernetes support proxy), on
// those two ports; nothing else in the cluster, or outside it.
json agent_network_policy(const AgentInstall& in) {
  json o = object("networking.k8s.io/v1", "NetworkPolicy", kAgentName, in);
  // kubernetes.io/metadata.name: the label the API server sets on every
  // namespace to its name, which no one can change.
  json endpoints = {
      {"namespaceSelector", {{"matchLabels", {{"kubernetes.io/metadata.name", in.services_namespace}}}}},
      {"podSelector",
       {{"matchLabels",
         {{"app.kubernetes.io/name", kServicesEndpointApp}, {"byoc.io/environment", in.environment_id}}}}}};
  json ports = json::array({{{"protocol", "TCP"}, {"port", kAgentGatewayCheckPort}},
                            {{"protocol", "TCP"}, {"port", kAgentKubeProxyPort}}});
  o["spec"] = {{"podSelector", {{"matchLabels", agent_selector(in)}}},
               {"policyTypes", json::array({"Ingress"})},
               {"ingress", json::array({{{"from", json::array({endpoints})}, {"ports", ports}}})}};
  return o;
}

}  // namespace

std::vector<json> render_agent_objects(const AgentInstall& install) {
  check(install);
  std::vector<json> out = {namespace_object(install.namespace_name, install),
                           namespace_object(install.services_namespace, install),
                           object("v1", "ServiceAccount", kAgentName, install),
                           role(install),
                           role_binding(install)};
  if (install.runtime == "kubernetes") {
    SupportRbacOptions rbac;
    rbac.environment_id = install.environment_id;
    rbac.agent_namespace = install.namespace_name;
    rbac.agent_service_account = kAgentName;
    for (auto& o : render_support_rbac(rbac)) out.push_back(std::move(o));
  }
  out.push_back(agent_service(install));
  out.push_back(agent_network_policy(install));
  out.push_back(join_secret(install));
  out.push_back(deployment(install));
  return out;
}

}  // namespace byoc::kube
