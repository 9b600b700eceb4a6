// The `kubernetes` runtime: each service as Kubernetes objects in one
// namespace of the cluster the agent runs in (on AWS, the environment's EKS
// cluster), rendered by render/kubernetes (its header lists them) and
// written with server-side apply under one field manager ("byoc").
//
// apply(spec) records the spec on disk (<root>/<service>/spec.json, 0600),
// makes the Secrets the renderer only refers to (<s>-credentials: internal
// passwords, random, kept; <s>-tls: the endpoint's certificate from the
// environment's CA, renewed 30 days before it ends or when the endpoint's
// address changes; byoc-support-gateway: the gateway check's key), applies
// the environment's objects and the service's in the renderer's order, then
// prunes what the service (and the environment) no longer has: every object
// of the pruned kinds labelled app.kubernetes.io/managed-by=byoc and
// byoc.io/service=<s> (or without a service, for the environment's) that
// was not just rendered is deleted. A ZooKeeper ensemble runs while a
// replicated service does; the pods of each make their chroot
// (/byoc/<service>), and a Job deletes it when the service goes while the
// ensemble stays.
//
// What runs is seen through informers (list + watch with resourceVersion,
// 410 → list again) of the namespace's StatefulSets, Deployments, Pods and
// Services, each on a thread of its own with its own client; observe()
// reads their copies and calls no API. A service is READY once every
// workload has rolled out the generation the runtime last applied, every
// replica is ready and the endpoint has an address (service_status.h).
//
// Topology: the replicas of a shard may change, and the number of shards may
// not ("unsupported_topology", nothing touched). Every ClickHouse pod has a
// readiness gate the runtime opens (replica_changes.h): a replica serves —
// is in the Service the endpoint sends to — only once it has every table
// another serving replica of its shard has and has caught up with it; a
// replica added to a running service stays out of the others' cluster until
// then; a dropped one stops serving at once, leaves the cluster, is drained
// (the others catch up with it, then its tables are dropped, which takes it
// out of ZooKeeper) and only then goes, its volume claim after it. The
// runtime reaches the replicas' SQL over HTTP at their pods' addresses
// (options.replica_address), as the cluster user.
//
// Versions: a service's clickhouse_version is a name the agent's
// versions.json maps to an image pinned by digest (its `image`; the local
// runtime's `binary` is ignored here). Without a versions.json, the default
// version runs the image this runtime always ran for it
// (render::kubernetes::clickhouse_image(), with the `registry` option). A
// version the list doesn't have is refused ("unsupported_version", nothing
// touched; a requested rollout is reported failed, "version_unknown"). The
// image a service was applied with is kept (its `image` file), so a later
// versions.json never changes what runs without an apply.
//
// Rollouts: a changed image with a rollout request moves one replica at a
// time, health-gated, never starting a step at or after the request's
// not_after (version_rollout.h: StatefulSet partitions lowered one ordinal
// at a time, the next once the replaced pod is ready on the new image; a pod
// not ready within kStepBound goes back to the old revision and the rollout
// stops, reported failed with the step and check `start` or `ping`). The
// steps are taken on the applying thread (apply() and every
// set_support_gateway(), i.e. every report), from what the informers hold,
// each recorded before it acts. Every other change — and a version change
// without a rollout request — is applied all at once: a StatefulSet rolls
// its pods one by one itself (its PDB lets one replica of a shard out at a
// time); a rollout request without a version change is done at once. The
// gates are Kubernetes' readiness: /ping, and the serving condition above
// (a replaced pod serves again only once caught up with the others).
//
// stop_all() stops the informers only: services keep running while the
// agent restarts (they are the cluster's, not the agent's children).
// remove() deletes every object of the service, its volumes included.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/runtime.h"
#include "agent/versions.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "kube/client.h"
#include "render/kubernetes/kubernetes.h"

namespace byoc::agent {

struct KubernetesRuntimeOptions {
  std::filesystem::path root;               // specs on disk; created 0700
  crypto::KeyedCertificate environment_ca;  // issues endpoint certificates
  const Clock* clock = nullptr;             // required
  std::string environment_id;               // labels every object
  // The environment's network (its VPC): where the load balancer's health
  // checks come from and ClickHouse's users may sign in from; "" when not
  // known (the NetworkPolicies alone then keep others out).
  std::string environment_cidr;
  kube::ClientConfig client;                // the API server (kube/cluster_config.h)
  // Namespace, images, storage class… (render/kubernetes/kubernetes.h);
  // the runtime fills in the support gateway, certificate revisions,
  // ClickHouse images and partitions.
  render::kubernetes::KubernetesOptions render;
  // The agent's versions.json (agent/versions.h): what each version name runs.
  VersionList versions = default_versions();
  // Least time between two watches of one kind (a server that ends watches
  // at once must not be asked in a loop), and between retries after a failure.
  std::chrono::milliseconds watch_pause{1'000};
  std::chrono::milliseconds failure_pause{5'000};
  std::chrono::seconds watch_timeout{290};
  // Where the runtime sends a replica's SQL (replica_changes.h: copying a
  // joining replica's tables, checking it caught up, draining one that
  // leaves), from its pod's name and address (status.podIP): host and HTTP
  // port. Unset: the pod's address and port 8123 (the agent runs in the
  // cluster, and the replicas' NetworkPolicy admits it). Tests point pods at
  // ClickHouse servers on loopback.
  std::function<std::pair<std::string, int>(const std::string& pod, const std::string& address)> replica_address;
  // Where the agent serves the services' support gateways (its gateway
  // check and kubernetes-readonly proxy): every address of its pod, on the
  // ports its Service names (kube/agent_objects.h).
  std::string gateway_host = "0.0.0.0";
  uint16_t gateway_check_port = render::kubernetes::kGatewayCheckPort;
  uint16_t kube_proxy_port = render::kubernetes::kKubeProxyPort;
};

std::unique_ptr<Runtime> make_kubernetes_runtime(const KubernetesRuntimeOptions& options);

// `byoc agent --runtime kubernetes --runtime-option KEY=VALUE…`: where the
// API server is and how objects are rendered. Keys: kubeconfig (a file;
// without it, the in-cluster service account), context, namespace,
// agent-namespace, cluster-domain, registry, storage-class,
// clickhouse-volume-gib, zookeeper-volume-gib, zookeeper-image,
// nginx-image, environment-cidr (IPv4, canonical); and where the agent listens for the gateways: gateway-host,
// gateway-check-port, kube-proxy-port (0: any free port; tests outside a
// cluster). Throws byoc::Error kInvalid (field `runtime-option`) for an
// unknown key or a bad value, and what kube/cluster_config.h throws for a
// kubeconfig or service account it can't use. `clock` must outlive the
// options (it paces the service-account token's re-reads).
KubernetesRuntimeOptions kubernetes_runtime_options(const std::map<std::string, std::string>& settings,
                                                    const Clock* clock);
const std::vector<std::string>& kubernetes_runtime_option_keys();
// The same checks without reading a kubeconfig or the service account:
// what the agent says before it joins.
void check_kubernetes_runtime_settings(const std::map<std::string, std::string>& settings);

}  // namespace byoc::agent
