# The `kubernetes-readonly` access scope, pure: the RBAC rendered for it
# (support_rbac) and the support gateway's reading of a Kubernetes API
# request and its read-only check (api_request).
add_library(byoc_kube_access STATIC support_rbac.cc api_request.cc)
target_link_libraries(byoc_kube_access PUBLIC byoc_kube)
