// A service's endpoint: the local runtime's nginx (render/nginx_config.h —
// TLS, the allowlist, the native protocol over TLS and, when enabled, the
// support gateway) as a Deployment of two, behind an internal NLB that
// keeps clients' addresses (so the allowlist is enforced by the NLB's
// security group and again by nginx).
//
// The local renderer's text is adapted by exact placeholders: the upstream
// becomes the in-cluster Service of the replicas, the gateway check the
// agent's Service, and the two secrets nginx sends (the check key, the
// support user's password) `${BYOC_…}` references that the image's
// entrypoint fills in from the pod's environment at start (envsubst, BYOC_
// variables only) into a memory-backed emptyDir. No proxy_bind: in a pod,
// a loopback source can't reach another pod; the NetworkPolicies tell the
// endpoint from the replicas instead.
#include "base/crypto.h"
#include "kube/agent_objects.h"
#include "render/clickhouse_config.h"
#include "render/kubernetes/objects.h"
#include "render/nginx_config.h"

namespace byoc::render::kubernetes::detail {
namespace {

constexpr int kNginxUid = 101;  // nginx-unprivileged's user
constexpr int kEndpointReplicas = 2;
constexpr const char* kTemplateDir = "/etc/byoc/nginx";
constexpr const char* kRunDir = "/run/byoc";
constexpr const char* kTlsDir = "/etc/byoc/tls/";
constexpr const char* kSupportDir = "/etc/byoc/support/";
constexpr const char* kCheckKeyEnv = "BYOC_CHECK_KEY";
constexpr const char* kSupportPasswordEnv = "BYOC_SUPPORT_PASSWORD";

// Rendered where the local renderer wants what a pod only learns at start,
// then swapped (addresses of TEST-NET-1, RFC 5737; hex of no known secret).
constexpr std::string_view kUpstreamMark = "192.0.2.80:";
constexpr std::string_view kCheckMark = "192.0.2.1:9";
constexpr std::string_view kKubeProxyMark = "192.0.2.2:9";
constexpr const char* kSupportSourceMark = "127.0.0.3";
const std::string kCheckKeyMark(64, 'c');
const std::string kSupportKeyMark(64, 'd');
constexpr const char* kStreamModule = "/usr/lib/nginx/modules/ngx_stream_module.so";

std::string check_address(const Env& env) {
  const SupportGatewayOptions& g = env.options.support_gateway;
  if (!g.check_address.empty()) return g.check_address;
  return env.service_host_in(kube::kAgentName, env.options.agent_namespace) + ":" + std::to_string(kGatewayCheckPort);
}

std::string kube_proxy_address(const Env& env) {
  const SupportGatewayOptions& g = env.options.support_gateway;
  if (!g.kube_proxy_address.empty()) return g.kube_proxy_address;
  return env.service_host_in(kube::kAgentName, env.options.agent_namespace) + ":" + std::to_string(kKubeProxyPort);
}

std::string nginx_template(const Env& env, const model::DesiredService& s) {
  const bool gateway = env.options.support_gateway.enabled;
  render::NginxEndpointConfig n;
  n.pid_file = "/tmp/nginx.pid";
  n.error_log_file = "/dev/stderr";
  n.access_log_file = "/dev/stdout";
  n.temp_dir = "/tmp/";
  n.certificate_file = std::string(kTlsDir) + "tls.crt";
  n.certificate_key_file = std::string(kTlsDir) + "tls.key";
  n.listen_host = "0.0.0.0";
  n.https_port = kEndpointHttpsPort;
  n.native_tls_port = kEndpointNativePort;
  n.stream_module_file = kStreamModule;
  const std::string upstream(kUpstreamMark.substr(0, kUpstreamMark.size() - 1));
  n.http_upstreams = {{upstream, kClickHouseHttpPort}};
  n.native_upstreams = {{upstream, kClickHouseTcpPort}};
  n.allowed_cidrs = s.allowed_ips;
  n.upstream_read_timeout_seconds =
      render::clickhouse_sizing(s.cpu_millis, s.memory_mib).max_execution_time_seconds + 60;
  if (gateway) {
    render::NginxSupportGateway g;
    g.port = kGatewayPort;
    g.ca_file = std::string(kSupportDir) + "ca.pem";
    g.crl_file = std::string(kSupportDir) + "crl.pem";
    g.check_address = std::string(kCheckMark);
    g.kube_proxy_address = std::string(kKubeProxyMark);
    g.check_key = kCheckKeyMark;
    g.service = s.name;
    g.clickhouse_key = kSupportKeyMark;
    g.upstream_source = kSupportSourceMark;
    n.support_gateway = g;
  }
  std::string text = render::render_nginx_config(n);
  // The image's nginx has the stream module built in.
  replace_exactly(text, "load_module " + std::string(kStreamModule) + ";\n", "", 1);
  replace_exactly(text, kUpstreamMark, env.service_host(clickhouse_service_name(s.name)) + ":", gateway ? 3 : 2);
  if (gateway) {
    replace_exactly(text, "http://" + std::string(kCheckMark), "http://" + check_address(env), 2);
    replace_exactly(text, "http://" + std::string(kKubeProxyMark) + "/", "http://" + kube_proxy_address(env) + "/", 1);
    replace_exactly(text, " " + kCheckKeyMark + ";", std::string(" ${") + kCheckKeyEnv + "};", 3);
    replace_exactly(text, " " + kSupportKeyMark + ";", std::string(" ${") + kSupportPasswordEnv + "};", 1);
    replace_exactly(text, std::string("      proxy_bind ") + kSupportSourceMark + ";\n", "", 1);
  }
  return text;
}

json endpoint_service(const Env& env, const model::DesiredService& s) {
  json o = object(env, "v1", "Service", endpoint_service_name(s.name), labels(env, kEndpointApp, s.name));
  json ports = json::array({{{"name", "https"}, {"port", 443}, {"targetPort", "https"}, {"protocol", "TCP"}},
                            service_port("native", kEndpointNativePort)});
  if (env.options.support_gateway.enabled) ports.push_back(service_port("support", kGatewayPort));
  o["spec"] = {{"selector", selector_labels(kEndpointApp, s.name)}, {"ports", ports}};
  // No allowlist means no client from outside (as locally, loopback only):
  // an in-cluster Service, never a load balancer open to every source.
  if (s.allowed_ips.empty()) {
    o["spec"]["type"] = "ClusterIP";
    return o;
  }
  o["metadata"]["annotations"] = {
      // The AWS Load Balancer Controller's NLB, in the VPC only, sending to
      // pod addresses and keeping the client's (nginx checks it too).
      {"service.beta.kubernetes.io/aws-load-balancer-type", "external"},
      {"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type", "ip"},
      {"service.beta.kubernetes.io/aws-load-balancer-scheme", "internal"},
      {"service.beta.kubernetes.io/aws-load-balancer-target-group-attributes", "preserve_client_ip.enabled=true"}};
  o["spec"]["type"] = "LoadBalancer";
  o["spec"]["loadBalancerSourceRanges"] = s.allowed_ips;
  // IP targets need no node port.
  o["spec"]["allocateLoadBalancerNodePorts"] = false;
  return o;
}

json nginx_container(const Env& env, const model::DesiredService& s) {
  const bool gateway = env.options.support_gateway.enabled;
  json environment = json::array({{{"name", "NGINX_ENVSUBST_TEMPLATE_DIR"}, {"value", kTemplateDir}},
                                  {{"name", "NGINX_ENVSUBST_OUTPUT_DIR"}, {"value", kRunDir}},
                                  {{"name", "NGINX_ENVSUBST_FILTER"}, {"value", "^BYOC_"}}});
  json ports = json::array({container_port("https", kEndpointHttpsPort), container_port("native", kEndpointNativePort)});
  json mounts = json::array({{{"name", "template"}, {"mountPath", kTemplateDir}, {"readOnly", true}},
                             {{"name", "run"}, {"mountPath", kRunDir}},
                             {{"name", "tmp"}, {"mountPath", "/tmp"}},
                             {{"name", "tls"}, {"mountPath", kTlsDir}, {"readOnly", true}}});
  if (gateway) {
    environment.push_back(env_from_secret(kCheckKeyEnv, kGatewayCheckSecret, kGatewayCheckKey));
    environment.push_back(env_from_secret(kSupportPasswordEnv, credentials_secret_name(s.name), kSupportPasswordKey));
    ports.push_back(container_port("support", kGatewayPort));
    mounts.push_back({{"name", "support-ca"}, {"mountPath", kSupportDir}, {"readOnly", true}});
  }
  return {{"name", "nginx"},
          {"image", env.options.nginx_image},
          // Through the image's entrypoint, which fills in the template first.
          {"args", json::array({"nginx", "-c", std::string(kRunDir) + "/nginx.conf"})},
          {"env", environment},
          {"ports", ports},
          {"resources", guaranteed_resources("500m", "256Mi")},
          {"readinessProbe", probe_tcp(kEndpointHttpsPort, 0, 5, 3)},
          {"livenessProbe", probe_tcp(kEndpointHttpsPort, 10, 10, 6)},
          {"securityContext", container_security()},
          {"volumeMounts", mounts}};
}

json endpoint_deployment(const Env& env, const model::DesiredService& s, const std::string& config) {
  const SupportGatewayOptions& g = env.options.support_gateway;
  const json selector = selector_labels(kEndpointApp, s.name);
  const json pod_labels = labels(env, kEndpointApp, s.name);
  json volumes = json::array({{{"name", "template"}, {"configMap", {{"name", endpoint_service_name(s.name)}}}},
                              // Holds the filled-in config, secrets included: memory only.
                              {{"name", "run"}, {"emptyDir", {{"medium", "Memory"}, {"sizeLimit", "1Mi"}}}},
                              empty_dir("tmp", "256Mi"),
                              {{"name", "tls"}, {"secret", {{"secretName", tls_secret_name(s.name)}, {"defaultMode", 0440}}}}});
  if (g.enabled) volumes.push_back({{"name", "support-ca"}, {"configMap", {{"name", kSupportCaConfigMap}}}});
  json pod = pod_spec(kNginxUid, nginx_container(env, s), volumes);
  // The system node group (cloud/aws/driver/node_groups.cc): ClickHouse's are tainted.
  pod["nodeSelector"] = {{"byoc.io/role", "system"}};
  // Two zones when there are: an endpoint outlives the loss of one.
  pod["affinity"] = {{"podAntiAffinity",
                      {{"preferredDuringSchedulingIgnoredDuringExecution",
                        json::array({{{"weight", 100},
                                      {"podAffinityTerm",
                                       {{"labelSelector", {{"matchLabels", selector}}},
                                        {"topologyKey", "topology.kubernetes.io/zone"}}}}})}}}};
  // nginx reads its config, CA, CRL and certificate at start: a change rolls the pods.
  auto certificate = env.options.certificate_revisions.find(s.name);
  const std::string revision =
      crypto::sha256_hex(config + g.ca_pem + g.crl_pem +
                         (certificate == env.options.certificate_revisions.end() ? "" : certificate->second))
          .substr(0, 16);
  json o = object(env, "apps/v1", "Deployment", endpoint_service_name(s.name), pod_labels);
  o["spec"] = {{"replicas", kEndpointReplicas},
               {"strategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxUnavailable", 0}, {"maxSurge", 1}}}}},
               {"selector", {{"matchLabels", selector}}},
               {"template",
                {{"metadata", {{"labels", pod_labels}, {"annotations", {{"byoc.io/config-revision", revision}}}}},
                 {"spec", pod}}}};
  return o;
}

}  // namespace

std::vector<json> endpoint_objects(const Env& env, const model::DesiredService& s) {
  const std::string config = nginx_template(env, s);
  return {config_map(env, endpoint_service_name(s.name), labels(env, kEndpointApp, s.name), {{"nginx.conf.template", config}}),
          endpoint_service(env, s),
          disruption_budget(env, endpoint_service_name(s.name), labels(env, kEndpointApp, s.name),
                            selector_labels(kEndpointApp, s.name)),
          endpoint_deployment(env, s, config)};
}

json support_ca_config_map(const Env& env) {
  const SupportGatewayOptions& g = env.options.support_gateway;
  return config_map(env, kSupportCaConfigMap, common_labels(env), {{"ca.pem", g.ca_pem}, {"crl.pem", g.crl_pem}});
}

}  // namespace byoc::render::kubernetes::detail
