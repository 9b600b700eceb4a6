#include "kube/agent_objects.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <map>
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
                                             "Service", "NetworkPolicy", "Secret", "Deployment"}));
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
  for (const auto& o : objects) {
    json labels = o["metadata"]["labels"];
    // Namespaces also carry their Pod Security labels (below).
    if (o["kind"] == "Namespace")
      for (const auto& [key, _] : o["metadata"]["labels"].items())
        if (key.rfind("pod-security.kubernetes.io/", 0) == 0) labels.erase(key);
    EXPECT_EQ(labels, expected) << o["kind"];
  }
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
        // No subresource (pods/exec, pods/attach…) but a pod's status, which
        // holds the serving gate the runtime opens.
        if (value != "pods/status")
          EXPECT_EQ(value.get<std::string>().find('/'), std::string::npos) << rule.dump();
      }
    for (const auto& verb : rule["verbs"])
      EXPECT_TRUE(verb != "escalate" && verb != "bind" && verb != "impersonate") << rule.dump();
    for (const auto& r : rule["resources"]) resources.insert(r);
  }
  EXPECT_EQ(resources, (std::set<std::string>{"pods", "pods/status", "persistentvolumeclaims", "services", "configmaps", "secrets",
                                              "statefulsets", "deployments", "poddisruptionbudgets", "networkpolicies",
                                              "jobs"}));
  // Exactly the verbs the kubernetes runtime sends: server-side apply is a
  // PATCH that also needs `create` for a missing object; watch only where an
  // informer watches; never `update` (nor deletecollection).
  std::map<std::string, std::set<std::string>> verbs;
  for (const auto& rule : role["rules"])
    for (const auto& group : rule["apiGroups"])
      for (const auto& r : rule["resources"])
        for (const auto& verb : rule["verbs"])
          verbs[(group == "" ? "" : group.get<std::string>() + "/") + r.get<std::string>()].insert(verb);
  using V = std::set<std::string>;
  const V applied = {"get", "list", "create", "patch", "delete"};
  V applied_and_watched = applied;
  applied_and_watched.insert("watch");
  EXPECT_EQ(verbs, (std::map<std::string, V>{{"pods", {"get", "list", "watch"}},
                                             {"pods/status", {"patch"}},
                                             {"persistentvolumeclaims", {"get", "list", "delete"}},
                                             {"services", applied_and_watched},
                                             {"apps/statefulsets", applied_and_watched},
                                             {"apps/deployments", applied_and_watched},
                                             {"configmaps", applied},
                                             {"secrets", applied},
                                             {"policy/poddisruptionbudgets", applied},
                                             {"networking.k8s.io/networkpolicies", applied},
                                             {"batch/jobs", applied}}));
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

// Pod Security Admission's `restricted` level (Kubernetes 1.33; it includes
// `baseline`), as the checks below, each finding one line:
// https://kubernetes.io/docs/concepts/security/pod-security-standards/
using Findings = std::vector<std::string>;

std::string seccomp_type(const json& security) {
  return security.value("seccompProfile", json::object()).value("type", "");
}

bool confining_seccomp(const std::string& type) { return type == "RuntimeDefault" || type == "Localhost"; }

// AppArmor, SELinux and Windows host processes: the same at both levels.
void check_confinement(const json& security, const std::string& who, Findings& found) {
  if (security.value("appArmorProfile", json::object()).value("type", "") == "Unconfined")
    found.push_back(who + ": AppArmor Unconfined");
  const json selinux = security.value("seLinuxOptions", json::object());
  static const std::set<std::string> selinux_types = {"", "container_t", "container_init_t", "container_kvm_t",
                                                      "container_engine_t"};
  if (!selinux_types.count(selinux.value("type", ""))) found.push_back(who + ": SELinux type");
  if (selinux.contains("user") || selinux.contains("role")) found.push_back(who + ": SELinux user or role");
  if (security.value("windowsOptions", json::object()).value("hostProcess", false))
    found.push_back(who + ": hostProcess");
  if (seccomp_type(security) == "Unconfined") found.push_back(who + ": seccomp Unconfined");
}

// The pod's own fields: host namespaces, volume types, sysctls, its user.
void check_pod(const json& pod, Findings& found) {
  for (const char* host : {"hostNetwork", "hostPID", "hostIPC"})
    if (pod.value(host, false)) found.push_back(std::string(host) + " is set");
  static const std::set<std::string> volume_types = {"configMap", "csi",       "downwardAPI", "emptyDir", "ephemeral",
                                                     "persistentVolumeClaim", "projected", "secret"};
  for (const auto& volume : pod.value("volumes", json::array()))
    for (const auto& [type, _] : volume.items())
      if (type != "name" && !volume_types.count(type)) found.push_back("a volume is " + type);
  const json security = pod.value("securityContext", json::object());
  // (Stricter than baseline, which admits a few namespaced sysctls: none is set here.)
  if (!security.value("sysctls", json::array()).empty()) found.push_back("sysctls are set");
  if (security.value("runAsUser", -1) == 0) found.push_back("the pod runs as uid 0");
  check_confinement(security, "pod", found);
}

// One container, the pod's securityContext standing in for what it leaves out.
void check_container(const json& c, const json& pod_security, const std::string& who, Findings& found) {
  const json security = c.value("securityContext", json::object());
  check_confinement(security, who, found);
  if (security.value("privileged", false)) found.push_back(who + ": privileged");
  if (security.value("procMount", "Default") != "Default") found.push_back(who + ": procMount");
  if (security.value("allowPrivilegeEscalation", true)) found.push_back(who + ": may escalate privileges");
  if (!security.value("runAsNonRoot", pod_security.value("runAsNonRoot", false)))
    found.push_back(who + ": may run as root");
  if (security.value("runAsUser", -1) == 0) found.push_back(who + ": runs as uid 0");
  const std::string seccomp = security.contains("seccompProfile") ? seccomp_type(security) : seccomp_type(pod_security);
  if (!confining_seccomp(seccomp)) found.push_back(who + ": no RuntimeDefault or Localhost seccomp profile");
  const json capabilities = security.value("capabilities", json::object());
  const json drop = capabilities.value("drop", json::array());
  if (std::find(drop.begin(), drop.end(), "ALL") == drop.end()) found.push_back(who + ": keeps capabilities");
  for (const auto& add : capabilities.value("add", json::array()))
    if (add != "NET_BIND_SERVICE") found.push_back(who + ": adds " + add.get<std::string>());
  for (const auto& port : c.value("ports", json::array()))
    if (port.value("hostPort", 0) != 0) found.push_back(who + ": hostPort");
}

Findings restricted_violations(const json& pod) {
  Findings found;
  check_pod(pod, found);
  const json pod_security = pod.value("securityContext", json::object());
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"})
    for (const auto& c : pod.value(list, json::array()))
      check_container(c, pod_security, std::string(list) + " " + c.value("name", "?"), found);
  return found;
}

TEST(AgentObjects, BothNamespacesEnforceTheRestrictedPodSecurityStandard) {
  auto objects = render_agent_objects(install());
  int namespaces = 0;
  for (const auto& o : objects) {
    if (o["kind"] != "Namespace") continue;
    ++namespaces;
    const json& l = o["metadata"]["labels"];
    EXPECT_EQ(l["pod-security.kubernetes.io/enforce"], "restricted") << o["metadata"]["name"];
    // Pinned: a cluster upgrade can't start refusing the workloads' pods.
    EXPECT_EQ(l["pod-security.kubernetes.io/enforce-version"], kPodSecurityVersion);
    EXPECT_EQ(std::string(kPodSecurityVersion).rfind("v1.", 0), 0u);
    // What a newer standard would refuse shows up first as warnings and in the audit log.
    for (const char* mode : {"warn", "audit"}) {
      EXPECT_EQ(l[std::string("pod-security.kubernetes.io/") + mode], "restricted");
      EXPECT_EQ(l[std::string("pod-security.kubernetes.io/") + mode + "-version"], "latest");
    }
  }
  EXPECT_EQ(namespaces, 2);
}

TEST(AgentObjects, TheAgentsPodMeetsTheRestrictedPodSecurityStandard) {
  for (const std::string claim : {"", "byoc-agent-state"}) {
    auto in = install();
    in.runtime = "kubernetes";
    in.state_volume_claim = claim;
    const json pod = find(render_agent_objects(in), "Deployment")["spec"]["template"]["spec"];
    EXPECT_EQ(restricted_violations(pod), std::vector<std::string>{}) << pod.dump(1);
  }
  // The check itself catches each kind of mistake, made on purpose.
  const json good = find(render_agent_objects(install()), "Deployment")["spec"]["template"]["spec"];
  auto container = [](json& p) -> json& { return p["containers"][0]["securityContext"]; };
  std::vector<std::pair<std::string, std::function<void(json&)>>> mistakes = {
      {"hostNetwork", [&](json& p) { p["hostNetwork"] = true; }},
      {"hostPath", [&](json& p) { p["volumes"].push_back({{"name", "host"}, {"hostPath", {{"path", "/"}}}}); }},
      {"root", [&](json& p) { p["securityContext"]["runAsUser"] = 0; }},
      {"not non-root", [&](json& p) {
         p["securityContext"].erase("runAsNonRoot");
         container(p).erase("runAsNonRoot");
       }},
      {"escalation", [&](json& p) { container(p)["allowPrivilegeEscalation"] = true; }},
      {"escalation by default", [&](json& p) { container(p).erase("allowPrivilegeEscalation"); }},
      {"privileged", [&](json& p) { container(p)["privileged"] = true; }},
      {"capabilities kept", [&](json& p) { container(p)["capabilities"]["drop"] = json::array(); }},
      {"capability added", [&](json& p) { container(p)["capabilities"]["add"] = {"NET_ADMIN"}; }},
      {"no seccomp", [&](json& p) { p["securityContext"].erase("seccompProfile"); }},
      {"seccomp unconfined", [&](json& p) { container(p)["seccompProfile"] = {{"type", "Unconfined"}}; }},
      {"hostPort", [&](json& p) { p["containers"][0]["ports"][0]["hostPort"] = 8081; }},
      {"AppArmor unconfined", [&](json& p) { p["securityContext"]["appArmorProfile"] = {{"type", "Unconfined"}}; }},
      {"SELinux type", [&](json& p) { container(p)["seLinuxOptions"] = {{"type", "spc_t"}}; }},
      {"init container", [&](json& p) { p["initContainers"] = json::array({{{"name", "init"}}}); }},
  };
  for (auto& [what, mistake] : mistakes) {
    json pod = good;
    mistake(pod);
    EXPECT_FALSE(restricted_violations(pod).empty()) << what << " passed";
  }
}

TEST(AgentObjects, OnlyTheServicesEndpointsReachTheAgentOnItsTwoPorts) {
  auto in = install();
  in.runtime = "kubernetes";
  auto objects = render_agent_objects(in);
  const json& policy = find(objects, "NetworkPolicy");
  EXPECT_EQ(policy["apiVersion"], "networking.k8s.io/v1");
  EXPECT_EQ(policy["metadata"]["name"], "byoc-agent");
  EXPECT_EQ(policy["metadata"]["namespace"], "byoc-system");  // the agent's
  const json& spec = policy["spec"];
  // It selects exactly the agent's pod…
  EXPECT_EQ(spec["podSelector"]["matchLabels"], find(objects, "Deployment")["spec"]["selector"]["matchLabels"]);
  EXPECT_EQ(spec["policyTypes"], json::array({"Ingress"}));
  // …and admits one peer: the endpoint pods of this environment, in the
  // services' namespace (both selectors in one peer: they must both match).
  ASSERT_EQ(spec["ingress"].size(), 1u);
  const json& rule = spec["ingress"][0];
  EXPECT_EQ(rule["from"], json::parse(R"([{
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "byoc-services"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "endpoint", "byoc.io/environment": "env0a1b2c3d"}}
  }])"));
  EXPECT_EQ(rule["ports"], json::parse(R"([{"protocol": "TCP", "port": 8081}, {"protocol": "TCP", "port": 8082}])"));
  EXPECT_EQ(rule["ports"][0]["port"], kAgentGatewayCheckPort);
  EXPECT_EQ(rule["ports"][1]["port"], kAgentKubeProxyPort);
  // The ports are the ones the Service sends to.
  const json& service = find(objects, "Service");
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(service["spec"]["ports"][i]["targetPort"], rule["ports"][i]["port"]);
  // Right after the Service, before the Secret and the Deployment: the pod
  // never runs unprotected.
  std::vector<std::string> kinds;
  for (const auto& o : objects) kinds.push_back(o["kind"]);
  auto at = [&](const std::string& kind) { return std::find(kinds.begin(), kinds.end(), kind) - kinds.begin(); };
  EXPECT_EQ(at("NetworkPolicy"), at("Service") + 1);
  EXPECT_LT(at("NetworkPolicy"), at("Deployment"));
  // Another services' namespace is the one admitted.
  in.services_namespace = "clickhouse";
  EXPECT_EQ(find(render_agent_objects(in), "NetworkPolicy")["spec"]["ingress"][0]["from"][0]["namespaceSelector"],
            json::parse(R"({"matchLabels": {"kubernetes.io/metadata.name": "clickhouse"}})"));
}

TEST(AgentObjects, RuntimeOptionsFollowTheRuntimeOnTheCommandLine) {
  auto in = install();
  in.runtime = "kubernetes";
  in.runtime_options = {{"environment-cidr", "10.0.0.0/16"}, {"storage-class", "gp3"}};
  std::vector<std::string> args = agent_container(render_agent_objects(in))["args"];
  const std::vector<std::string> tail = {"--runtime",        "kubernetes",
                                         "--runtime-option", "environment-cidr=10.0.0.0/16",
                                         "--runtime-option", "storage-class=gp3"};
  ASSERT_GE(args.size(), tail.size());
  EXPECT_EQ(std::vector<std::string>(args.end() - tail.size(), args.end()), tail);
  // None: no flag at all.
  in.runtime_options.clear();
  args = agent_container(render_agent_objects(in))["args"].get<std::vector<std::string>>();
  EXPECT_EQ(std::find(args.begin(), args.end(), "--runtime-option"), args.end());
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
  auto with_option = [&](std::string key, std::string value, std::string runtime = "kubernetes") {
    return with([&](AgentInstall& in) {
      in.runtime = runtime;
      in.runtime_options = {{key, value}};
    });
  };
  EXPECT_EQ(field_of(with_option("environment-cidr", "10.0.0.0/16")), "(no error)");
  EXPECT_EQ(field_of(with_option("environment-cidr", "10.0.0.0/16", "")), "runtime_options");  // no runtime to take it
  EXPECT_EQ(field_of(with_option("--evil", "x")), "runtime_options");
  EXPECT_EQ(field_of(with_option("Environment_CIDR", "x")), "runtime_options");
  EXPECT_EQ(field_of(with_option("a=b", "x")), "runtime_options");
  EXPECT_EQ(field_of(with_option("", "x")), "runtime_options");
  EXPECT_EQ(field_of(with_option("environment-cidr", "")), "runtime_options");
  EXPECT_EQ(field_of(with_option("environment-cidr", "10.0.0.0/16 --runtime local")), "runtime_options");
  EXPECT_EQ(field_of(with_option("environment-cidr", "10.0.0.0/16,10.1.0.0/16")), "runtime_options");
  EXPECT_EQ(field_of(with_option("environment-cidr", "10.0.0.0/16\n")), "runtime_options");
  EXPECT_EQ(field_of(with_option("environment-cidr", std::string(1025, 'a'))), "runtime_options");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.resources.cpu_request = "lots"; })), "cpu_request");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.resources.memory_limit = "1.5.5Gi"; })), "memory_limit");
  EXPECT_EQ(field_of(with([](AgentInstall& in) { in.resources.memory_request = ""; })), "memory_request");
  EXPECT_EQ(field_of(install()), "(no error)");
}

}  // namespace
}  // namespace byoc::kube
