// The RBAC of the `kubernetes-readonly` access scope, as Kubernetes objects
// in the order they must be applied. Pure: no I/O.
//
// An on-call engineer's requests reach the API server through the support
// gateway, which sends them with the agent's credentials plus impersonation
// headers: user byoc-support, group byoc:support-readonly and the grant id
// in the extra byoc-grant. So two grants are rendered:
//   - ClusterRole byoc-support-readonly, bound to that group: get, list and
//     watch on a fixed troubleshooting set (pods and their logs, events,
//     workloads, storage, nodes, network policies…) — never secrets,
//     configmaps, exec/attach/port-forward, proxies, tokens, ephemeral
//     containers, a write verb or a "*";
//   - ClusterRole byoc-agent-impersonate, bound to the agent's
//     ServiceAccount: it may impersonate that one user and that one group,
//     by name, and set that one extra.
// The troubleshooting set is one table (support_rbac.cc) that renders the
// role and answers support_readonly_grants(), which the gateway's own check
// (api_request.h) uses: the gateway and the API server refuse the same
// requests.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "kube/agent_objects.h"

namespace byoc::kube {

// Whom the gateway impersonates. RBAC `resourceNames` match exact names, so
// the user is fixed and the grant rides in an extra (its value varies).
inline constexpr const char* kSupportUser = "byoc-support";
inline constexpr const char* kSupportGroup = "byoc:support-readonly";
inline constexpr const char* kSupportGrantExtraKey = "byoc-grant";

// The headers the gateway adds to every forwarded request.
inline constexpr const char* kImpersonateUserHeader = "Impersonate-User";
inline constexpr const char* kImpersonateGroupHeader = "Impersonate-Group";
inline constexpr const char* kImpersonateGrantHeader = "Impersonate-Extra-byoc-grant";

// Names of the rendered objects (each ClusterRoleBinding is named as its role).
inline constexpr const char* kSupportReadonlyRole = "byoc-support-readonly";
inline constexpr const char* kAgentImpersonateRole = "byoc-agent-impersonate";

struct SupportRbacOptions {
  std::string environment_id;  // labels every object, as the agent's install does
  // The agent's ServiceAccount: the one subject that may impersonate.
  std::string agent_namespace = "byoc-system";
  std::string agent_service_account = kAgentName;
};

// One line of the troubleshooting set: the verbs granted on a resource of
// an API group. `resource` is as RBAC names it: "pods", or "pods/log" for a
// subresource.
struct ReadableResource {
  std::string_view api_group;  // "" for the core group
  std::string_view resource;
  std::span<const std::string_view> verbs;  // a subset of get, list, watch
};

// The troubleshooting set, in the order the role lists it.
std::span<const ReadableResource> support_readonly_resources();

// Whether the role grants `verb` on `resource` ("pods", "pods/log") of
// `api_group`: exactly what an RBAC check against the rendered
// byoc-support-readonly would answer (it has no resourceNames).
bool support_readonly_grants(std::string_view api_group, std::string_view resource, std::string_view verb);

// ClusterRole byoc-support-readonly, its ClusterRoleBinding to the group,
// ClusterRole byoc-agent-impersonate, its ClusterRoleBinding to the agent's
// ServiceAccount. Throws byoc::Error kInvalid "kube_support_rbac_invalid"
// (field named) for an environment id that can't be a label value, a
// namespace that is not DNS-1123 or a ServiceAccount name that is not a
// DNS-1123 subdomain.
std::vector<nlohmann::json> render_support_rbac(const SupportRbacOptions& options);

}  // namespace byoc::kube
