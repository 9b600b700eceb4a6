#include "kube/api_request.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/percent.h"
#include "kube/resources.h"
#include "kube/support_rbac.h"

namespace byoc::kube {
namespace {

using nlohmann::json;
using Segments = std::vector<std::string_view>;

constexpr size_t kMaxQueryParameters = 64;

// Path bytes the gateway accepts: RFC 3986 unreserved characters, ':' and
// '@'. Everything Kubernetes names (DNS-1123 names, "system:…" RBAC names,
// versions, groups) fits; '%' never does, so the gateway and the API server
// can't decode a path differently.
bool is_path_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~' || c == ':' || c == '@' || c == '/';
}

// Printable ASCII only: no controls, no blanks, no byte of a UTF-8 sequence.
bool is_visible_ascii(std::string_view text) {
  return std::ranges::all_of(text, [](char c) { return c > 0x20 && c < 0x7f; });
}

// The segments of "/a/b/c"; nullopt for an empty, "." or ".." segment
// ("//", a trailing "/", "/./"). "/" alone has none.
std::optional<Segments> split_path(std::string_view path) {
  Segments segments;
  if (path == "/") return segments;
  std::string_view rest = path.substr(1);
  while (true) {
    size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") return std::nullopt;
    segments.push_back(segment);
    if (slash == std::string_view::npos) return segments;
    rest = rest.substr(slash + 1);
  }
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  return std::ranges::equal(a, b, [&](char x, char y) { return lower(x) == lower(y); });
}

// Whether the query asks for a watch, read as the API server reads
// `watch`: anything but "0" or "false" (any case) is true, even "" — and
// nullopt for a query it might read otherwise: a ';' (Go drops such a
// pair), an empty pair, a bad escape, `watch` twice, too many pairs.
std::optional<bool> query_watch(std::string_view query) {
  if (query.empty()) return false;
  if (query.find(';') != std::string_view::npos) return std::nullopt;
  bool watch = false;
  bool watch_seen = false;
  size_t pairs = 0;
  while (true) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.empty() || ++pairs > kMaxQueryParameters) return std::nullopt;
    size_t eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    if (*key == "watch") {
      if (watch_seen) return std::nullopt;
      watch_seen = true;
      watch = !(*value == "0" || equals_ignoring_case(*value, "false"));
    }
    if (amp == std::string_view::npos) return watch;
    query = query.substr(amp + 1);
  }
}

// "v1", "v2", "v1beta1", "v1alpha2".
bool is_api_version(std::string_view text) {
  if (text.size() < 2 || text.size() > 20 || text[0] != 'v') return false;
  size_t i = 1;
  auto digits = [&] {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i > start && text[start] != '0';
  };
  if (!digits()) return false;
  if (i == text.size()) return true;
  std::string_view rest = text.substr(i);
  if (rest.starts_with("alpha")) i += 5;
  else if (rest.starts_with("beta")) i += 4;
  else return false;
  return digits() && i == text.size();
}

bool is_api_group(std::string_view text) { return is_dns1123_subdomain(text); }

// The verb of a method on a resource, before a missing name makes a get a
// list or a watch and a delete a deletecollection.
std::string resource_verb(std::string_view method) {
  if (method == "GET" || method == "HEAD") return "get";
  if (method == "POST") return "create";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return "delete";
  return "";
}

// On a non-resource URL, RBAC matches the method in lower case.
std::string non_resource_verb(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
    if (method == known) {
      std::string verb(method);
      std::ranges::transform(verb, verb.begin(), [](char c) { return static_cast<char>(c - 'A' + 'a'); });
      return verb;
    }
  return "";
}

// Below /api/VERSION and /apis/GROUP/VERSION the API server reads
// [watch|proxy/] [namespaces/NS/] RESOURCE [/NAME [/SUBRESOURCE [/…]]]
// (requestinfo.go). What it would read more liberally is refused here:
// anything after a subresource other than a proxy's path.
std::optional<ApiRequest> parse_resource(ApiRequest request, std::string_view method, Segments parts, bool watch) {
  request.resource_request = true;
  request.verb = resource_verb(method);
  if (parts.front() == "watch" || parts.front() == "proxy") {
    if (parts.size() < 2) return std::nullopt;
    if (parts.front() == "watch" && request.verb != "get") return std::nullopt;
    request.verb = std::string(parts.front());
    parts.erase(parts.begin());
  }
  if (parts.front() == "namespaces" && parts.size() > 1) {
    request.namespace_name = std::string(parts[1]);
    if (!is_dns1123_label(parts[1])) return std::nullopt;
    // /namespaces/NS/status and /namespaces/NS/finalize are the namespace's
    // own subresources; anything else there is a resource in NS.
    if (parts.size() > 2 && parts[2] != "status" && parts[2] != "finalize")
      parts.erase(parts.begin(), parts.begin() + 2);
  }
  request.resource = std::string(parts[0]);
  if (parts.size() > 1) request.name = std::string(parts[1]);
  if (parts.size() > 2 && request.verb != "proxy") request.subresource = std::string(parts[2]);
  bool proxied = request.verb == "proxy" || request.subresource == "proxy";
  if (parts.size() > 3 && !proxied) return std::nullopt;
  if (!is_dns1123_label(request.resource) || (!request.subresource.empty() && !is_dns1123_label(request.subresource)))
    return std::nullopt;
  if (request.name.empty() && request.verb == "get") request.verb = watch ? "watch" : "list";
  if (request.name.empty() && request.verb == "delete") request.verb = "deletecollection";
  return request;
}

ReadOnlyDecision refuse(SupportRefusal refusal, std::string message) { return {refusal, std::move(message)}; }

// What changes something: the verbs of writes on resources, and the
// methods of writes on non-resource URLs.
bool is_write_verb(std::string_view verb) {
  for (std::string_view write : {"create", "update", "patch", "delete", "deletecollection", "post", "put"})
    if (verb == write) return true;
  return false;
}

// The discovery documents kubectl reads before anything else.
bool is_discovery_path(std::string_view path) {
  auto segments = split_path(path);
  if (!segments || segments->empty()) return false;
  const Segments& s = *segments;
  if (s[0] == "api") return s.size() == 1 || (s.size() == 2 && is_api_version(s[1]));
  if (s[0] == "apis")
    return s.size() == 1 || (s.size() == 2 && is_api_group(s[1])) ||
           (s.size() == 3 && is_api_group(s[1]) && is_api_version(s[2]));
  if (s[0] == "version") return s.size() == 1;
  // /openapi/v3 is an index of one document per group version below it.
  if (s[0] == "openapi") return (s.size() == 2 && s[1] == "v2") || (s.size() >= 2 && s[1] == "v3");
  return false;
}

ReadOnlyDecision check_non_resource(const ApiRequest& request) {
  if (is_write_verb(request.verb))
    return refuse(SupportRefusal::kWrite, request.verb + " " + request.path + ": support access is read-only");
  if (request.verb == "get" && is_discovery_path(request.path)) return {};
  return refuse(SupportRefusal::kNotInScope, request.verb + " " + request.path + " is not in the troubleshooting set");
}

// "pods", "pods/log", "deployments.apps", "deployments.apps/scale".
std::string qualified_resource(const ApiRequest& request) {
  std::string out = request.resource;
  if (!request.api_group.empty()) out += "." + request.api_group;
  if (!request.subresource.empty()) out += "/" + request.subresource;
  return out;
}

bool is_core(const ApiRequest& request, std::string_view resource) {
  return request.api_group.empty() && request.resource == resource;
}

}  // namespace

std::optional<ApiRequest> parse_api_request(std::string_view method, std::string_view target) {
  if (target.empty() || target.front() != '/' || !is_visible_ascii(target)) return std::nullopt;
  if (target.find('#') != std::string_view::npos) return std::nullopt;
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query = question == std::string_view::npos ? "" : target.substr(question + 1);
  if (path.size() > kMaxApiPathBytes || query.size() > kMaxApiQueryBytes) return std::nullopt;
  if (!std::ranges::all_of(path, is_path_byte)) return std::nullopt;
  auto segments = split_path(path);
  auto watch = query_watch(query);
  if (!segments || !watch) return std::nullopt;

  ApiRequest request;
  request.path = std::string(path);
  const Segments& s = *segments;
  // /api/VERSION/… and /apis/GROUP/VERSION/… with at least a resource
  // after them; anything shorter or elsewhere is a non-resource URL.
  bool core = s.size() >= 3 && s[0] == "api";
  bool grouped = s.size() >= 4 && s[0] == "apis";
  if (!core && !grouped) {
    request.verb = non_resource_verb(method);
    return request;
  }
  if (grouped) {
    request.api_group = std::string(s[1]);
    if (!is_api_group(request.api_group)) return std::nullopt;
  }
  size_t version_at = grouped ? 2 : 1;
  request.api_version = std::string(s[version_at]);
  if (!is_api_version(request.api_version)) return std::nullopt;
  return parse_resource(std::move(request), method, Segments(s.begin() + version_at + 1, s.end()), *watch);
}

std::string_view refusal_code(SupportRefusal refusal) {
  switch (refusal) {
    case SupportRefusal::kWrite: return "write_refused";
    case SupportRefusal::kSecrets: return "secrets_refused";
    case SupportRefusal::kConfigMaps: return "configmaps_refused";
    case SupportRefusal::kExec: return "exec_refused";
    case SupportRefusal::kProxy: return "proxy_refused";
    case SupportRefusal::kToken: return "token_refused";
    case SupportRefusal::kEphemeral: return "ephemeral_refused";
    case SupportRefusal::kNotInScope: return "not_in_scope";
    case SupportRefusal::kUnknownRequest: return "unknown_request";
  }
  return "unknown_request";
}

// The specific refusals come before the write check so that a POST to
// pods/exec says "exec", not merely "write".
ReadOnlyDecision check_support_readonly(const ApiRequest& request) {
  if (request.verb.empty())
    return refuse(SupportRefusal::kUnknownRequest, "the request's method has no Kubernetes verb");
  if (!request.resource_request) return check_non_resource(request);
  const std::string& sub = request.subresource;
  if (request.verb == "proxy" || sub == "proxy")
    return refuse(SupportRefusal::kProxy, "proxying through the API server is not part of support access");
  if (sub == "exec" || sub == "attach" || sub == "portforward")
    return refuse(SupportRefusal::kExec, qualified_resource(request) + ": support access runs nothing in a pod");
  if (sub == "ephemeralcontainers")
    return refuse(SupportRefusal::kEphemeral, "ephemeral containers: support access runs nothing in a pod");
  if (sub == "token")
    return refuse(SupportRefusal::kToken, "service-account tokens are never issued through support access");
  if (is_core(request, "secrets"))
    return refuse(SupportRefusal::kSecrets, "secrets are never readable through support access");
  if (is_core(request, "configmaps"))
    return refuse(SupportRefusal::kConfigMaps, "configmaps are never readable through support access");
  if (is_write_verb(request.verb))
    return refuse(SupportRefusal::kWrite,
                  request.verb + " " + qualified_resource(request) + ": support access is read-only");
  std::string rbac_resource = sub.empty() ? request.resource : request.resource + "/" + sub;
  if (support_readonly_grants(request.api_group, rbac_resource, request.verb)) return {};
  return refuse(SupportRefusal::kNotInScope,
                request.verb + " " + qualified_resource(request) + " is not in the troubleshooting set");
}

json audit_fields(const ApiRequest& request) {
  if (!request.resource_request) return {{"verb", request.verb}, {"path", request.path}};
  return {{"verb", request.verb},
          {"group", request.api_group},
          {"version", request.api_version},
          {"resource", request.resource},
          {"subresource", request.subresource},
          {"namespace", request.namespace_name},
          {"name", request.name}};
}

std::string audit_summary(const ApiRequest& request) {
  if (!request.resource_request) return request.verb + " " + request.path;
  std::string line = request.verb + " " + qualified_resource(request);
  bool namespaced = !request.namespace_name.empty() && request.resource != "namespaces";
  if (!request.name.empty()) return line + " " + (namespaced ? request.namespace_name + "/" : "") + request.name;
  return namespaced ? line + " namespace=" + request.namespace_name : line;
}

}  // namespace byoc::kube
