#include "kube/resources.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "testing/testing.h"

namespace byoc::kube {
namespace {

using byoc::testing::error_code;

TEST(KubeResources, PathsOfCoreGroupedAndClusterScopedKinds) {
  EXPECT_EQ(object_path({"v1", "Secret", "byoc-system", "join"}), "/api/v1/namespaces/byoc-system/secrets/join");
  EXPECT_EQ(object_path({"apps/v1", "StatefulSet", "ns", "ch.events"}),
            "/apis/apps/v1/namespaces/ns/statefulsets/ch.events");
  EXPECT_EQ(object_path({"v1", "Namespace", "", "byoc-system"}), "/api/v1/namespaces/byoc-system");
  EXPECT_EQ(object_path({"rbac.authorization.k8s.io/v1", "ClusterRole", "", "viewer"}),
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/viewer");
  EXPECT_EQ(object_path({"policy/v1", "PodDisruptionBudget", "ns", "pdb"}),
            "/apis/policy/v1/namespaces/ns/poddisruptionbudgets/pdb");
  EXPECT_EQ(object_path({"networking.k8s.io/v1", "NetworkPolicy", "ns", "deny"}),
            "/apis/networking.k8s.io/v1/namespaces/ns/networkpolicies/deny");
  EXPECT_EQ(collection_path("v1", "Pod", "ns"), "/api/v1/namespaces/ns/pods");
  EXPECT_EQ(collection_path("v1", "Pod", ""), "/api/v1/pods");  // every namespace
  EXPECT_EQ(collection_path("v1", "Node", ""), "/api/v1/nodes");
}

TEST(KubeResources, UnknownKindsAndMismatchedVersionsAreRefused) {
  EXPECT_EQ(error_code([] { object_path({"v1", "Deployment", "ns", "x"}); }), "kube_unknown_kind");
  EXPECT_EQ(error_code([] { object_path({"example.com/v1", "Widget", "ns", "x"}); }), "kube_unknown_kind");
  EXPECT_EQ(error_code([] { collection_path("apps/v1", "Pods", "ns"); }), "kube_unknown_kind");
}

TEST(KubeResources, NamesThatCouldEscapeThePathAreRefused) {
  for (std::string name : std::vector<std::string>{"../../api/v1/secrets", "a/b", "x?watch=1", "x#y", "UPPER", "", "-lead", "trail.",
                           "a..b", "sp ace", "%2e%2e", std::string(254, 'a')})
    EXPECT_EQ(error_code([&] { object_path({"v1", "Secret", "ns", name}); }), "kube_invalid_name") << name;
  for (std::string ns : std::vector<std::string>{"..", "kube-system/../default", "a.b", "Upper", std::string(64, 'a')})
    EXPECT_EQ(error_code([&] { object_path({"v1", "Secret", ns, "x"}); }), "kube_invalid_namespace") << ns;
  EXPECT_EQ(error_code([] { collection_path("v1", "Secret", "a/b"); }), "kube_invalid_namespace");
}

TEST(KubeResources, ScopeMustMatchTheKind) {
  EXPECT_EQ(error_code([] { object_path({"v1", "Secret", "", "x"}); }), "kube_invalid_namespace");
  EXPECT_EQ(error_code([] { object_path({"v1", "Namespace", "ns", "x"}); }), "kube_invalid_namespace");
  EXPECT_EQ(error_code([] { collection_path("v1", "Node", "ns"); }), "kube_invalid_namespace");
}

TEST(KubeResources, NameRules) {
  EXPECT_TRUE(is_dns1123_label("byoc-system"));
  EXPECT_TRUE(is_dns1123_label("a"));
  EXPECT_FALSE(is_dns1123_label("a.b"));
  EXPECT_TRUE(is_dns1123_label(std::string(63, 'a')));
  EXPECT_FALSE(is_dns1123_label(std::string(64, 'a')));
  EXPECT_TRUE(is_dns1123_subdomain("ch.events-0"));
  EXPECT_FALSE(is_dns1123_subdomain(".a"));
  EXPECT_TRUE(is_label_value(""));
  EXPECT_TRUE(is_label_value("env0A_b.c-1"));
  EXPECT_FALSE(is_label_value("-x"));
  EXPECT_FALSE(is_label_value("a/b"));
}

TEST(KubeResources, RefOfReadsTheObjectsIdentity) {
  auto ref = ref_of(nlohmann::json::parse(
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","namespace":"ns"}})"));
  EXPECT_EQ(ref.api_version, "apps/v1");
  EXPECT_EQ(ref.kind, "Deployment");
  EXPECT_EQ(ref.namespace_name, "ns");
  EXPECT_EQ(ref.name, "a");
  EXPECT_EQ(describe(ref), "Deployment ns/a");
  EXPECT_EQ(error_code([] { ref_of(nlohmann::json::parse(R"({"apiVersion":"v1","kind":"Secret"})")); }),
            "kube_object_invalid");
  EXPECT_EQ(error_code([] { ref_of(nlohmann::json::parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":7}})")); }),
            "kube_object_invalid");
  EXPECT_EQ(error_code([] { ref_of(nlohmann::json::array()); }), "kube_object_invalid");
}

}  // namespace
}  // namespace byoc::kube
