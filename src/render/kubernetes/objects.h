// Pieces the Kubernetes renderers share (not public): the environment being
// rendered, names, labels, ports, and the securityContext / resources /
// volume shapes every pod of the data plane uses.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/protocol.h"
#include "render/kubernetes/kubernetes.h"

namespace byoc::render::kubernetes::detail {

using nlohmann::json;

// Container ports (never host ports): the same in every pod, as each pod has
// its own address.
inline constexpr int kClickHouseHttpPort = kReplicaHttpPort;
inline constexpr int kClickHouseTcpPort = 9000;
inline constexpr int kClickHouseInterserverPort = 9009;
inline constexpr int kEndpointHttpsPort = 8443;
inline constexpr int kEndpointNativePort = 9440;
inline constexpr int kGatewayPort = 9443;
inline constexpr int kZooKeeperClientPort = 2181;
inline constexpr int kZooKeeperPeerPort = 2888;
inline constexpr int kZooKeeperElectionPort = 3888;
inline constexpr int kZooKeeperReplicas = 3;

// app.kubernetes.io/name of each workload.
inline constexpr const char* kClickHouseApp = "clickhouse";
inline constexpr const char* kZooKeeperApp = "zookeeper";
inline constexpr const char* kEndpointApp = kube::kServicesEndpointApp;  // the agent's NetworkPolicy admits these
inline constexpr const char* kZooKeeperCleanupApp = "zookeeper-cleanup";

inline constexpr const char* kZooKeeperName = "byoc-zookeeper";
inline constexpr const char* kSupportCaConfigMap = "byoc-support-ca";

// What is being rendered; checked (check.cc) before any object is built.
struct Env {
  const model::DesiredState& state;
  const KubernetesOptions& options;

  // "<service>.<namespace>.svc.<cluster domain>", in the rendered namespace or another.
  std::string service_host(const std::string& service) const;
  std::string service_host_in(const std::string& service, const std::string& namespace_name) const;
  // A StatefulSet pod's own name under its governing headless Service.
  std::string pod_host(const std::string& pod, const std::string& governing_service) const;
};

// replica_pod_name (kubernetes.h): a ClickHouse pod, its {replica} macro.
std::string replicas_service_name(const std::string& service);  // headless, governs every shard
std::string clickhouse_service_name(const std::string& service);  // in-cluster, ready replicas only

// What selects one workload's pods (of one service, of one shard): the
// selector of a StatefulSet or Deployment can't change, so it holds nothing
// else.
json selector_labels(const std::string& app, const std::string& service = "", int shard = 0);
// What every byoc object carries, by which the runtime prunes:
// app.kubernetes.io/managed-by=byoc, part-of, the environment.
json common_labels(const Env& env);
// The selector's labels and the common ones.
json labels(const Env& env, const std::string& app, const std::string& service = "", int shard = 0);
// apiVersion, kind, metadata (name, namespace, labels).
json object(const Env& env, const char* api_version, const char* kind, const std::string& name, json labels);

json config_map(const Env& env, const std::string& name, json labels, json data);
// PodDisruptionBudget: one pod of `selector` out at a time.
json disruption_budget(const Env& env, const std::string& name, json labels, json selector);

// A pod of one container with no service-account token and no service
// links, running as `uid`: non-root with a fixed uid/gid (the kubelet checks
// runAsNonRoot without reading the image's /etc/passwd), volumes
// group-owned by it, seccomp on.
json pod_spec(int uid, json container, json volumes);
// No privilege escalation, no capability, read-only root filesystem.
json container_security();
// Requests = limits: Guaranteed QoS, the last evicted under node pressure.
json guaranteed_resources(const std::string& cpu, const std::string& memory);
json container_port(const char* name, int port);
json service_port(const char* name, int port);
json env_from_secret(const char* variable, const std::string& secret, const char* key);
json empty_dir(const char* name, const char* size_limit);
// A StatefulSet of `replicas` pods, governed by the headless Service
// `governing`, each with a `data` volume of `volume_gib` on the storage
// class. The pods start all at once: members of a ZooKeeper ensemble or of
// a ClickHouse cluster wait for each other, so an ordered start (each pod
// ready before the next is made) would never get past the first.
// `pod_annotations` (an object, or null for none) go on the pod template: a
// change rolls the pods.
json stateful_set(const Env& env, const std::string& name, const json& labels, const json& selector, int replicas,
                  const std::string& governing, json pod, int volume_gib, json pod_annotations = nullptr);
// Required anti-affinity across nodes and a spread across zones of the pods
// `selector` picks: losing a node takes at most one of them, a zone as few as
// the zones allow.
json spread_across_nodes_and_zones(const json& selector);
json probe_tcp(int port, int initial_delay_seconds, int period_seconds, int failure_threshold);

// Adapts a local renderer's text to the cluster: replaces each `from` with
// `to` and throws kInternal unless there were exactly `count` of them, so a
// renderer whose text changed fails here rather than leave a placeholder in
// a config.
void replace_exactly(std::string& text, std::string_view from, std::string_view to, int count);

// Throws kInvalid naming `field` unless `name` can name a service's objects.
void check_service_name(const std::string& name, const std::string& field);

// The builders behind the public per-kind functions, on a checked Env.
std::vector<json> environment_objects(const Env& env);
std::vector<json> zookeeper_objects(const Env& env);
std::vector<json> network_policies(const Env& env, const model::DesiredService& service);
std::vector<json> clickhouse_objects(const Env& env, const model::DesiredService& service);
std::vector<json> endpoint_objects(const Env& env, const model::DesiredService& service);
json default_deny(const Env& env);
json zookeeper_policy(const Env& env);
json support_ca_config_map(const Env& env);

// The service's chroot, of its incarnation in the options.
std::string chroot_of(const Env& env, const std::string& service);
// The ZooKeeper nodes ClickHouse connects to, one per member of the ensemble.
std::vector<std::string> zookeeper_hosts(const Env& env);
// The init container that makes a replicated service's chroot before
// ClickHouse starts (its pod gives it a `tmp` volume).
json zookeeper_chroot_container(const Env& env, const model::DesiredService& service);
json zookeeper_cleanup_job(const Env& env, const std::string& service);
// Who may sign in to ClickHouse at all (the NetworkPolicies decide who
// reaches it): the pod network — the environment's, when given — and loopback.
std::vector<std::string> pod_networks(const Env& env);

}  // namespace byoc::render::kubernetes::detail
