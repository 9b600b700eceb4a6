// The Kubernetes objects that install byoc's agent in a cluster, in the
// order they must be applied: the agent's Namespace and the services'
// Namespace (both enforcing the `restricted` Pod Security Standard),
// ServiceAccount, the Role and RoleBinding of what the agent runs (in the
// services' namespace), with the kubernetes runtime the RBAC of the
// kubernetes-readonly scope (support_rbac.h), the agent's Service (its
// gateway check and Kubernetes support proxy, which the services' gateways
// call), the NetworkPolicy that admits only those gateways, Secret (the join
// token), Deployment (one `byoc agent`). Pure: no I/O.
//
// The agent gets only what it needs, in the services' namespace: no
// wildcard, no exec, no nodes, no `update`, `watch` only on what the
// runtime watches; the one cluster-wide right is to impersonate the
// read-only support user, group and grant extra. The join token is read
// from the Secret, mounted as a file — never on a command line, in an
// environment variable (children inherit those) or in the Deployment. The
// pod runs as a non-root user on a read-only root filesystem with every
// capability dropped.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace byoc::kube {

// Kubernetes quantities ("250m", "512Mi"); an empty limit is not set.
struct AgentResources {
  std::string cpu_request = "100m";
  std::string memory_request = "256Mi";
  std::string cpu_limit;  // none by default: CPU is throttled, not needed as a cap
  std::string memory_limit = "512Mi";
};

struct AgentInstall {
  std::string namespace_name = "byoc-system";
  std::string environment_id;            // labels every object
  std::string image;                     // the agent's image (`--agent-image`)
  std::vector<std::string> server_urls;  // the management plane's https:// URLs
  // The single-use join token; it carries the server CA's SHA-256, which the
  // agent checks before it sends the token (so no separate CA pin is needed).
  std::string join_token;
  std::string runtime;  // `byoc agent --runtime`; "" leaves the agent's default
  // The runtime's settings, each `--runtime-option KEY=VALUE` after
  // `--runtime` (on AWS: environment-cidr). Keys are DNS labels; values have
  // no blank, comma or control character. They are on the command line, so
  // never a secret.
  std::map<std::string, std::string> runtime_options;
  // Where the kubernetes runtime makes the services (render/kubernetes'
  // namespace): its Namespace, and the agent's rights in it.
  std::string services_namespace = "byoc-services";
  // A PersistentVolumeClaim for the agent's state (keys, desired state);
  // "" keeps it on an emptyDir, which outlives container restarts but not
  // the pod: a rescheduled agent would need a new join token.
  std::string state_volume_claim;
  AgentResources resources;
};

// Names of the installed objects, for callers that look them up.
inline constexpr const char* kAgentName = "byoc-agent";             // SA, Role, binding, Deployment
inline constexpr const char* kAgentJoinSecret = "byoc-agent-join";
inline constexpr const char* kAgentJoinTokenKey = "join-token";
// Where the services' support gateways reach the agent (its Service):
// the gateway check, and the kubernetes-readonly proxy.
inline constexpr int kAgentGatewayCheckPort = 8081;
inline constexpr int kAgentKubeProxyPort = 8082;
// app.kubernetes.io/name of the services' endpoint pods (render/kubernetes'
// kEndpointApp): the only pods the agent's NetworkPolicy admits.
inline constexpr const char* kServicesEndpointApp = "endpoint";
// The Pod Security Standard both namespaces enforce, as of this Kubernetes
// version (the schemas byoc's objects are checked against): a cluster
// upgrade that tightens `restricted` can't start refusing running
// workloads' new pods. `warn` and `audit` follow `latest`, so a tightening
// shows as API warnings and audit annotations before anything is refused.
inline constexpr const char* kPodSecurityLevel = "restricted";
inline constexpr const char* kPodSecurityVersion = "v1.33";

// Throws byoc::Error kInvalid "kube_agent_invalid" (field named) for an
// empty or blank image, a URL that is not https:// (or holds a comma, which
// separates them on the agent's command line), a namespace that is not
// DNS-1123, an environment id that can't be a label value, an empty token,
// a runtime option that is not KEY=VALUE as above (or given without a
// runtime) or a malformed quantity.
std::vector<nlohmann::json> render_agent_objects(const AgentInstall& install);

}  // namespace byoc::kube
