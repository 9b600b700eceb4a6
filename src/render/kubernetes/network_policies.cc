// Who may reach what, ingress only (the namespace's default is deny): a
// service's replicas take their siblings, their own endpoint and the agent
// (HTTP only); the
// endpoint takes the allowlist (the NLB keeps clients' addresses) and the
// load balancer's health checks from inside the environment's network;
// ZooKeeper takes the replicas (whose pods make their service's chroot),
// its own members and the Jobs that delete a removed service's chroot.
#include "render/kubernetes/objects.h"

namespace byoc::render::kubernetes::detail {
namespace {

json policy(const Env& env, const std::string& name, json labels, json pods, json ingress) {
  json o = object(env, "networking.k8s.io/v1", "NetworkPolicy", name, std::move(labels));
  o["spec"] = {{"podSelector", {{"matchLabels", std::move(pods)}}},
               {"policyTypes", json::array({"Ingress"})},
               {"ingress", std::move(ingress)}};
  return o;
}

json ports(std::initializer_list<int> numbers) {
  json out = json::array();
  for (int n : numbers) out.push_back({{"protocol", "TCP"}, {"port", n}});
  return out;
}

json from_pods(json selector) { return {{"podSelector", {{"matchLabels", std::move(selector)}}}}; }

json rule(json peers, json allowed_ports) { return {{"from", std::move(peers)}, {"ports", std::move(allowed_ports)}}; }

}  // namespace

std::vector<json> network_policies(const Env& env, const model::DesiredService& s) {
  json replicas = json::array(
      {rule(json::array({from_pods(selector_labels(kClickHouseApp, s.name))}),
            ports({kClickHouseTcpPort, kClickHouseHttpPort, kClickHouseInterserverPort})),
       rule(json::array({from_pods(selector_labels(kEndpointApp, s.name))}), ports({kClickHouseHttpPort, kClickHouseTcpPort})),
       // The agent copies a joining replica's tables, checks it caught up and
       // drains one that leaves, over HTTP (kubernetes_runtime.h).
       rule(json::array({{{"namespaceSelector",
                           {{"matchLabels", {{"kubernetes.io/metadata.name", env.options.agent_namespace}}}}},
                          {"podSelector",
                           {{"matchLabels",
                             {{"app.kubernetes.io/name", kube::kAgentName},
                              {"byoc.io/environment", env.state.environment_id}}}}}}}),
            ports({kClickHouseHttpPort}))});

  json sources = json::array();
  for (const auto& cidr : s.allowed_ips) sources.push_back({{"ipBlock", {{"cidr", cidr}}}});
  // NLB health checks come from its own addresses, inside the VPC.
  if (!env.state.environment_cidr.empty()) sources.push_back({{"ipBlock", {{"cidr", env.state.environment_cidr}}}});
  json endpoint_ports = env.options.support_gateway.enabled
                            ? ports({kEndpointHttpsPort, kEndpointNativePort, kGatewayPort})
                            : ports({kEndpointHttpsPort, kEndpointNativePort});
  json endpoint = sources.empty() ? json::array() : json::array({rule(sources, endpoint_ports)});

  return {policy(env, clickhouse_service_name(s.name), labels(env, kClickHouseApp, s.name),
                 selector_labels(kClickHouseApp, s.name), replicas),
          policy(env, endpoint_service_name(s.name), labels(env, kEndpointApp, s.name),
                 selector_labels(kEndpointApp, s.name), endpoint)};
}

// Every pod of the namespace: nothing comes in that a policy doesn't allow.
json default_deny(const Env& env) {
  json o = object(env, "networking.k8s.io/v1", "NetworkPolicy", "byoc-default-deny", common_labels(env));
  o["spec"] = {{"podSelector", json::object()}, {"policyTypes", json::array({"Ingress"})}};
  return o;
}

json zookeeper_policy(const Env& env) {
  json ingress = json::array(
      {rule(json::array({from_pods(selector_labels(kClickHouseApp)), from_pods(selector_labels(kZooKeeperCleanupApp))}),
            ports({kZooKeeperClientPort})),
       rule(json::array({from_pods(selector_labels(kZooKeeperApp))}),
            ports({kZooKeeperClientPort, kZooKeeperPeerPort, kZooKeeperElectionPort}))});
  return policy(env, kZooKeeperName, labels(env, kZooKeeperApp), selector_labels(kZooKeeperApp), ingress);
}

}  // namespace byoc::render::kubernetes::detail
