// The environment's ZooKeeper: an ensemble of three on the system nodes,
// one per node and spread across zones (losing one keeps the quorum). Its
// zoo.cfg is the local runtime's (render/zookeeper_config.h: no AdminServer,
// `ruok` the only four-letter word) made an ensemble: not standalone, and a
// server line per member. Logs go to stdout (the image's logback default).
//
// Each replicated service keeps its nodes under a chroot of its own
// (/byoc/<service>), as in the local runtime. ClickHouse 18.16 won't start
// without it, so its pods make it first (an init container running the
// image's zkCli.sh, waiting for the ensemble as long as it takes), and a
// Job deletes it once the service is removed. Each incarnation of a service
// name has a chroot of its own (KubernetesOptions::incarnations).
#include "render/kubernetes/objects.h"
#include "render/zookeeper_config.h"

namespace byoc::render::kubernetes::detail {
namespace {

constexpr int kZooKeeperUid = 1000;  // the official image's zookeeper user

std::string member_pod(int ordinal) { return std::string(kZooKeeperName) + "-" + std::to_string(ordinal); }

std::string zoo_cfg(const Env& env) {
  render::ZooKeeperConfig z;
  z.data_dir = "/data/";
  z.client_address = "0.0.0.0";
  z.client_port = kZooKeeperClientPort;
  std::string text = render::render_zoo_cfg(z);
  replace_exactly(text, "a standalone ZooKeeper", "the ZooKeeper ensemble", 1);
  replace_exactly(text, "standaloneEnabled=true", "standaloneEnabled=false", 1);
  text += "initLimit=10\nsyncLimit=5\n";
  // A member binds its quorum ports on every address of its pod, not only
  // the one its name resolves to.
  text += "quorumListenOnAllIPs=true\n";
  for (int i = 0; i < kZooKeeperReplicas; ++i)
    text += "server." + std::to_string(i + 1) + "=" + env.pod_host(member_pod(i), kZooKeeperName) + ":" +
            std::to_string(kZooKeeperPeerPort) + ":" + std::to_string(kZooKeeperElectionPort) + "\n";
  return text;
}

json headless_service(const Env& env) {
  json o = object(env, "v1", "Service", kZooKeeperName, labels(env, kZooKeeperApp));
  o["spec"] = {{"clusterIP", "None"},
               // Members must find each other before any is ready (no quorum yet).
               {"publishNotReadyAddresses", true},
               {"selector", selector_labels(kZooKeeperApp)},
               {"ports", json::array({service_port("client", kZooKeeperClientPort), service_port("peer", kZooKeeperPeerPort),
                                      service_port("election", kZooKeeperElectionPort)})}};
  return o;
}

json container(const Env& env) {
  // myid is the ordinal + 1, from the pod's name ($$ keeps Kubernetes from
  // reading $( as one of its variable references).
  const std::string start =
      "echo $$(( ${HOSTNAME##*-} + 1 )) > /data/myid && exec zkServer.sh start-foreground /conf/zoo.cfg";
  return {{"name", "zookeeper"},
          {"image", env.options.zookeeper_image},
          {"command", json::array({"/bin/bash", "-c", start})},
          {"env", json::array({{{"name", "ZOO_LOG_DIR"}, {"value", "/logs"}}, {{"name", "JVMFLAGS"}, {"value", "-Xmx512m"}}})},
          {"ports", json::array({container_port("client", kZooKeeperClientPort), container_port("peer", kZooKeeperPeerPort),
                                 container_port("election", kZooKeeperElectionPort)})},
          {"resources", guaranteed_resources("500m", "1Gi")},
          {"readinessProbe", probe_tcp(kZooKeeperClientPort, 5, 5, 3)},
          {"livenessProbe", probe_tcp(kZooKeeperClientPort, 30, 10, 6)},
          {"securityContext", container_security()},
          {"volumeMounts", json::array({{{"name", "data"}, {"mountPath", "/data"}},
                                        {{"name", "conf"}, {"mountPath", "/conf"}, {"readOnly", true}},
                                        {{"name", "logs"}, {"mountPath", "/logs"}},
                                        {{"name", "tmp"}, {"mountPath", "/tmp"}}})}};
}

json ensemble(const Env& env) {
  const json selector = selector_labels(kZooKeeperApp);
  const json pod_labels = labels(env, kZooKeeperApp);
  json pod = pod_spec(kZooKeeperUid, container(env),
                      json::array({{{"name", "conf"}, {"configMap", {{"name", kZooKeeperName}}}},
                                   empty_dir("logs", "1Gi"), empty_dir("tmp", "256Mi")}));
  pod["nodeSelector"] = {{"byoc.io/role", "system"}};
  pod.update(spread_across_nodes_and_zones(selector));
  return stateful_set(env, kZooKeeperName, pod_labels, selector, kZooKeeperReplicas, kZooKeeperName, pod,
                      env.options.zookeeper_volume_gib);
}

std::string connect_string(const Env& env) {
  std::string out;
  for (const auto& host : zookeeper_hosts(env))
    out += (out.empty() ? "" : ",") + host + ":" + std::to_string(kZooKeeperClientPort);
  return out;
}

// zkCli.sh in a container of `pod_uid`'s pod, writing only to /tmp. The
// script comes with its arguments as "$1"…: nothing of a name is parsed by
// the shell.
json zk_cli_container(const Env& env, const char* name, const std::string& script, json args) {
  json command = json::array({"/bin/bash", "-c", script, name});
  for (auto& a : args) command.push_back(std::move(a));
  return {{"name", name},
          {"image", env.options.zookeeper_image},
          {"command", command},
          {"env", json::array({{{"name", "ZK"}, {"value", connect_string(env)}},
                               {{"name", "ZOO_LOG_DIR"}, {"value", "/tmp"}},
                               {{"name", "CLIENT_JVMFLAGS"}, {"value", "-Xmx128m"}}})},
          {"resources", guaranteed_resources("250m", "256Mi")},
          {"securityContext", container_security()},
          {"volumeMounts", json::array({{{"name", "tmp"}, {"mountPath", "/tmp"}}})}};
}

}  // namespace

std::string chroot_of(const Env& env, const std::string& service) {
  auto it = env.options.incarnations.find(service);
  return zookeeper_chroot(service, it == env.options.incarnations.end() ? "" : it->second);
}

json zookeeper_chroot_container(const Env& env, const model::DesiredService& s) {
  // `stat` fails until the node exists; `create` of an existing node fails
  // harmlessly. Each call is bounded: an unreachable ensemble is waited for.
  const std::string script =
      "until timeout 60 zkCli.sh -server \"$ZK\" stat \"$1\" >/dev/null 2>&1; do "
      "timeout 60 zkCli.sh -server \"$ZK\" create /byoc >/dev/null 2>&1; "
      "timeout 60 zkCli.sh -server \"$ZK\" create \"$1\" >/dev/null 2>&1; "
      "sleep 2; done";
  return zk_cli_container(env, "zookeeper-chroot", script, json::array({chroot_of(env, s.name)}));
}

json zookeeper_cleanup_job(const Env& env, const std::string& service) {
  const json pod_labels = labels(env, kZooKeeperCleanupApp, service);
  // Done once ZooKeeper says the node is not there (deleted now, or before:
  // a repeated removal succeeds too); an unreachable ensemble is a failure,
  // retried.
  const std::string script =
      "timeout 120 zkCli.sh -server \"$ZK\" deleteall \"$1\" >/dev/null 2>&1; "
      "timeout 60 zkCli.sh -server \"$ZK\" stat \"$1\" 2>&1 | grep -q 'Node does not exist'";
  json container = zk_cli_container(env, "zookeeper-cleanup", script, json::array({chroot_of(env, service)}));
  json pod = pod_spec(kZooKeeperUid, container, json::array({empty_dir("tmp", "256Mi")}));
  pod["restartPolicy"] = "OnFailure";
  pod["nodeSelector"] = {{"byoc.io/role", "system"}};
  auto incarnation = env.options.incarnations.find(service);
  json o = object(env, "batch/v1", "Job",
                  zookeeper_cleanup_job_name(service, incarnation == env.options.incarnations.end() ? "" : incarnation->second),
                  pod_labels);
  o["spec"] = {{"backoffLimit", 6},
               {"activeDeadlineSeconds", 900},
               // Gone an hour after it ends: long enough to read what it did.
               {"ttlSecondsAfterFinished", 3600},
               {"template", {{"metadata", {{"labels", pod_labels}}}, {"spec", std::move(pod)}}}};
  return o;
}

std::vector<std::string> zookeeper_hosts(const Env& env) {
  std::vector<std::string> out;
  for (int i = 0; i < kZooKeeperReplicas; ++i) out.push_back(env.pod_host(member_pod(i), kZooKeeperName));
  return out;
}

std::vector<json> zookeeper_objects(const Env& env) {
  return {zookeeper_policy(env), config_map(env, kZooKeeperName, labels(env, kZooKeeperApp), {{"zoo.cfg", zoo_cfg(env)}}),
          headless_service(env),
          disruption_budget(env, kZooKeeperName, labels(env, kZooKeeperApp), selector_labels(kZooKeeperApp)),
          ensemble(env)};
}

}  // namespace byoc::render::kubernetes::detail
