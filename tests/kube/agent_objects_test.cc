#include "kube/agent_objects.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "kube/resources.h"
#include "testing/testing.h"

namespace byoc::kube {
namespace {

using nlohmann::json;

constexpr const char* kToken = "byocjoin_s3cr3t-t0ken.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

AgentInstall install() {
  AgentInstall in;
  in.environment_id = "env0a1b2c3d";
  in.image = "registry.example.com/byoc/agent:1.4.2@sha256:" + std::string(64, 'e');
  in.server_urls = {"https://plane-a.example.com:8443", "https://plane-b.example.com:8443"};
  in.join_token = kToken;
  return in;
}

const json& find(const std::vector<json>& objects, const std::string& kind) {
  for (const auto& o : objects)
    if (o["kind"] == kind) return o;
  throw std::runtime_error("no " + kind);
}

const json& agent_container(const std::vector<json>& objects) {
  return find(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0];
}

TEST(AgentObjects, KindsInApplyOrderAndAllAddressable) {
  auto objects = render_agent_objects(install());
  std::vector<std::string> kinds;
  for (const auto& o : objects) {
    kinds.push_back(o["kind"]);
    EXPECT_NO_THROW(object_path(ref_of(o))) << o["kind"];
    if (o["kind"] == "Role" || o["kind"] == "RoleBinding") {
      EXPECT_EQ(o["metadata"]["namespace"], "byoc-services");  // where the runtime works
    } else if (o["kind"] != "Namespace") {
      EXPECT_EQ(o["metadata"]["namespace"], "byoc-system");
    }
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"Namespace", "Namespace", "ServiceAccount", "Role", "RoleBinding",
                                             "Service", "Secret", "Deployment"}));
  EXPECT_EQ(objects[0]["metadata"]["name"], "byoc-system");
  EXPECT_EQ(objects[1]["metadata"]["name"], "byoc-services");
}

TEST(AgentObjects, TheKubernetesRuntimeAddsTheReadOnlySupportRbacAndNothingBroader) {
  auto in = install();
  in.runtime = "kubernetes";
  auto objects = render_agent_objects(in);
  std::vector<std::string> names;
  for (const auto& o : objects)
    if (o["kind"] == "ClusterRole" || o["kind"] == "ClusterRoleBinding")
      names.push_back(o["kind"].get<std::string>() + "/" + o["metadata"]["name"].get<std::string>());
  EXPECT_EQ(names, (std::vector<std::string>{"ClusterRole/byoc-support-readonly", "ClusterRoleBinding/byoc-support-readonly",
                                             "ClusterRole/byoc-agent-impersonate",
                                             "ClusterRoleBinding/byoc-agent-impersonate"}));
  // Impersonation is the agent's, by its service account.
  for (const auto& o : objects)
    if (o["kind"] == "ClusterRoleBinding" && o["metadata"]["name"] == "byoc-agent-impersonate") {
      EXPECT_EQ(o["subjects"],
                json::array({{{"kind", "ServiceAccount"}, {"name", "byoc-agent"}, {"namespace", "byoc-system"}}}));
    }
  // The gateways reach the agent's check and proxy through its Service.
  const json& service = find(objects, "Service");
  EXPECT_EQ(service["spec"]["ports"][0]["port"], kAgentGatewayCheckPort);
  EXPECT_EQ(service["spec"]["ports"][1]["port"], kAgentKubeProxyPort);
  EXPECT_EQ(service["spec"]["selector"], find(objects, "Deployment")["spec"]["selector"]["matchLabels"]);
  std::vector<std::string> args = agent_container(objects)["args"];
  EXPECT_EQ(args.back(), "kubernetes");

  in.services_namespace = in.namespace_name;
  EXPECT_EQ(testing::error_code([&] { render_agent_objects(in); }), "kube_agent_invalid");
}

TEST(AgentObjects, EveryObjectAndThePodAreLabelled) {
  auto objects = render_agent_objects(install());
  const json expected = {{"app.kubernetes.io/name", "byoc-agent"},
                         {"app.kubernetes.io/managed-by", "byoc"},
                         {"byoc.io/environment", "env0a1b2c3d"}};
  for (const auto& o : objects) EXPECT_EQ(o["metadata"]["labels"], expected) << o["kind"];
  const json& spec = find(objects, "Deployment")["spec"];
  EXPECT_EQ(spec["template"]["metadata"]["labels"], expected);
  for (const auto& [key, value] : spec["selector"]["matchLabels"].items()) EXPECT_EQ(expected[key], value) << key;
}

TEST(AgentObjects, TheSecretHoldsTheTokenAndNothingElseShowsIt) {
  auto objects = render_agent_objects(install());
  const json& secret = find(objects, "Secret");
  EXPECT_EQ(secret["type"], "Opaque");
  EXPECT_EQ(secret["stringData"][kAgentJoinTokenKey], kToken);
  for (const auto& o : objects)
    if (o["kind"] != "Secret") {
      EXPECT_EQ(o.dump().find("s3cr3t"), std::string::npos) << o["kind"];
    }

  // The agent reads it from the mounted Secret: a file the command line names.
  const json& container = agent_container(objects);
  const json& pod = find(objects, "Deployment")["spec"]["template"]["spec"];
  EXPECT_EQ(container.dump().find("secretKeyRef"), std::string::npos);  // not in the environment either
  json volume;
  for (const auto& v : pod["volumes"])
    if (v.contains("secret")) volume = v;
  EXPECT_EQ(volume["secret"]["secretName"], kAgentJoinSecret);
  std::string mount_path;
  for (const auto& m : container["volumeMounts"])
    if (m["name"] == volume["name"]) {
      mount_path = m["mountPath"];
      EXPECT_TRUE(m["readOnly"].get<bool>());
    }
  std::vector<std::string> args = container["args"];
  auto flag = std::find(args.begin(), args.end(), "--join-token-file");
  ASSERT_NE(flag, args.end());
  EXPECT_EQ(*(flag + 1), mount_path + "/" + kAgentJoinTokenKey);
}

TEST(AgentObjects, CommandLineIsTheAgents) {
  auto in = install();
  in.runtime = "local";
  auto objects = render_agent_objects(in);
  const json& container = agent_container(objects);
  EXPECT_EQ(container["command"], json({"byoc", "agent"}));
  EXPECT_EQ(container["image"], in.image);
  std::vector<std::string> args = container["args"];
  EXPECT_EQ(args, (std::vector<std::string>{"--state-dir", "/var/lib/byoc/agent", "--server",
                                            "https://plane-a.example.com:8443,https://plane-b.example.com:8443",
                                            "--join-token-file", "/var/run/byoc/join/join-token", "--runtime",
                                            "local"}));
  // The agent's own state dir sits below the mount: it chmods it, which a
  // mount point owned by root would refuse.
  bool below_mount = false;
  for (const auto& m : container["volumeMounts"])
    if (m["name"] == "state") below_mount = args[1].rfind(m["mountPath"].get<std::string>() + "/", 0) == 0;
  EXPECT_TRUE(below_mount);
}

TEST(AgentObjects, RbacIsLeastPrivilegeInTheServicesNamespace) {
  auto objects = render_agent_objects(install());
  for (const auto& o : objects) {
    EXPECT_NE(o["kind"], "ClusterRole");
    EXPECT_NE(o["kind"], "ClusterRoleBinding");
  }
  const json& role = find(objects, "Role");
  std::set<std::string> resources;
  for (const auto& rule : role["rules"]) {
    for (const auto& field : {"apiGroups", "resources", "verbs"})
      for (const auto& value : rule[field]) {
        EXPECT_EQ(value.get<std::string>().find('*'), std::string::npos) << rule.dump();
        EXPECT_EQ(value.get<std::string>().find('/'), std::string::npos) << rule.dump();  // no pods/exec
      }
    for (const auto& verb : rule["verbs"])
      EXPECT_TRUE(verb != "escalate" && verb != "bind" && verb != "impersonate") << rule.dump();
    for (const auto& r : rule["resources"]) resources.insert(r);
  }
  EXPECT_EQ(resources, (std::set<std::string>{"pods", "persistentvolumeclaims", "services", "configmaps", "secrets",
                                              "statefulsets", "deployments", "poddisruptionbudgets", "networkpolicies",
                                              "jobs"}));
  for (const auto& rule : role["rules"])
    if (rule["resources"][0] == "pods") EXPECT_EQ(rule["verbs"], json({"get", "list", "watch"}));  // reads them only
  const json& binding = find(objects, "RoleBinding");
  EXPECT_EQ(binding["roleRef"], json({{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "byoc-agent"}}));
  EXPECT_EQ(binding["subjects"],
            json::array({{{"kind", "ServiceAccount"}, {"name", "byoc-agent"}, {"namespace", "byoc-system"}}}));
  EXPECT_EQ(find(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"], "byoc-agent");
}

TEST(AgentObjects, PodIsLockedDown) {
  auto objects = render_agent_objects(install());
  const json& spec = find(objects, "Deployment")["spec"];
  EXPECT_EQ(spec["replicas"], 1);
  EXPECT_EQ(spec["strategy"]["type"], "Recreate");  // never two agents of one environment
  const json& pod = spec["template"]["spec"];
  EXPECT_TRUE(pod["securityContext"]["runAsNonRoot"].get<bool>());
  EXPECT_NE(pod["securityContext"]["runAsUser"], 0);
  EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
  const json& sc = agent_container(objects)["securityContext"];
  EXPECT_TRUE(sc["runAsNonRoot"].get<bool>());
  EXPECT_TRUE(sc["readOnlyRootFilesystem"].get<bool>());
  EXPECT_FALSE(sc["allowPrivilegeEscalation"].get<bool>());
  EXPECT_EQ(sc["capabilities"]["drop"], json::array({"ALL"}));
  EXPECT_FALSE(sc["capabilities"].contains("add"));
  for (const auto& v : pod["volumes"]) EXPECT_FALSE(v.contains("hostPath")) << v.dump();
  EXPECT_FALSE(pod.contains("hostNetwork"));
}

TEST(AgentObjects, ResourcesAndStateVolume) {
  auto in = install();
  EXPECT_EQ(agent_container(render_agent_objects(in))["resources"],
            json::parse(R"({"requests":{"cpu":"100m","memory":"256Mi"},"limits":{"memory":"512Mi"}})"));
  in.resources = {"250m", "1Gi", "2", "1.5Gi"};
  in.state_volume_claim = "byoc-agent-state";
  auto objects = render_agent_objects(in);
  EXPECT_EQ(agent_container(objects)["resources"],
            json::parse(R"({"requests":{"cpu":"250m","memory":"1Gi"},"limits":{"cpu":"2","memory":"1.5Gi"}})"));
  const json& volumes = find(objects, "Deployment")["spec"]["template"]["spec"]["volumes"];
  EXPECT_EQ(volumes[0], json::parse(R"({"name":"state","persistentVolumeClaim":{"claimName":"byoc-agent-state"}})"));
}

TEST(AgentObjects, BadInputIsRefusedByField) {
  auto field_of = [](AgentInstall in) {
    try {
      render_agent_objects(in);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "kube_agent_invalid");
      EXPECT_EQ(std::string(e.what()).find("s3cr3t"), std::string::npos);
      return e.field();
    }
    return std::string("(no error)");
  };
  auto with = [](auto change) {
    AgentInstall in = install();
    change(in);
    return in;
  };
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.image = ""; })), "agent_image");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.image = "byoc agent"; })), "agent_image");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.image = "byoc\n"; })), "agent_image");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.server_urls = {}; })), "server");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.server_urls = {"http://plane:8443"}; })), "server");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.server_urls = {"https://a,https://b"}; })), "server");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.namespace_name = "Byoc_System"; })), "namespace");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.namespace_name = "a/b"; })), "namespace");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.environment_id = ""; })), "environment_id");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.environment_id = "env/1"; })), "environment_id");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.join_token = ""; })), "join_token");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.join_token = "s3cr3t\n--runtime=x"; })), "join_token");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.runtime = "--evil"; })), "runtime");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.state_volume_claim = "a/b"; })), "state_volume_claim");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.resources.cpu_request = "lots"; })), "cpu_request");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.resources.memory_limit = "1.5.5Gi"; })), "memory_limit");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.resources.memory_request = ""; })), "memory_request");
  EXPECT_EQ(field_of(install()), "(no error)");
}

}  // namespace
}  // namespace byoc::kube
