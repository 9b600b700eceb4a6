// A service's replicas: per shard a StatefulSet and its config.xml files,
// the users Secret, the Services that name the replicas, a PDB per shard.
// config.xml and users.xml come from the local runtime's renderers
// (render/clickhouse_config.h); only the internal users' passwords are
// swapped for `from_env` references, which ClickHouse fills in from the
// pod's environment (the runtime's Secret <s>-credentials) as it loads them.
#include "base/crypto.h"
#include "render/clickhouse_config.h"
#include "render/kubernetes/objects.h"

namespace byoc::render::kubernetes::detail {
namespace {

constexpr const char* kSupportUser = "support";

// Rendered where a password goes, then swapped for a `from_env` reference.
// The hashes are 64 hex digits as users.xml wants, of no known password.
constexpr std::string_view kClusterPasswordMark = "BYOC_CLUSTER_PASSWORD_FROM_ENV";
const std::string kClusterHashMark(64, 'a');
const std::string kSupportHashMark(64, 'b');
constexpr const char* kClusterPasswordEnv = "BYOC_CLUSTER_PASSWORD";
constexpr const char* kSupportPasswordEnv = "BYOC_SUPPORT_PASSWORD";

constexpr int kClickHouseUid = 101;  // the official images' clickhouse user
constexpr const char* kDataDir = "/var/lib/clickhouse/";
constexpr const char* kConfigDir = "/etc/clickhouse-server/config/";
constexpr const char* kUsersDir = "/etc/clickhouse-server/users/";
constexpr const char* kLogDir = "/var/log/clickhouse-server/";
// Which replica a pod is: its name, from the downward API.
constexpr const char* kReplicaEnv = "BYOC_REPLICA";

std::string config_map_name(const std::string& service, int shard) {
  return shard_stateful_set_name(service, shard) + "-config";
}
std::string users_secret_name(const std::string& service) { return service + "-users"; }

std::string from_env(const char* variable) { return std::string("<password from_env=\"") + variable + "\"/>"; }

// The replicas a shard's StatefulSet keeps: the service's, or more while
// some leave (KubernetesOptions::held_replicas).
int held_replicas(const Env& env, const model::DesiredService& s, int shard) {
  auto it = env.options.held_replicas.find(s.name);
  if (it == env.options.held_replicas.end() || it->second.size() < static_cast<size_t>(shard)) return s.replicas;
  return std::max(s.replicas, it->second[static_cast<size_t>(shard - 1)]);
}

// The cluster replica `self` (of `self_shard`) reads (remote_servers): each
// shard's replicas but those the runtime keeps out
// (KubernetesOptions::outside_cluster) — all of them if that leaves none
// (ClickHouse refuses an empty shard) — and itself always (ClickHouse wants
// a replica in its own shard; the local runtime does the same). With
// `first_only`, each shard's first replica and itself: what stays the same
// whoever joins or leaves.
std::vector<render::ClickHouseClusterShard> cluster_members(const Env& env, const model::DesiredService& s,
                                                            int self_shard, const std::string& self,
                                                            bool first_only) {
  const std::string governing = replicas_service_name(s.name);
  auto outside = env.options.outside_cluster.find(s.name);
  std::vector<render::ClickHouseClusterShard> out;
  for (int sh = 1; sh <= s.shards; ++sh) {
    render::ClickHouseClusterShard members, all;
    bool has_self = false;
    for (int r = 0; r < (first_only ? 1 : s.replicas); ++r) {
      const std::string pod = replica_pod_name(s.name, sh, r);
      all.replicas.push_back({env.pod_host(pod, governing), kClickHouseTcpPort});
      if (pod != self && outside != env.options.outside_cluster.end() && outside->second.count(pod)) continue;
      has_self = has_self || pod == self;
      members.replicas.push_back(all.replicas.back());
    }
    if (members.replicas.empty()) members = all;
    if (sh == self_shard && !has_self) members.replicas.push_back({env.pod_host(self, governing), kClickHouseTcpPort});
    out.push_back(members);
  }
  return out;
}

// `members_fixed`: with a cluster of each shard's first replica, whoever
// joins or leaves (what the pods' config revision is made from).
std::string replica_config(const Env& env, const model::DesiredService& s, int shard, int ordinal,
                           bool members_fixed = false) {
  const std::string governing = replicas_service_name(s.name);
  render::ClickHouseServerConfig c;
  c.cluster_name = s.name;
  c.shard = shard;
  c.replica_name = replica_pod_name(s.name, shard, ordinal);
  c.listen_host = "0.0.0.0";
  c.http_port = kClickHouseHttpPort;
  c.tcp_port = kClickHouseTcpPort;
  c.interserver_http_port = kClickHouseInterserverPort;
  // Replicas fetch parts from each other at this name.
  c.interserver_http_host = env.pod_host(c.replica_name, governing);
  c.data_path = kDataDir;
  c.tmp_path = std::string(kDataDir) + "tmp/";
  c.user_files_path = std::string(kDataDir) + "user_files/";
  c.format_schema_path = std::string(kDataDir) + "format_schemas/";
  c.log_file = std::string(kLogDir) + "clickhouse-server.log";
  c.error_log_file = std::string(kLogDir) + "clickhouse-server.err.log";
  c.users_config_file = std::string(kUsersDir) + "users.xml";
  // Pod names, stable across restarts; a replica finds itself among them by
  // resolving its own (the headless Service publishes not-ready pods too).
  c.cluster = cluster_members(env, s, shard, c.replica_name, members_fixed);
  c.cluster_user = kClusterUser;
  c.cluster_password = kClusterPasswordMark;
  if (needs_zookeeper(s)) {
    for (const auto& host : zookeeper_hosts(env)) c.zookeeper.push_back({host, kZooKeeperClientPort});
    c.zookeeper_root = chroot_of(env, s.name);  // made by the pods' init container
  }
  c.sizing = render::clickhouse_sizing(s.cpu_millis, s.memory_mib);
  std::string text = render::render_clickhouse_config(c);
  size_t members = 0;
  for (const auto& shard_members : c.cluster) members += shard_members.replicas.size();
  replace_exactly(text, "<password>" + std::string(kClusterPasswordMark) + "</password>", from_env(kClusterPasswordEnv),
                  members);
  return text;
}

std::string users_xml(const Env& env, const model::DesiredService& s) {
  const std::vector<std::string> networks = pod_networks(env);
  render::ClickHouseUsersConfig u;
  u.users = {render::ClickHouseUser{"default", s.default_password_sha256_hex, networks},
             render::ClickHouseUser{kClusterUser, kClusterHashMark, networks}};
  u.sizing = render::clickhouse_sizing(s.cpu_millis, s.memory_mib);
  const bool gateway = env.options.support_gateway.enabled;
  if (gateway) {
    render::ClickHouseSupportUser support;
    support.name = kSupportUser;
    support.password_sha256_hex = kSupportHashMark;
    support.networks = networks;
    u.support = support;
  }
  std::string text = render::render_clickhouse_users(u);
  auto hash_element = [](const std::string& hash) { return "<password_sha256_hex>" + hash + "</password_sha256_hex>"; };
  replace_exactly(text, hash_element(kClusterHashMark), from_env(kClusterPasswordEnv), 1);
  if (gateway) replace_exactly(text, hash_element(kSupportHashMark), from_env(kSupportPasswordEnv), 1);
  return text;
}

json shard_config_map(const Env& env, const model::DesiredService& s, int shard) {
  json files = json::object();
  for (int r = 0; r < held_replicas(env, s, shard); ++r)
    files[replica_pod_name(s.name, shard, r) + ".xml"] = replica_config(env, s, shard, r);
  return config_map(env, config_map_name(s.name, shard), labels(env, kClickHouseApp, s.name, shard), files);
}

// users.xml holds the `default` user's password hash: a Secret, though
// nothing in it is a password.
json users_secret(const Env& env, const model::DesiredService& s) {
  json o = object(env, "v1", "Secret", users_secret_name(s.name), labels(env, kClickHouseApp, s.name));
  o["type"] = "Opaque";
  o["data"] = {{"users.xml", crypto::base64(users_xml(env, s))}};
  return o;
}

json replicas_service(const Env& env, const model::DesiredService& s) {
  json o = object(env, "v1", "Service", replicas_service_name(s.name), labels(env, kClickHouseApp, s.name));
  o["spec"] = {{"clusterIP", "None"},
               // Replicas resolve each other while starting (ClickHouse 18.16
               // resolves its cluster's hosts as it loads the config).
               {"publishNotReadyAddresses", true},
               {"selector", selector_labels(kClickHouseApp, s.name)},
               {"ports", json::array({service_port("tcp", kClickHouseTcpPort), service_port("http", kClickHouseHttpPort),
                                      service_port("interserver", kClickHouseInterserverPort)})}};
  return o;
}

// The endpoint's upstream: one stable address nginx resolves at start,
// spreading over the replicas that are ready.
json clickhouse_service(const Env& env, const model::DesiredService& s) {
  json o = object(env, "v1", "Service", clickhouse_service_name(s.name), labels(env, kClickHouseApp, s.name));
  o["spec"] = {{"type", "ClusterIP"},
               {"selector", selector_labels(kClickHouseApp, s.name)},
               {"ports", json::array({service_port("http", kClickHouseHttpPort), service_port("tcp", kClickHouseTcpPort)})}};
  return o;
}

json node_placement(const Env& env, const model::DesiredService& s) {
  json node_selector = {{"byoc.io/role", "clickhouse"}};
  // The options' choice, else the service's own profile (the host profile
  // names no node group).
  auto chosen = env.options.profiles.find(s.name);
  const std::string instance_type =
      chosen != env.options.profiles.end() ? chosen->second : (s.profile == "host" ? "" : s.profile);
  if (!instance_type.empty()) node_selector["byoc.io/instance-type"] = instance_type;
  // The node groups of src/cloud/aws/driver/node_groups.cc: labelled by
  // role and instance type, tainted so that only ClickHouse lands there.
  return {{"nodeSelector", node_selector},
          {"tolerations", json::array({{{"key", "byoc.io/clickhouse"},
                                        {"operator", "Equal"},
                                        {"value", "true"},
                                        {"effect", "NoSchedule"}}})}};
}

json http_ping(int initial_delay_seconds, int period_seconds, int failure_threshold) {
  return {{"httpGet", {{"path", "/ping"}, {"port", "http"}}},
          {"initialDelaySeconds", initial_delay_seconds},
          {"periodSeconds", period_seconds},
          {"failureThreshold", failure_threshold}};
}

json clickhouse_container(const Env& env, const model::DesiredService& s) {
  json environment = json::array({{{"name", kReplicaEnv}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
                                  env_from_secret(kClusterPasswordEnv, credentials_secret_name(s.name), kClusterPasswordKey)});
  if (env.options.support_gateway.enabled)
    environment.push_back(env_from_secret(kSupportPasswordEnv, credentials_secret_name(s.name), kSupportPasswordKey));
  return {
      {"name", "clickhouse"},
      {"image", service_clickhouse_image(s, env.options)},
      // The binary itself, not the image's entrypoint (which wants root to
      // chown and writes its own config).
      {"command", json::array({"/usr/bin/clickhouse-server"})},
      {"args", json::array({std::string("--config-file=") + kConfigDir + "$(" + kReplicaEnv + ").xml"})},
      {"env", environment},
      {"ports", json::array({container_port("http", kClickHouseHttpPort), container_port("tcp", kClickHouseTcpPort),
                             container_port("interserver", kClickHouseInterserverPort)})},
      {"resources", guaranteed_resources(std::to_string(s.cpu_millis) + "m", std::to_string(s.memory_mib) + "Mi")},
      // Loading many parts can take long: liveness starts once it answered.
      {"startupProbe", http_ping(5, 10, 360)},
      {"readinessProbe", http_ping(0, 5, 3)},
      {"livenessProbe", http_ping(0, 10, 6)},
      {"securityContext", container_security()},
      {"volumeMounts", json::array({{{"name", "data"}, {"mountPath", kDataDir}},
                                    {{"name", "config"}, {"mountPath", kConfigDir}, {"readOnly", true}},
                                    {{"name", "users"}, {"mountPath", kUsersDir}, {"readOnly", true}},
                                    {{"name", "logs"}, {"mountPath", kLogDir}},
                                    {{"name", "tmp"}, {"mountPath", "/tmp"}}})}};
}

json shard_stateful_set(const Env& env, const model::DesiredService& s, int shard) {
  const json selector = selector_labels(kClickHouseApp, s.name, shard);
  const json pod_labels = labels(env, kClickHouseApp, s.name, shard);
  json pod = pod_spec(
      kClickHouseUid, clickhouse_container(env, s),
      json::array({{{"name", "config"}, {"configMap", {{"name", config_map_name(s.name, shard)}}}},
                   // 0440 with fsGroup: ClickHouse's group reads it.
                   {{"name", "users"}, {"secret", {{"secretName", users_secret_name(s.name)}, {"defaultMode", 0440}}}},
                   // Five rotated files of each log, 100 MB each.
                   empty_dir("logs", "2Gi"), empty_dir("tmp", "1Gi")}));
  pod["terminationGracePeriodSeconds"] = 120;
  pod["readinessGates"] = json::array({{{"conditionType", kServingCondition}}});
  if (needs_zookeeper(s)) pod["initContainers"] = json::array({zookeeper_chroot_container(env, s)});
  pod.update(node_placement(env, s));
  pod.update(spread_across_nodes_and_zones(selector));
  // ClickHouse reloads its files as they change, but the kubelet projects a
  // changed ConfigMap or Secret into a running pod only a minute or more
  // later, and nothing says when: a change rolls the pods instead (one
  // replica of a shard at a time), so a rolled-out StatefulSet serves it.
  // All but the cluster's members: a replica joining or leaving must not
  // restart the others, and a late reload of them only delays who
  // Distributed queries reach (the endpoint follows readiness at once). Every
  // replica's file is the first one's but for its own name.
  const std::string revision =
      crypto::sha256_hex(replica_config(env, s, shard, 0, true) + users_xml(env, s)).substr(0, 16);
  json marked = pod_labels;
  marked[kComponentLabel] = kClickHouseApp;
  json set = stateful_set(env, shard_stateful_set_name(s.name, shard), marked, selector, held_replicas(env, s, shard),
                          replicas_service_name(s.name), pod, env.options.clickhouse_volume_gib,
                          {{"byoc.io/config-revision", revision},
                           {kDrainSecondsAnnotation, std::to_string(kReplicaDrainSeconds)}});
  // A version rollout holds the pods below the partition on what they run.
  if (auto it = env.options.partitions.find(s.name); it != env.options.partitions.end())
    set["spec"]["updateStrategy"]["rollingUpdate"] = {{"partition", it->second.at(static_cast<size_t>(shard - 1))}};
  return set;
}

}  // namespace

std::vector<json> clickhouse_objects(const Env& env, const model::DesiredService& s) {
  std::vector<json> out;
  for (int shard = 1; shard <= s.shards; ++shard) out.push_back(shard_config_map(env, s, shard));
  out.push_back(users_secret(env, s));
  out.push_back(replicas_service(env, s));
  out.push_back(clickhouse_service(env, s));
  for (int shard = 1; shard <= s.shards; ++shard)
    out.push_back(disruption_budget(env, shard_stateful_set_name(s.name, shard), labels(env, kClickHouseApp, s.name, shard),
                                    selector_labels(kClickHouseApp, s.name, shard)));
  for (int shard = 1; shard <= s.shards; ++shard) out.push_back(shard_stateful_set(env, s, shard));
  return out;
}

}  // namespace byoc::render::kubernetes::detail
