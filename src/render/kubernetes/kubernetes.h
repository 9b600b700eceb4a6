// What the agent's Kubernetes runtime applies for a desired state, as
// Kubernetes objects (JSON), all in one namespace and in a stable order:
//
//   environment  NetworkPolicy byoc-default-deny (every pod of the namespace
//                takes ingress only from what a policy below allows);
//                ConfigMap byoc-support-ca (support gateway's CA and CRL, when given);
//                once a service is replicated, one ZooKeeper ensemble of 3
//                (NetworkPolicy, ConfigMap, headless Service, PDB, StatefulSet
//                byoc-zookeeper), each service in a chroot of its own
//                (/byoc/<service>, as the local runtime does);
//   per service  NetworkPolicies <s>-clickhouse (replicas from each other,
//                from the endpoint and, over HTTP, from the agent) and <s>-endpoint (the allowlist and the
//                load balancer's health checks); a ConfigMap of config.xml per
//                shard (<s>-s<N>-config, one file per replica, rendered by the
//                local runtime's ClickHouse renderer); Secret <s>-users
//                (users.xml: the `default` user's password hash, nothing in
//                plain text); Services <s>-replicas (headless), <s>-clickhouse
//                (in-cluster, for the endpoint) and <s>-endpoint (an internal
//                NLB, loadBalancerSourceRanges = the allowlist); a PDB per
//                shard and one for the endpoint; a StatefulSet per shard
//                (<s>-s<N>); the endpoint as a Deployment of nginx rendered by
//                the local runtime's nginx renderer — TLS, the allowlist and,
//                when the environment enables it, the support gateway.
//
// Pure: no I/O, no clock, no randomness. A bad input throws byoc::Error
// kInvalid naming its field ("desired.services[0].name", "namespace").
// Thread-safe.
//
// What a pure function must not hold is never rendered, only referred to:
// each service's internal passwords (Secret <s>-credentials: the cluster
// user Distributed tables connect as, the `support` user only the gateway
// signs in as), the endpoint's certificate and key (Secret <s>-tls, issued
// by the environment's CA inside the environment) and the gateway check's
// key (Secret byoc-support-gateway). The runtime makes them. Pods read them
// as environment variables that ClickHouse (`from_env`) and nginx (envsubst
// at start) fill into their configs: no rendered object carries a password.
//
// The rendered ClickHouse runs as uid 101 on a read-only root filesystem:
// it writes only to its volume (/var/lib/clickhouse: data, and the
// preprocessed configs that hold the filled-in passwords), its logs and /tmp
// (emptyDirs).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "kube/agent_objects.h"

namespace byoc::model {
struct DesiredState;
struct DesiredService;
}  // namespace byoc::model

namespace byoc::render::kubernetes {

// The support gateway (access issue; agent/runtime.h SupportGateway): as in
// the local runtime, every service's endpoint runs one when the customer's
// policy allows support access.
struct SupportGatewayOptions {
  bool enabled = false;
  // The support CA and its CRL (public, PEM): rendered as ConfigMap
  // byoc-support-ca when both are given. A changed CRL rolls the endpoints
  // (nginx reads it at start): the runtime passes the keeper's current one.
  std::string ca_pem;
  std::string crl_pem;
  // HOST:PORT of the agent's gateway check; "" is
  // byoc-agent.<agent namespace>.svc.<cluster domain>:8081.
  std::string check_address;
  // HOST:PORT of the agent's kubernetes-readonly proxy, which the gateway
  // fronts under /k8s/; "" is byoc-agent.<agent namespace>.svc.<cluster
  // domain>:8082.
  std::string kube_proxy_address;
};

struct KubernetesOptions {
  // Where every object goes (`--namespace`). Not the agent's: the namespace
  // denies all ingress by default, and the agent takes the gateway's checks.
  std::string namespace_name = "byoc-services";
  std::string agent_namespace = "byoc-system";  // kube/agent_objects.h
  std::string cluster_domain = "cluster.local";
  // Service name → the image its replicas run ("repo@sha256:<64 hex>": the
  // agent's versions.json entry of its clickhouse_version, resolved by the
  // runtime). A service without one runs clickhouse_image() of its version
  // and `registry` (`byoc agent render-kubernetes`, the runtime without a
  // versions.json).
  std::map<std::string, std::string> clickhouse_images;
  // ClickHouse's image repository, without tag; the tag is the service's
  // clickhouse_version (`--registry`). "" picks by version: see clickhouse_image().
  std::string registry;
  // Service name → per shard (index shard - 1) the RollingUpdate partition of
  // its StatefulSet: the pods whose ordinal is at or above it run the
  // rendered template, those below stay on the revision they run (a version
  // rollout paced by the runtime, kubernetes_runtime.h). A service without
  // one renders none: the controller rolls every pod, one at a time.
  std::map<std::string, std::vector<int>> partitions;
  // Service name → the pods (by name) left out of every replica's cluster
  // (remote_servers), as the runtime says: a replica that joins, until it has
  // its tables and has caught up, and one that leaves. They keep running;
  // Distributed queries pass them by, and the endpoint does too while their
  // kServingCondition is not True. The cluster's members are no part of the
  // pods' config revision: ClickHouse reloads them, and a member joining or
  // leaving rolls no pod.
  std::map<std::string, std::set<std::string>> outside_cluster;
  // Service name → per shard (index shard - 1) the replicas its StatefulSet
  // keeps while some leave, when more than the service's: the pods above the
  // service's replicas run (and keep their config file) until the runtime
  // has drained them.
  std::map<std::string, std::vector<int>> held_replicas;
  // PersistentVolumeClaims of ClickHouse and ZooKeeper (`--storage-class`).
  // "gp3": an EBS CSI class with volumeBindingMode WaitForFirstConsumer, so a
  // volume is made in the zone the scheduler picked for its replica. EKS makes
  // no such class itself: whoever installs the agent must.
  std::string storage_class = "gp3";
  // The protocol carries no disk size yet.
  int clickhouse_volume_gib = 100;
  int zookeeper_volume_gib = 10;
  // Service name → the instance type its pods run on (`--profile S=TYPE`),
  // over the service's own `profile` from the desired state: they select
  // that EKS node group (byoc.io/instance-type). A service with neither (or
  // the host profile) lands on any ClickHouse node group
  // (byoc.io/role=clickhouse).
  std::map<std::string, std::string> profiles;
  std::string zookeeper_image = "docker.io/library/zookeeper:3.8.4";
  // An image of the official nginx build (envsubst templates at start, the
  // stream module built in), running unprivileged.
  std::string nginx_image = "docker.io/nginxinc/nginx-unprivileged:1.27";
  SupportGatewayOptions support_gateway;
  // Service name → a revision of its endpoint certificate (the runtime's
  // Secret <s>-tls): nginx reads the certificate at start, so a renewed one
  // rolls the endpoint's pods as a changed config does.
  std::map<std::string, std::string> certificate_revisions;
  // Service name → its incarnation (a short id the runtime makes when it
  // first makes the service): its ZooKeeper chroot is
  // /byoc/<service>-<incarnation> (/byoc/<service> without one), so a
  // service removed and made again under the same name never meets the
  // nodes of the old one, nor the Job deleting them.
  std::map<std::string, std::string> incarnations;
};

// Every object, in apply order: the environment's (default deny, support
// CA, ZooKeeper), then each service's, services by name.
std::vector<nlohmann::json> render_kubernetes(const model::DesiredState& state, const KubernetesOptions& options);

// {"apiVersion":"v1","kind":"List","items":[…]}: what `byoc agent
// render-kubernetes` prints.
nlohmann::json kubernetes_list(const std::vector<nlohmann::json>& items);

// Per kind, in the same order and with the same checks as render_kubernetes.
// `service` is one of `state.services`.
std::vector<nlohmann::json> environment_objects(const model::DesiredState& state, const KubernetesOptions& options);
std::vector<nlohmann::json> zookeeper_objects(const model::DesiredState& state, const KubernetesOptions& options);
std::vector<nlohmann::json> service_objects(const model::DesiredState& state, const model::DesiredService& service,
                                            const KubernetesOptions& options);
std::vector<nlohmann::json> network_policies(const model::DesiredState& state, const model::DesiredService& service,
                                             const KubernetesOptions& options);
// Config maps, users Secret, Services, PDBs and StatefulSets of the replicas.
std::vector<nlohmann::json> clickhouse_objects(const model::DesiredState& state, const model::DesiredService& service,
                                               const KubernetesOptions& options);
// The endpoint's ConfigMap, Service, PDB and Deployment.
std::vector<nlohmann::json> endpoint_objects(const model::DesiredState& state, const model::DesiredService& service,
                                             const KubernetesOptions& options);

// The Job that deletes a removed service's ZooKeeper chroot (that of its
// incarnation in `options`) while the ensemble stays for the other
// replicated services of `state` (which no longer holds the removed one).
nlohmann::json zookeeper_cleanup_job(const model::DesiredState& state, const std::string& service,
                                     const KubernetesOptions& options);
// "<s>-zk-cleanup" or "<s>-<incarnation>-zk-cleanup".
std::string zookeeper_cleanup_job_name(const std::string& service, const std::string& incarnation);
// "/byoc/<s>" or "/byoc/<s>-<incarnation>".
std::string zookeeper_chroot(const std::string& service, const std::string& incarnation);
inline constexpr size_t kMaxIncarnationLength = 8;  // [a-z0-9]

// Throws what render_kubernetes would for a bad desired state or options.
void check_desired_state(const model::DesiredState& state, const KubernetesOptions& options);

// The image `service`'s replicas run: options.clickhouse_images', else
// clickhouse_image(version, registry).
std::string service_clickhouse_image(const model::DesiredService& service, const KubernetesOptions& options);

// "<registry>:<version>". Without a registry, the repository ClickHouse
// publishes that version in: docker.io/yandex/clickhouse-server before 21
// (18.16.1 included), docker.io/clickhouse/clickhouse-server from 21 on.
std::string clickhouse_image(const std::string& version, const std::string& registry);

// A service with more than one replica in all needs ZooKeeper (replicated
// tables, ON CLUSTER DDL), as in the local runtime; the environment runs an
// ensemble once one of its services does.
bool needs_zookeeper(const model::DesiredService& service);
bool needs_zookeeper(const model::DesiredState& state);

// A replica's pod serves (the ClickHouse Service, hence the endpoint, sends
// to it) only once the runtime has set this condition True in its status:
// every ClickHouse pod has it as a readiness gate, so a replica that starts
// empty or behind is not Ready until the runtime has copied its tables and
// seen it caught up (kubernetes_runtime.h).
inline constexpr const char* kServingCondition = "byoc.io/serving";
// The name of replica `ordinal` (from 0) of shard `shard` (from 1): its pod.
std::string replica_pod_name(const std::string& service, int shard, int ordinal);
// What the Kubernetes upgrader reads off a pod (plan/upgrade/kube_control.h):
// every ClickHouse pod is marked as such, so that its eviction waits for its
// service's window, with how long a replica takes to leave and come back —
// its 120 s grace, the image's pull, ClickHouse's start, catching up — so
// that no eviction begins unless the window fits it.
inline constexpr const char* kComponentLabel = "byoc.io/component";
inline constexpr const char* kDrainSecondsAnnotation = "byoc.io/drain-seconds";
inline constexpr int kReplicaDrainSeconds = 360;

// The name a replica's pod is reached by, and listed by in every replica's
// cluster (system.clusters host_name).
std::string replica_host(const std::string& service, const std::string& pod, const KubernetesOptions& options);
// The ClickHouse HTTP port of every replica's pod.
inline constexpr int kReplicaHttpPort = 8123;
// The user Distributed tables connect to the shards as (as in the local
// runtime), with the password kClusterPasswordKey of the service's
// credentials Secret: the runtime sends its SQL as it too.
inline constexpr const char* kClusterUser = "byoc_cluster";

// What the runtime makes and the rendered pods read.
std::string credentials_secret_name(const std::string& service);  // Opaque
inline constexpr const char* kClusterPasswordKey = "cluster-password";
inline constexpr const char* kSupportPasswordKey = "support-password";
std::string tls_secret_name(const std::string& service);  // kubernetes.io/tls: tls.crt, tls.key
inline constexpr const char* kGatewayCheckSecret = "byoc-support-gateway";
inline constexpr const char* kGatewayCheckKey = "check-key";  // 64 lowercase hex
inline constexpr int kGatewayCheckPort = kube::kAgentGatewayCheckPort;
// The agent's kubernetes-readonly proxy, where the gateways send /k8s/.
inline constexpr int kKubeProxyPort = kube::kAgentKubeProxyPort;

// A Secret the runtime makes (credentials_secret_name, tls_secret_name,
// kGatewayCheckSecret), labelled as the rendered objects of `service` are
// ("" for the environment's), so it is found and pruned with them. `data`
// maps keys to values, base64-encoded here.
nlohmann::json runtime_secret(const model::DesiredState& state, const KubernetesOptions& options,
                              const std::string& service, const std::string& name, const std::string& type,
                              const std::map<std::string, std::string>& data);

// Names the runtime looks objects up by.
std::string shard_stateful_set_name(const std::string& service, int shard);  // "<s>-s<N>"
std::string endpoint_service_name(const std::string& service);             // "<s>-endpoint"
inline constexpr int kMaxServiceNameLength = 40;  // so every derived name fits Kubernetes' limits

}  // namespace byoc::render::kubernetes
