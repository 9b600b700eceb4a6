#include "kube/api_request.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kube/support_rbac.h"
#include "rbac_rules.h"

namespace byoc::kube {
namespace {

using nlohmann::json;
using testing::role_allows;

// What parsing must find, in one line: verb, group, version, namespace,
// resource, subresource, name.
struct Expected {
  std::string verb, group, version, namespace_name, resource, subresource, name;
};

void expect_parsed(std::string_view method, std::string_view target, const Expected& e) {
  SCOPED_TRACE(std::string(method) + " " + std::string(target));
  auto r = parse_api_request(method, target);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->resource_request);
  EXPECT_EQ(r->verb, e.verb);
  EXPECT_EQ(r->api_group, e.group);
  EXPECT_EQ(r->api_version, e.version);
  EXPECT_EQ(r->namespace_name, e.namespace_name);
  EXPECT_EQ(r->resource, e.resource);
  EXPECT_EQ(r->subresource, e.subresource);
  EXPECT_EQ(r->name, e.name);
}

// "" when allowed, else the refusal's code; "(malformed)" when not parsed.
std::string decision(std::string_view method, std::string_view target) {
  auto r = parse_api_request(method, target);
  if (!r) return "(malformed)";
  auto d = check_support_readonly(*r);
  EXPECT_FALSE(d.message.empty() && !d.allowed());
  EXPECT_EQ(d.message.find('\n'), std::string::npos);
  return d.allowed() ? "" : std::string(refusal_code(*d.refusal));
}

TEST(ApiRequest, WhatKubectlSendsIsReadAsTheAuthorizerReadsIt) {
  // kubectl get pods -n x
  expect_parsed("GET", "/api/v1/namespaces/x/pods?limit=500", {"list", "", "v1", "x", "pods", "", ""});
  // kubectl get pod p -n x -o yaml
  expect_parsed("GET", "/api/v1/namespaces/x/pods/p", {"get", "", "v1", "x", "pods", "", "p"});
  // kubectl get pods -A
  expect_parsed("GET", "/api/v1/pods?limit=500", {"list", "", "v1", "", "pods", "", ""});
  // kubectl logs p -c clickhouse -f
  expect_parsed("GET", "/api/v1/namespaces/x/pods/p/log?container=clickhouse&follow=true",
                {"get", "", "v1", "x", "pods", "log", "p"});
  // kubectl get pods -w
  expect_parsed("GET", "/api/v1/namespaces/x/pods?resourceVersion=123&watch=true",
                {"watch", "", "v1", "x", "pods", "", ""});
  expect_parsed("GET", "/api/v1/namespaces/x/pods?watch=1", {"watch", "", "v1", "x", "pods", "", ""});
  // The legacy watch path, with and without a name.
  expect_parsed("GET", "/api/v1/watch/namespaces/x/pods", {"watch", "", "v1", "x", "pods", "", ""});
  expect_parsed("GET", "/api/v1/watch/namespaces/x/pods/p", {"watch", "", "v1", "x", "pods", "", "p"});
  // kubectl get sts -n x; kubectl describe node; kubectl get ns
  expect_parsed("GET", "/apis/apps/v1/namespaces/x/statefulsets", {"list", "apps", "v1", "x", "statefulsets", "", ""});
  expect_parsed("GET", "/api/v1/nodes/ip-10-0-1-2.ec2.internal", {"get", "", "v1", "", "nodes", "", "ip-10-0-1-2.ec2.internal"});
  expect_parsed("GET", "/api/v1/namespaces", {"list", "", "v1", "", "namespaces", "", ""});
  expect_parsed("GET", "/api/v1/namespaces/x", {"get", "", "v1", "x", "namespaces", "", "x"});
  expect_parsed("PUT", "/api/v1/namespaces/x/finalize", {"update", "", "v1", "x", "namespaces", "finalize", "x"});
  expect_parsed("GET", "/apis/metrics.k8s.io/v1beta1/nodes", {"list", "metrics.k8s.io", "v1beta1", "", "nodes", "", ""});
  // kubectl exec, attach, port-forward, proxy
  expect_parsed("POST", "/api/v1/namespaces/x/pods/p/exec?command=sh&stdin=true&tty=true",
                {"create", "", "v1", "x", "pods", "exec", "p"});
  expect_parsed("GET", "/api/v1/namespaces/x/pods/p/exec?command=sh", {"get", "", "v1", "x", "pods", "exec", "p"});
  expect_parsed("GET", "/api/v1/namespaces/x/services/ch:8123/proxy/metrics",
                {"get", "", "v1", "x", "services", "proxy", "ch:8123"});
  expect_parsed("GET", "/api/v1/proxy/namespaces/x/pods/p", {"proxy", "", "v1", "x", "pods", "", "p"});
  // Writes
  expect_parsed("POST", "/api/v1/namespaces/x/pods", {"create", "", "v1", "x", "pods", "", ""});
  expect_parsed("PATCH", "/apis/apps/v1/namespaces/x/deployments/d?fieldManager=kubectl",
                {"patch", "apps", "v1", "x", "deployments", "", "d"});
  expect_parsed("DELETE", "/api/v1/namespaces/x/pods/p", {"delete", "", "v1", "x", "pods", "", "p"});
  expect_parsed("DELETE", "/api/v1/namespaces/x/pods?labelSelector=app%3Dch", {"deletecollection", "", "v1", "x", "pods", "", ""});
  expect_parsed("HEAD", "/api/v1/namespaces/x/pods/p", {"get", "", "v1", "x", "pods", "", "p"});
}

// `watch` as the API server reads it: anything but "0" or "false" is a
// watch — only on a collection.
TEST(ApiRequest, TheWatchParameterIsReadAsTheApiServerReadsIt) {
  auto verb = [](std::string_view target) { return parse_api_request("GET", target).value().verb; };
  EXPECT_EQ(verb("/api/v1/pods?watch=true"), "watch");
  EXPECT_EQ(verb("/api/v1/pods?watch=1"), "watch");
  EXPECT_EQ(verb("/api/v1/pods?watch=yes"), "watch");
  EXPECT_EQ(verb("/api/v1/pods?watch="), "watch");
  EXPECT_EQ(verb("/api/v1/pods?watch"), "watch");
  EXPECT_EQ(verb("/api/v1/pods?w%61tch=true"), "watch");
  EXPECT_EQ(verb("/api/v1/pods?watch=false"), "list");
  EXPECT_EQ(verb("/api/v1/pods?watch=FALSE"), "list");
  EXPECT_EQ(verb("/api/v1/pods?watch=0"), "list");
  EXPECT_EQ(verb("/api/v1/pods?watchx=1"), "list");
  EXPECT_EQ(verb("/api/v1/namespaces/x/pods/p?watch=true"), "get");
}

TEST(ApiRequest, NonResourceUrlsAreFlagged) {
  for (std::string_view target : {"/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/version", "/healthz",
                                  "/openapi/v2", "/openapi/v3/apis/apps/v1?hash=ABC", "/", "/metrics"}) {
    auto r = parse_api_request("GET", target);
    ASSERT_TRUE(r.has_value()) << target;
    EXPECT_FALSE(r->resource_request) << target;
    EXPECT_EQ(r->verb, "get");
    EXPECT_EQ(r->path, target.substr(0, target.find('?')));
  }
  EXPECT_EQ(parse_api_request("POST", "/api").value().verb, "post");
  EXPECT_EQ(parse_api_request("HEAD", "/version").value().verb, "head");
}

TEST(ApiRequest, ReadsInTheTroubleshootingSetAreAllowed) {
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/pods?limit=500"), "");
  EXPECT_EQ(decision("GET", "/api/v1/pods"), "");
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/pods/p"), "");
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/pods/p/log?container=c&follow=true&tailLines=100"), "");
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/pods?watch=true"), "");
  EXPECT_EQ(decision("GET", "/api/v1/watch/namespaces/x/events"), "");
  EXPECT_EQ(decision("GET", "/apis/events.k8s.io/v1/namespaces/x/events"), "");
  EXPECT_EQ(decision("GET", "/api/v1/nodes/n1"), "");
  EXPECT_EQ(decision("GET", "/api/v1/persistentvolumes"), "");
  EXPECT_EQ(decision("GET", "/apis/storage.k8s.io/v1/volumeattachments"), "");
  EXPECT_EQ(decision("GET", "/apis/apps/v1/namespaces/x/statefulsets/ch"), "");
  EXPECT_EQ(decision("GET", "/apis/policy/v1/namespaces/x/poddisruptionbudgets"), "");
  EXPECT_EQ(decision("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/x/pods"), "");
  EXPECT_EQ(decision("HEAD", "/api/v1/namespaces/x/pods/p"), "");
}

TEST(ApiRequest, DiscoveryIsAllowedAsARead) {
  for (std::string_view target : {"/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1",
                                  "/apis/metrics.k8s.io/v1beta1", "/version", "/openapi/v2", "/openapi/v3",
                                  "/openapi/v3/apis/apps/v1?hash=0123ABCD", "/openapi/v3/api/v1"})
    EXPECT_EQ(decision("GET", target), "") << target;
  EXPECT_EQ(decision("POST", "/api"), "write_refused");
  EXPECT_EQ(decision("PUT", "/version"), "write_refused");
  EXPECT_EQ(decision("HEAD", "/version"), "not_in_scope");  // RBAC's verb is "head": system:discovery grants get
  for (std::string_view target : {"/healthz", "/livez", "/readyz", "/metrics", "/logs", "/logs/kube-apiserver.log",
                                  "/debug/pprof/profile", "/openapi/v2/x", "/openapi/v4", "/", "/.well-known/openid-configuration",
                                  "/apis/Apps", "/api/x1"})
    EXPECT_EQ(decision("GET", target), "not_in_scope") << target;
}

TEST(ApiRequest, ExecAttachAndPortForwardAreRefusedHoweverAsked) {
  EXPECT_EQ(decision("POST", "/api/v1/namespaces/x/pods/p/exec?command=sh&stdin=true"), "exec_refused");
  // A websocket exec is a GET upgrade.
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/pods/p/exec?command=sh&stdin=true"), "exec_refused");
  EXPECT_EQ(decision("POST", "/api/v1/namespaces/x/pods/p/attach?stdin=true"), "exec_refused");
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/pods/p/attach"), "exec_refused");
  EXPECT_EQ(decision("POST", "/api/v1/namespaces/x/pods/p/portforward?ports=8123"), "exec_refused");
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/pods/p/portforward"), "exec_refused");
  EXPECT_EQ(decision("PATCH", "/api/v1/namespaces/x/pods/p/ephemeralcontainers"), "ephemeral_refused");
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/pods/p/ephemeralcontainers"), "ephemeral_refused");
}

TEST(ApiRequest, ProxiesAreRefused) {
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/services/ch:8123/proxy/metrics"), "proxy_refused");
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/services/https:ch:8443/proxy/"), "(malformed)");  // trailing '/'
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/pods/p/proxy"), "proxy_refused");
  EXPECT_EQ(decision("POST", "/api/v1/namespaces/x/pods/p:9000/proxy/query"), "proxy_refused");
  EXPECT_EQ(decision("GET", "/api/v1/nodes/n1/proxy/stats/summary"), "proxy_refused");
  EXPECT_EQ(decision("GET", "/api/v1/nodes/n1:10250/proxy/configz"), "proxy_refused");
  EXPECT_EQ(decision("GET", "/api/v1/proxy/namespaces/x/pods/p/metrics"), "proxy_refused");
  EXPECT_EQ(decision("GET", "/api/v1/proxy/nodes/n1"), "proxy_refused");
}

TEST(ApiRequest, SecretsConfigMapsAndTokensAreRefused) {
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/secrets/s"), "secrets_refused");
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/secrets"), "secrets_refused");
  EXPECT_EQ(decision("GET", "/api/v1/secrets"), "secrets_refused");  // every namespace
  EXPECT_EQ(decision("GET", "/api/v1/secrets?watch=true"), "secrets_refused");
  EXPECT_EQ(decision("GET", "/api/v1/watch/secrets"), "secrets_refused");
  EXPECT_EQ(decision("DELETE", "/api/v1/namespaces/x/secrets/s"), "secrets_refused");
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/configmaps/c"), "configmaps_refused");
  EXPECT_EQ(decision("GET", "/api/v1/configmaps"), "configmaps_refused");
  EXPECT_EQ(decision("POST", "/api/v1/namespaces/x/serviceaccounts/default/token"), "token_refused");
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/serviceaccounts"), "not_in_scope");
}

TEST(ApiRequest, WritesAreRefused) {
  EXPECT_EQ(decision("POST", "/api/v1/namespaces/x/pods"), "write_refused");
  EXPECT_EQ(decision("PUT", "/api/v1/namespaces/x/pods/p"), "write_refused");
  EXPECT_EQ(decision("PATCH", "/apis/apps/v1/namespaces/x/statefulsets/ch"), "write_refused");
  EXPECT_EQ(decision("PATCH", "/apis/apps/v1/namespaces/x/statefulsets/ch/scale"), "write_refused");
  EXPECT_EQ(decision("DELETE", "/api/v1/namespaces/x/pods/p"), "write_refused");
  EXPECT_EQ(decision("DELETE", "/api/v1/namespaces/x/pods"), "write_refused");
  EXPECT_EQ(decision("POST", "/api/v1/namespaces/x/pods/p/eviction"), "write_refused");
  EXPECT_EQ(decision("PUT", "/api/v1/nodes/n1/status"), "write_refused");
  EXPECT_EQ(decision("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"), "write_refused");
}

TEST(ApiRequest, WhatIsOutsideTheSetIsNotInScope) {
  EXPECT_EQ(decision("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles"), "not_in_scope");
  EXPECT_EQ(decision("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"), "not_in_scope");
  EXPECT_EQ(decision("GET", "/api/v1/namespaces/x/pods/p/status"), "not_in_scope");
  EXPECT_EQ(decision("GET", "/apis/example.com/v1/namespaces/x/pods"), "not_in_scope");
  EXPECT_EQ(decision("GET", "/apis/metrics.k8s.io/v1beta1/pods?watch=true"), "not_in_scope");
  EXPECT_EQ(decision("GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests"), "not_in_scope");
}

TEST(ApiRequest, AMethodWithoutAVerbIsUnknown) {
  EXPECT_EQ(decision("OPTIONS", "/api/v1/namespaces/x/pods"), "unknown_request");
  EXPECT_EQ(decision("CONNECT", "/api/v1/namespaces/x/pods/p/exec"), "unknown_request");
  EXPECT_EQ(decision("get", "/api/v1/pods"), "unknown_request");
  EXPECT_EQ(decision("TRACE", "/version"), "unknown_request");
}

TEST(ApiRequest, MalformedOrAmbiguousTargetsAreNotParsed) {
  const std::vector<std::string> malformed = {
      "",
      "api/v1/pods",
      "https://api.example.com/api/v1/pods",
      "*",
      "/api/v1/namespaces/x/secrets%2Fs",
      "/api/v1/namespaces/x/pods%2F..%2Fsecrets",
      "/api/v1/namespaces/x/%70ods",
      "/api/v1/namespaces/x/pods/../secrets",
      "/api/v1/namespaces/x/./pods",
      "/api/v1/namespaces/x/pods/..",
      "/api//v1/pods",
      "/api/v1/pods/",
      "/api/v1/namespaces//pods",
      "/api/v1/namespaces/x/pods/p\xc3\xa9",
      "/api/v1/namespaces/x/pods?labelSelector=\xc3\xa9",
      "/api/v1/namespaces/x/pods p",
      "/api/v1/namespaces/x/pods\t",
      std::string("/api/v1/pods\0x", 14),
      "/api/v1/pods#frag",
      "/api/v1/namespaces/x/pods\\p",
      "/api/v1/namespaces/x/pods?watch=true;a=b",
      "/api/v1/namespaces/x/pods?watch=%zz",
      "/api/v1/namespaces/x/pods?watch=1&watch=0",
      "/api/v1/namespaces/x/pods?a=1&&b=2",
      "/api/v1/namespaces/X/pods",
      "/api/v1/namespaces/x_y/pods",
      "/api/v1/namespaces/x/Pods",
      "/api/x1/pods",
      "/api/v01/pods",
      "/apis/Apps/v1/deployments",
      "/apis/apps/v1beta/deployments",
      "/api/v1/watch",
      "/api/v1/proxy",
      "/api/v1/namespaces/x/pods/p/log/extra",
      "/api/v1/namespaces/x/pods/p/Log",
  };
  for (const auto& target : malformed) EXPECT_FALSE(parse_api_request("GET", target).has_value()) << target;
  // The legacy watch form is a GET only.
  EXPECT_FALSE(parse_api_request("POST", "/api/v1/watch/namespaces/x/pods").has_value());
}

TEST(ApiRequest, PathAndQueryAreBounded) {
  std::string prefix = "/api/v1/namespaces/x/pods/";
  std::string at_limit = prefix + std::string(kMaxApiPathBytes - prefix.size(), 'a');
  ASSERT_EQ(at_limit.size(), kMaxApiPathBytes);
  EXPECT_TRUE(parse_api_request("GET", at_limit).has_value());
  EXPECT_FALSE(parse_api_request("GET", at_limit + "a").has_value());
  std::string query = "labelSelector=" + std::string(kMaxApiQueryBytes - 14, 'a');
  EXPECT_TRUE(parse_api_request("GET", "/api/v1/pods?" + query).has_value());
  EXPECT_FALSE(parse_api_request("GET", "/api/v1/pods?" + query + "a").has_value());
  std::string many;
  for (int i = 0; i < 65; ++i) many += (many.empty() ? "" : "&") + std::string("a=") + std::to_string(i);
  EXPECT_FALSE(parse_api_request("GET", "/api/v1/pods?" + many).has_value());
}

TEST(ApiRequest, TheAuditRecordsWhatWasAskedNeverTheQuery) {
  auto r = parse_api_request(
      "GET", "/api/v1/namespaces/x/pods/ch-0/log?container=clickhouse&follow=true&labelSelector=password%3Dhunter2");
  ASSERT_TRUE(r);
  EXPECT_EQ(audit_fields(*r), (json{{"verb", "get"},
                                    {"group", ""},
                                    {"version", "v1"},
                                    {"resource", "pods"},
                                    {"subresource", "log"},
                                    {"namespace", "x"},
                                    {"name", "ch-0"}}));
  EXPECT_EQ(audit_fields(*r).dump().find("hunter2"), std::string::npos);
  EXPECT_EQ(audit_summary(*r), "get pods/log x/ch-0");
  auto summary = [](std::string_view method, std::string_view target) {
    return audit_summary(parse_api_request(method, target).value());
  };
  EXPECT_EQ(summary("GET", "/api/v1/namespaces/x/pods?watch=true&labelSelector=hunter2"), "watch pods namespace=x");
  EXPECT_EQ(summary("GET", "/api/v1/secrets"), "list secrets");
  EXPECT_EQ(summary("GET", "/api/v1/nodes/n1"), "get nodes n1");
  EXPECT_EQ(summary("GET", "/api/v1/namespaces/x"), "get namespaces x");
  EXPECT_EQ(summary("PATCH", "/apis/apps/v1/namespaces/x/statefulsets/ch/scale"), "patch statefulsets.apps/scale x/ch");
  EXPECT_EQ(summary("GET", "/openapi/v3/apis/apps/v1?hash=secret"), "get /openapi/v3/apis/apps/v1");
  EXPECT_EQ(audit_fields(parse_api_request("GET", "/version?x=secret").value()),
            (json{{"verb", "get"}, {"path", "/version"}}));
}

// The gateway's check and the rendered role answer alike: for every
// resource of the table and every resource that must stay out, in every
// verb, the check allows exactly what an RBAC authorizer would allow the
// support group with the rendered ClusterRole — asked through real paths
// where one exists.
TEST(ApiRequest, TheCheckAgreesWithTheRenderedRole) {
  SupportRbacOptions options;
  options.environment_id = "env0a1b2c3d";
  json role;
  for (const auto& o : render_support_rbac(options))
    if (o["metadata"]["name"] == kSupportReadonlyRole && o["kind"] == "ClusterRole") role = o;
  ASSERT_TRUE(role.is_object());

  std::vector<std::pair<std::string, std::string>> resources;  // group, RBAC resource
  for (const auto& entry : support_readonly_resources()) resources.emplace_back(entry.api_group, entry.resource);
  for (const auto& extra : std::vector<std::pair<std::string, std::string>>{
           {"", "secrets"}, {"", "configmaps"}, {"", "pods/exec"}, {"", "pods/attach"}, {"", "pods/portforward"},
           {"", "pods/proxy"}, {"", "nodes/proxy"}, {"", "services/proxy"}, {"", "serviceaccounts/token"},
           {"", "pods/ephemeralcontainers"}, {"", "pods/status"}, {"", "serviceaccounts"}, {"", "nodes/status"},
           {"apps", "deployments/scale"}, {"rbac.authorization.k8s.io", "clusterroles"},
           {"coordination.k8s.io", "leases"}, {"example.com", "pods"}})
    resources.push_back(extra);

  const std::vector<std::string> verbs = {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"};
  int asked_by_path = 0;
  for (const auto& [group, rbac_resource] : resources)
    for (const auto& verb : verbs) {
      SCOPED_TRACE(verb + " " + group + "/" + rbac_resource);
      size_t slash = rbac_resource.find('/');
      ApiRequest request;
      request.resource_request = true;
      request.verb = verb;
      request.api_group = group;
      request.api_version = "v1";
      request.resource = rbac_resource.substr(0, slash);
      request.subresource = slash == std::string::npos ? "" : rbac_resource.substr(slash + 1);
      bool by_role = role_allows(role, group, rbac_resource, verb);
      EXPECT_EQ(check_support_readonly(request).allowed(), by_role);

      // The same through a path, where a path can say it.
      bool on_collection = verb == "list" || verb == "watch" || verb == "deletecollection";
      if (on_collection && !request.subresource.empty()) continue;  // a subresource is of one object
      bool named = !on_collection && (verb != "create" || !request.subresource.empty());
      std::string path = (group.empty() ? "/api/v1" : "/apis/" + group + "/v1") + "/" + request.resource;
      if (named) path += "/n";
      if (!request.subresource.empty()) path += "/" + request.subresource;
      if (verb == "watch") path += "?watch=true";
      std::string method = verb == "get" || verb == "list" || verb == "watch" ? "GET"
                           : verb == "create"                                  ? "POST"
                           : verb == "update"                                  ? "PUT"
                           : verb == "patch"                                   ? "PATCH"
                                                                               : "DELETE";
      auto parsed = parse_api_request(method, path);
      ASSERT_TRUE(parsed.has_value()) << path;
      EXPECT_EQ(parsed->verb, verb) << path;
      EXPECT_EQ(check_support_readonly(*parsed).allowed(), by_role) << method << " " << path;
      ++asked_by_path;
    }
  EXPECT_GT(asked_by_path, 200);
}

TEST(ApiRequest, RefusalCodesAreStable) {
  EXPECT_EQ(refusal_code(SupportRefusal::kWrite), "write_refused");
  EXPECT_EQ(refusal_code(SupportRefusal::kSecrets), "secrets_refused");
  EXPECT_EQ(refusal_code(SupportRefusal::kConfigMaps), "configmaps_refused");
  EXPECT_EQ(refusal_code(SupportRefusal::kExec), "exec_refused");
  EXPECT_EQ(refusal_code(SupportRefusal::kProxy), "proxy_refused");
  EXPECT_EQ(refusal_code(SupportRefusal::kToken), "token_refused");
  EXPECT_EQ(refusal_code(SupportRefusal::kEphemeral), "ephemeral_refused");
  EXPECT_EQ(refusal_code(SupportRefusal::kNotInScope), "not_in_scope");
  EXPECT_EQ(refusal_code(SupportRefusal::kUnknownRequest), "unknown_request");
}

}  // namespace
}  // namespace byoc::kube
