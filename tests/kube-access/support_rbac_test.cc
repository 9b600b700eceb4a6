#include "kube/support_rbac.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "kube/resources.h"
#include "rbac_rules.h"
#include "testing/testing.h"

namespace byoc::kube {
namespace {

using nlohmann::json;
using testing::role_allows;

SupportRbacOptions options() {
  SupportRbacOptions o;
  o.environment_id = "env0a1b2c3d";
  return o;
}

const json& find(const std::vector<json>& objects, const std::string& kind, const std::string& name) {
  for (const auto& o : objects)
    if (o["kind"] == kind && o["metadata"]["name"] == name) return o;
  throw std::runtime_error("no " + kind + " " + name);
}

const json& readonly_role(const std::vector<json>& objects) { return find(objects, "ClusterRole", kSupportReadonlyRole); }
const json& impersonate_role(const std::vector<json>& objects) {
  return find(objects, "ClusterRole", kAgentImpersonateRole);
}

// Every verb RBAC knows of, the wildcard among them.
const std::vector<std::string> kAllVerbs = {"get",    "list",        "watch",   "create", "update", "patch",
                                            "delete", "deletecollection", "escalate", "bind",   "impersonate",
                                            "approve", "sign",       "proxy",   "use",    "*"};
const std::set<std::string> kReadVerbs = {"get", "list", "watch"};

// What the role must never grant, in any verb.
const std::vector<std::pair<std::string, std::string>> kForbidden = {
    {"", "secrets"},
    {"", "configmaps"},
    {"", "pods/exec"},
    {"", "pods/attach"},
    {"", "pods/portforward"},
    {"", "pods/proxy"},
    {"", "nodes/proxy"},
    {"", "services/proxy"},
    {"", "serviceaccounts/token"},
    {"", "pods/ephemeralcontainers"},
    {"", "serviceaccounts"},
    {"rbac.authorization.k8s.io", "clusterroles"},
    {"rbac.authorization.k8s.io", "rolebindings"},
    {"authentication.k8s.io", "tokenreviews"},
    {"authorization.k8s.io", "subjectaccessreviews"},
    {"certificates.k8s.io", "certificatesigningrequests"},
    {"certificates.k8s.io", "certificatesigningrequests/approval"},
    {"", "users"},
    {"", "groups"},
    {"authentication.k8s.io", "userextras/byoc-grant"},
};

TEST(SupportRbac, ObjectsInApplyOrderAddressableAndLabelled) {
  auto objects = render_support_rbac(options());
  std::vector<std::pair<std::string, std::string>> kinds;
  for (const auto& o : objects) {
    kinds.emplace_back(o["kind"], o["metadata"]["name"]);
    EXPECT_NO_THROW(object_path(ref_of(o))) << o.dump();
    EXPECT_FALSE(o["metadata"].contains("namespace"));
    const json& labels = o["metadata"]["labels"];
    EXPECT_EQ(labels["app.kubernetes.io/managed-by"], "byoc");
    EXPECT_EQ(labels["app.kubernetes.io/component"], "support-access");
    EXPECT_EQ(labels["app.kubernetes.io/name"], o["metadata"]["name"]);
    EXPECT_EQ(labels["byoc.io/environment"], "env0a1b2c3d");
  }
  EXPECT_EQ(kinds, (std::vector<std::pair<std::string, std::string>>{
                       {"ClusterRole", "byoc-support-readonly"},
                       {"ClusterRoleBinding", "byoc-support-readonly"},
                       {"ClusterRole", "byoc-agent-impersonate"},
                       {"ClusterRoleBinding", "byoc-agent-impersonate"}}));
}

TEST(SupportRbac, ConstantsAreTheDocumentedNames) {
  EXPECT_STREQ(kSupportUser, "byoc-support");
  EXPECT_STREQ(kSupportGroup, "byoc:support-readonly");
  EXPECT_STREQ(kSupportGrantExtraKey, "byoc-grant");
  EXPECT_STREQ(kImpersonateUserHeader, "Impersonate-User");
  EXPECT_STREQ(kImpersonateGroupHeader, "Impersonate-Group");
  EXPECT_EQ(std::string(kImpersonateGrantHeader), std::string("Impersonate-Extra-") + kSupportGrantExtraKey);
}

// Each rule on its own: read verbs only, no wildcard anywhere, no
// nonResourceURLs, no resource of the forbidden list, no proxy.
TEST(SupportRbac, EveryRuleOfTheReadonlyRoleIsReadOnlyAndWithoutWildcards) {
  const auto objects = render_support_rbac(options());
  const json& role = readonly_role(objects);
  ASSERT_FALSE(role["rules"].empty());
  std::set<std::string> forbidden_resources;
  for (const auto& [group, resource] : kForbidden) forbidden_resources.insert(resource);
  for (const auto& rule : role["rules"]) {
    SCOPED_TRACE(rule.dump());
    std::set<std::string> keys;
    for (const auto& [key, value] : rule.items()) keys.insert(key);
    EXPECT_EQ(keys, (std::set<std::string>{"apiGroups", "resources", "verbs"}));  // no resourceNames, nonResourceURLs
    ASSERT_FALSE(rule["verbs"].empty());
    for (const auto& verb : rule["verbs"]) EXPECT_TRUE(kReadVerbs.contains(verb.get<std::string>())) << verb;
    for (const char* field : {"apiGroups", "resources", "verbs"})
      for (const auto& value : rule[field]) EXPECT_EQ(value.get<std::string>().find('*'), std::string::npos) << field;
    for (const auto& value : rule["resources"]) {
      std::string resource = value;
      EXPECT_FALSE(forbidden_resources.contains(resource)) << resource;
      EXPECT_FALSE(resource.ends_with("/proxy")) << resource;
      EXPECT_TRUE(resource.find('/') == std::string::npos || resource == "pods/log") << resource;
    }
  }
}

// Each forbidden item, in every verb, asked of the role as an RBAC
// authorizer would (wildcards included): not granted.
TEST(SupportRbac, NoForbiddenItemIsGrantedInAnyVerb) {
  const auto objects = render_support_rbac(options());
  const json& role = readonly_role(objects);
  for (const auto& [group, resource] : kForbidden)
    for (const auto& verb : kAllVerbs) {
      EXPECT_FALSE(role_allows(role, group, resource, verb)) << verb << " " << group << "/" << resource;
      EXPECT_FALSE(role_allows(role, group, resource, verb, "some-name")) << verb << " " << group << "/" << resource;
    }
  // Every subresource that proxies, executes or mints, on every resource
  // the role names.
  for (const auto& rule : role["rules"])
    for (const auto& value : rule["resources"]) {
      std::string base = value.get<std::string>().substr(0, value.get<std::string>().find('/'));
      for (const char* sub : {"proxy", "exec", "attach", "portforward", "token", "ephemeralcontainers", "status"})
        for (const auto& verb : kAllVerbs)
          EXPECT_FALSE(role_allows(role, rule["apiGroups"][0].get<std::string>(), base + "/" + sub, verb))
              << verb << " " << base << "/" << sub;
    }
  // No write verb on anything it does grant.
  for (const auto& entry : support_readonly_resources())
    for (const auto& verb : kAllVerbs) {
      if (kReadVerbs.contains(verb)) continue;
      EXPECT_FALSE(role_allows(role, entry.api_group, entry.resource, verb)) << verb << " " << entry.resource;
    }
}

// The role grants exactly the table: each entry's verbs, nothing more.
TEST(SupportRbac, TheRoleGrantsExactlyTheTable) {
  const auto objects = render_support_rbac(options());
  const json& role = readonly_role(objects);
  std::set<std::tuple<std::string, std::string, std::string>> from_table;
  for (const auto& entry : support_readonly_resources())
    for (auto verb : entry.verbs) {
      from_table.emplace(entry.api_group, entry.resource, verb);
      EXPECT_TRUE(role_allows(role, entry.api_group, entry.resource, verb)) << verb << " " << entry.resource;
      EXPECT_TRUE(support_readonly_grants(entry.api_group, entry.resource, verb));
    }
  std::set<std::tuple<std::string, std::string, std::string>> from_role;
  for (const auto& rule : role["rules"])
    for (const auto& group : rule["apiGroups"])
      for (const auto& resource : rule["resources"])
        for (const auto& verb : rule["verbs"]) from_role.emplace(group, resource, verb);
  EXPECT_EQ(from_role, from_table);
}

TEST(SupportRbac, TheTroubleshootingSetCoversWhatAnEngineerNeeds) {
  const std::vector<std::tuple<std::string, std::string, std::string>> needed = {
      {"", "pods", "watch"},
      {"", "pods/log", "get"},
      {"", "events", "list"},
      {"events.k8s.io", "events", "list"},
      {"", "nodes", "get"},
      {"", "persistentvolumeclaims", "list"},
      {"", "persistentvolumes", "get"},
      {"discovery.k8s.io", "endpointslices", "list"},
      {"storage.k8s.io", "volumeattachments", "list"},
      {"storage.k8s.io", "storageclasses", "get"},
      {"apps", "statefulsets", "watch"},
      {"apps", "controllerrevisions", "list"},
      {"batch", "cronjobs", "get"},
      {"policy", "poddisruptionbudgets", "get"},
      {"networking.k8s.io", "networkpolicies", "list"},
      {"autoscaling", "horizontalpodautoscalers", "list"},
      {"metrics.k8s.io", "pods", "list"},
  };
  for (const auto& [group, resource, verb] : needed)
    EXPECT_TRUE(support_readonly_grants(group, resource, verb)) << verb << " " << group << "/" << resource;
  // A log is read, not listed; the metrics API is not watched; a resource
  // in another group under a known name is not the known one.
  EXPECT_FALSE(support_readonly_grants("", "pods/log", "list"));
  EXPECT_FALSE(support_readonly_grants("metrics.k8s.io", "pods", "watch"));
  EXPECT_FALSE(support_readonly_grants("example.com", "pods", "get"));
  EXPECT_FALSE(support_readonly_grants("", "Pods", "get"));
}

TEST(SupportRbac, TheReadonlyRoleIsBoundToTheSupportGroupOnly) {
  auto objects = render_support_rbac(options());
  const json& binding = find(objects, "ClusterRoleBinding", kSupportReadonlyRole);
  EXPECT_EQ(binding["roleRef"],
            (json{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", "byoc-support-readonly"}}));
  EXPECT_EQ(binding["subjects"],
            json::array({{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Group"}, {"name", "byoc:support-readonly"}}}));
}

// The agent may impersonate the one user and the one group, by name, and
// set the one extra — nothing else (another user, a system group, a
// service account, a uid).
TEST(SupportRbac, TheAgentImpersonatesExactlyTheSupportUserGroupAndExtra) {
  auto objects = render_support_rbac(options());
  const json& role = impersonate_role(objects);
  EXPECT_EQ(role["rules"],
            json::parse(R"([
              {"apiGroups":[""],"resources":["users"],"verbs":["impersonate"],"resourceNames":["byoc-support"]},
              {"apiGroups":[""],"resources":["groups"],"verbs":["impersonate"],"resourceNames":["byoc:support-readonly"]},
              {"apiGroups":["authentication.k8s.io"],"resources":["userextras/byoc-grant"],"verbs":["impersonate"]}
            ])"));
  EXPECT_TRUE(role_allows(role, "", "users", "impersonate", kSupportUser));
  EXPECT_TRUE(role_allows(role, "", "groups", "impersonate", kSupportGroup));
  EXPECT_TRUE(role_allows(role, "authentication.k8s.io", "userextras/byoc-grant", "impersonate", "grant-0123"));
  EXPECT_FALSE(role_allows(role, "", "users", "impersonate", "admin"));
  EXPECT_FALSE(role_allows(role, "", "users", "impersonate"));  // any user, unnamed
  EXPECT_FALSE(role_allows(role, "", "groups", "impersonate", "system:masters"));
  EXPECT_FALSE(role_allows(role, "", "serviceaccounts", "impersonate", "byoc-agent"));
  EXPECT_FALSE(role_allows(role, "authentication.k8s.io", "uids", "impersonate", "0"));
  EXPECT_FALSE(role_allows(role, "authentication.k8s.io", "userextras/scopes", "impersonate", "x"));
  for (const auto& verb : kAllVerbs)
    if (verb != "impersonate") {
      EXPECT_FALSE(role_allows(role, "", "users", verb, kSupportUser)) << verb;
      EXPECT_FALSE(role_allows(role, "", "secrets", verb)) << verb;
    }

  const json& binding = find(objects, "ClusterRoleBinding", kAgentImpersonateRole);
  EXPECT_EQ(binding["roleRef"]["name"], "byoc-agent-impersonate");
  EXPECT_EQ(binding["roleRef"]["kind"], "ClusterRole");
  EXPECT_EQ(binding["subjects"],
            json::array({{{"kind", "ServiceAccount"}, {"name", "byoc-agent"}, {"namespace", "byoc-system"}}}));
}

TEST(SupportRbac, TheAgentServiceAccountIsAnOption) {
  SupportRbacOptions o = options();
  o.agent_namespace = "tenant-agents";
  o.agent_service_account = "agent-7";
  const auto objects = render_support_rbac(o);
  const json& binding = find(objects, "ClusterRoleBinding", kAgentImpersonateRole);
  EXPECT_EQ(binding["subjects"][0]["namespace"], "tenant-agents");
  EXPECT_EQ(binding["subjects"][0]["name"], "agent-7");
}

TEST(SupportRbac, BadOptionsAreRefusedWithTheField) {
  auto field_of = [](auto change) {
    SupportRbacOptions o = options();
    change(o);
    try {
      render_support_rbac(o);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "kube_support_rbac_invalid");
      return e.field();
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(field_of([](auto& o) { o.environment_id = ""; }), "environment_id");
  EXPECT_EQ(field_of([](auto& o) { o.environment_id = "env:1"; }), "environment_id");
  EXPECT_EQ(field_of([](auto& o) { o.agent_namespace = "Byoc-System"; }), "agent_namespace");
  EXPECT_EQ(field_of([](auto& o) { o.agent_namespace = ""; }), "agent_namespace");
  EXPECT_EQ(field_of([](auto& o) { o.agent_service_account = "*"; }), "agent_service_account");
  EXPECT_EQ(field_of([](auto& o) { o.agent_service_account = ""; }), "agent_service_account");
  EXPECT_EQ(field_of([](auto&) {}), "(no error)");
}

}  // namespace
}  // namespace byoc::kube
