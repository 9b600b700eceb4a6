// Where a Kubernetes object lives in the API: the REST path of an object or
// of a collection, from its apiVersion, kind, namespace and name. A small
// closed table of the kinds byoc writes stands in for API discovery, so a
// path is never built from a kind, group or name nobody checked: names and
// namespaces must be DNS-1123 (they go into the path), an apiVersion/kind
// pair must be in the table. Pure, no I/O.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace byoc::kube {

// Which object: what apply, get and remove address.
struct ObjectRef {
  std::string api_version;  // "v1", "apps/v1", …
  std::string kind;         // "Deployment"
  std::string namespace_name;  // "" for cluster-scoped kinds
  std::string name;
};

// RFC 1123 label: 1–63 of [a-z0-9-], starting and ending alphanumeric
// (namespaces, Service names).
bool is_dns1123_label(std::string_view text);
// RFC 1123 subdomain: 1–253 of [a-z0-9.-], dot-separated labels (most
// object names).
bool is_dns1123_subdomain(std::string_view text);
// A label value: 0–63 of [A-Za-z0-9._-], starting and ending alphanumeric.
bool is_label_value(std::string_view text);

// The ref of `object` (its apiVersion, kind, metadata.namespace and
// metadata.name). Throws byoc::Error kInvalid "kube_object_invalid" when one
// of them is missing or not a string.
ObjectRef ref_of(const nlohmann::json& object);

// "/api/v1/namespaces/NS/secrets/NAME", "/apis/apps/v1/namespaces/NS/deployments/NAME",
// "/api/v1/namespaces/NAME"… Throws byoc::Error kInvalid: "kube_unknown_kind"
// (apiVersion/kind not in the table), "kube_invalid_name",
// "kube_invalid_namespace" (not DNS-1123; missing for a namespaced kind, or
// given for a cluster-scoped one).
std::string object_path(const ObjectRef& ref);
// The collection: "/api/v1/namespaces/NS/pods"; for a namespaced kind an
// empty namespace means every namespace ("/api/v1/pods").
std::string collection_path(const std::string& api_version, const std::string& kind,
                            const std::string& namespace_name);

// "Deployment byoc-system/byoc-agent": for messages and logs.
std::string describe(const ObjectRef& ref);

}  // namespace byoc::kube
