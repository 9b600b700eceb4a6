#include "render/kubernetes/kubernetes.h"

#include <algorithm>

#include "base/crypto.h"
#include "base/error.h"
#include "render/clickhouse_config.h"
#include "render/kubernetes/objects.h"

namespace byoc::render::kubernetes {
namespace {

using detail::Env;
using nlohmann::json;

void append(std::vector<json>& out, std::vector<json> more) {
  out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

// A checked Env for one of the per-kind functions, whose `service` must be
// one of the state's (it is rendered with the state's environment).
Env checked(const model::DesiredState& state, const KubernetesOptions& options, const model::DesiredService* service) {
  check_desired_state(state, options);
  if (service && std::none_of(state.services.begin(), state.services.end(),
                              [&](const model::DesiredService& s) { return s == *service; }))
    throw Error::Invalid("invalid_value", "the service is not one of the desired state's", "service");
  return Env{state, options};
}

std::vector<json> one_service(const Env& env, const model::DesiredService& s) {
  std::vector<json> out = detail::network_policies(env, s);
  append(out, detail::clickhouse_objects(env, s));
  append(out, detail::endpoint_objects(env, s));
  return out;
}

}  // namespace

namespace detail {

std::vector<json> environment_objects(const Env& env) {
  std::vector<json> out = {default_deny(env)};
  const SupportGatewayOptions& g = env.options.support_gateway;
  if (g.enabled && !g.ca_pem.empty()) out.push_back(support_ca_config_map(env));
  if (needs_zookeeper(env.state)) append(out, zookeeper_objects(env));
  return out;
}

std::vector<std::string> pod_networks(const Env& env) {
  std::vector<std::string> out = render::loopback_networks();
  if (env.state.environment_cidr.empty()) {
    out.insert(out.end(), {"0.0.0.0/0", "::/0"});
  } else {
    out.push_back(env.state.environment_cidr);
  }
  return out;
}

}  // namespace detail

std::vector<json> render_kubernetes(const model::DesiredState& state, const KubernetesOptions& options) {
  const Env env = checked(state, options, nullptr);
  std::vector<const model::DesiredService*> services;
  for (const auto& s : state.services) services.push_back(&s);
  std::sort(services.begin(), services.end(), [](auto* a, auto* b) { return a->name < b->name; });
  std::vector<json> out = detail::environment_objects(env);
  for (const auto* s : services) append(out, one_service(env, *s));
  return out;
}

json kubernetes_list(const std::vector<json>& items) {
  return {{"apiVersion", "v1"}, {"kind", "List"}, {"items", items}};
}

std::vector<json> environment_objects(const model::DesiredState& state, const KubernetesOptions& options) {
  return detail::environment_objects(checked(state, options, nullptr));
}

std::vector<json> zookeeper_objects(const model::DesiredState& state, const KubernetesOptions& options) {
  return detail::zookeeper_objects(checked(state, options, nullptr));
}

std::vector<json> service_objects(const model::DesiredState& state, const model::DesiredService& service,
                                  const KubernetesOptions& options) {
  return one_service(checked(state, options, &service), service);
}

std::vector<json> network_policies(const model::DesiredState& state, const model::DesiredService& service,
                                   const KubernetesOptions& options) {
  return detail::network_policies(checked(state, options, &service), service);
}

std::vector<json> clickhouse_objects(const model::DesiredState& state, const model::DesiredService& service,
                                     const KubernetesOptions& options) {
  return detail::clickhouse_objects(checked(state, options, &service), service);
}

std::vector<json> endpoint_objects(const model::DesiredState& state, const model::DesiredService& service,
                                   const KubernetesOptions& options) {
  return detail::endpoint_objects(checked(state, options, &service), service);
}

json zookeeper_cleanup_job(const model::DesiredState& state, const std::string& service,
                           const KubernetesOptions& options) {
  const Env env = checked(state, options, nullptr);
  detail::check_service_name(service, "service");
  return detail::zookeeper_cleanup_job(env, service);
}

json runtime_secret(const model::DesiredState& state, const KubernetesOptions& options, const std::string& service,
                    const std::string& name, const std::string& type, const std::map<std::string, std::string>& data) {
  const Env env = checked(state, options, nullptr);
  if (!service.empty()) detail::check_service_name(service, "service");
  json o = detail::object(env, "v1", "Secret", name,
                          service.empty() ? detail::common_labels(env) : detail::labels(env, "runtime", service));
  o["type"] = type;
  o["data"] = json::object();
  for (const auto& [key, value] : data) o["data"][key] = crypto::base64(value);
  return o;
}

std::string zookeeper_cleanup_job_name(const std::string& service, const std::string& incarnation) {
  return service + (incarnation.empty() ? "" : "-" + incarnation) + "-zk-cleanup";
}

std::string zookeeper_chroot(const std::string& service, const std::string& incarnation) {
  return "/byoc/" + service + (incarnation.empty() ? "" : "-" + incarnation);
}

std::string clickhouse_image(const std::string& version, const std::string& registry) {
  if (!registry.empty()) return registry + ":" + version;
  // Yandex published ClickHouse's images until 21.x began under its own name.
  const int major = std::atoi(version.c_str());
  return std::string(major < 21 ? "docker.io/yandex/clickhouse-server" : "docker.io/clickhouse/clickhouse-server") + ":" +
         version;
}

std::string service_clickhouse_image(const model::DesiredService& service, const KubernetesOptions& options) {
  auto it = options.clickhouse_images.find(service.name);
  return it != options.clickhouse_images.end() ? it->second : clickhouse_image(service.clickhouse_version, options.registry);
}

bool needs_zookeeper(const model::DesiredService& service) { return service.shards * service.replicas > 1; }

bool needs_zookeeper(const model::DesiredState& state) {
  return std::any_of(state.services.begin(), state.services.end(),
                     [](const model::DesiredService& s) { return needs_zookeeper(s); });
}

std::string credentials_secret_name(const std::string& service) { return service + "-credentials"; }
std::string tls_secret_name(const std::string& service) { return service + "-tls"; }
std::string shard_stateful_set_name(const std::string& service, int shard) {
  return service + "-s" + std::to_string(shard);
}
std::string endpoint_service_name(const std::string& service) { return service + "-endpoint"; }
std::string replica_host(const std::string& service, const std::string& pod, const KubernetesOptions& options) {
  const model::DesiredState none;
  return detail::Env{none, options}.pod_host(pod, detail::replicas_service_name(service));
}

std::string replica_pod_name(const std::string& service, int shard, int ordinal) {
  return shard_stateful_set_name(service, shard) + "-" + std::to_string(ordinal);
}

}  // namespace byoc::render::kubernetes
