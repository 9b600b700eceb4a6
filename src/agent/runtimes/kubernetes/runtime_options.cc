// `--runtime-option KEY=VALUE` of the kubernetes runtime, read into its options.
#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "agent/runtimes/kubernetes/kubernetes_runtime.h"
#include "base/error.h"
#include "kube/cluster_config.h"
#include "model/protocol.h"
#include "model/validate.h"

namespace byoc::agent {
namespace {

Error bad(const std::string& key, const std::string& message) {
  return Error::Invalid("invalid_runtime_option", "--runtime-option " + key + ": " + message, "runtime-option");
}

int gibibytes(const std::string& key, const std::string& value) {
  int out = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size() || out < 1 || out > 65536)
    throw bad(key, "must be a whole number of GiB within 1..65536");
  return out;
}

uint16_t port_of(const std::string& key, const std::string& value) {
  int out = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size() || out < 0 || out > 65535)
    throw bad(key, "must be a port, 0 to 65535 (0: any free one)");
  return static_cast<uint16_t>(out);
}

// An IP literal: the address the agent binds, never a name to resolve.
void check_listen_address(const std::string& value) {
  unsigned char buffer[16];
  if (inet_pton(AF_INET, value.c_str(), buffer) != 1 && inet_pton(AF_INET6, value.c_str(), buffer) != 1)
    throw bad("gateway-host", "must be an IP address (0.0.0.0: every address of the pod)");
}

}  // namespace

const std::vector<std::string>& kubernetes_runtime_option_keys() {
  static const std::vector<std::string> keys = {
      "kubeconfig",    "context",          "namespace",         "agent-namespace",     "cluster-domain", "registry",
      "storage-class", "clickhouse-volume-gib", "zookeeper-volume-gib", "zookeeper-image", "nginx-image",
      "gateway-host",  "gateway-check-port",    "kube-proxy-port",      "environment-cidr"};
  return keys;
}

namespace {

std::string setting_of(const std::map<std::string, std::string>& settings, const char* key) {
  auto it = settings.find(key);
  return it == settings.end() ? std::string() : it->second;
}

// Everything but where the API server is: checked, without reading a file.
KubernetesRuntimeOptions checked_settings(const std::map<std::string, std::string>& settings) {
  const auto& keys = kubernetes_runtime_option_keys();
  for (const auto& [key, value] : settings) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      std::string known;
      for (const auto& k : keys) known += (known.empty() ? "" : ", ") + k;
      throw bad(key, "unknown (known: " + known + ")");
    }
    if (value.empty()) throw bad(key, "needs a value");
  }
  auto setting = [&](const char* key) { return setting_of(settings, key); };
  KubernetesRuntimeOptions o;
  if (std::string v = setting("namespace"); !v.empty()) o.render.namespace_name = v;
  if (std::string v = setting("agent-namespace"); !v.empty()) o.render.agent_namespace = v;
  if (std::string v = setting("cluster-domain"); !v.empty()) o.render.cluster_domain = v;
  if (std::string v = setting("registry"); !v.empty()) o.render.registry = v;
  if (std::string v = setting("storage-class"); !v.empty()) o.render.storage_class = v;
  if (std::string v = setting("zookeeper-image"); !v.empty()) o.render.zookeeper_image = v;
  if (std::string v = setting("nginx-image"); !v.empty()) o.render.nginx_image = v;
  if (std::string v = setting("clickhouse-volume-gib"); !v.empty())
    o.render.clickhouse_volume_gib = gibibytes("clickhouse-volume-gib", v);
  if (std::string v = setting("zookeeper-volume-gib"); !v.empty())
    o.render.zookeeper_volume_gib = gibibytes("zookeeper-volume-gib", v);
  if (std::string v = setting("environment-cidr"); !v.empty()) {
    model::Cidr cidr;
    if (!model::parse_canonical_cidr(v, &cidr) || cidr.ipv6)
      throw bad("environment-cidr", "must be an IPv4 network in canonical form, like 10.20.0.0/16");
    o.environment_cidr = v;
  }
  if (std::string v = setting("gateway-host"); !v.empty()) {
    check_listen_address(v);
    o.gateway_host = v;
  }
  if (std::string v = setting("gateway-check-port"); !v.empty()) o.gateway_check_port = port_of("gateway-check-port", v);
  if (std::string v = setting("kube-proxy-port"); !v.empty()) o.kube_proxy_port = port_of("kube-proxy-port", v);
  if (setting("kubeconfig").empty() && !setting("context").empty())
    throw bad("context", "names a context of a kubeconfig: give kubeconfig too");
  // What the renderer would refuse at every apply, refused now.
  model::DesiredState nothing;
  nothing.environment_id = "check";
  try {
    render::kubernetes::check_desired_state(nothing, o.render);
  } catch (const Error& e) {
    std::string key = e.field();
    std::replace(key.begin(), key.end(), '_', '-');
    throw bad(key, e.what());
  }
  return o;
}

}  // namespace

void check_kubernetes_runtime_settings(const std::map<std::string, std::string>& settings) {
  checked_settings(settings);
}

KubernetesRuntimeOptions kubernetes_runtime_options(const std::map<std::string, std::string>& settings,
                                                    const Clock* clock) {
  KubernetesRuntimeOptions o = checked_settings(settings);
  o.clock = clock;
  auto setting = [&](const char* key) { return setting_of(settings, key); };
  if (!setting("kubeconfig").empty()) {
    o.client = kube::kubeconfig_config(setting("kubeconfig"), setting("context")).client;
  } else {
    kube::InClusterSources sources;
    sources.clock = clock;
    o.client = kube::in_cluster_config(sources);
    // In the cluster, the agent's own namespace is its service account's.
    if (setting("agent-namespace").empty()) o.render.agent_namespace = kube::in_cluster_namespace(sources);
  }
  o.client.field_manager = "byoc";
  return o;
}

}  // namespace byoc::agent
