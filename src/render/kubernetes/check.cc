// The checks render_kubernetes makes before it builds anything. The agent
// has checked the desired state against its invariants and the customer's
// policy already; these are what the objects themselves need: names that
// fit Kubernetes' limits and ClickHouse's, values that go into images,
// selectors and configs unquoted.
#include <algorithm>
#include <regex>
#include <set>

#include "base/error.h"
#include "kube/resources.h"
#include "model/protocol.h"
#include "model/validate.h"
#include "render/clickhouse_config.h"
#include "render/kubernetes/kubernetes.h"
#include "render/kubernetes/objects.h"
#include "render/validate.h"

namespace byoc::render::kubernetes {
namespace {

Error invalid(const std::string& field, const std::string& message) {
  return Error::Invalid("invalid_value", message, field);
}

bool matches(const std::string& text, const char* pattern) { return std::regex_match(text, std::regex(pattern)); }

// An image reference (or a repository, without tag or digest): nothing the
// container runtime would read as two words.
void require_image(const std::string& value, const std::string& field, bool repository_only) {
  if (!matches(value, R"([a-z0-9][a-z0-9._/:@-]{0,254})"))
    throw invalid(field, "'" + value + "' is not an image reference");
  auto last = value.rfind('/');
  std::string tail = value.substr(last == std::string::npos ? 0 : last + 1);
  if (repository_only && (tail.find(':') != std::string::npos || value.find('@') != std::string::npos))
    throw invalid(field, "a repository without tag or digest (the tag is the service's version)");
}

}  // namespace

void detail::check_service_name(const std::string& name, const std::string& field) {
  if (!kube::is_dns1123_label(name) || !(name.front() >= 'a' && name.front() <= 'z') ||
      name.size() > static_cast<size_t>(kMaxServiceNameLength))
    throw invalid(field, "a service name must be a DNS-1123 label starting with a letter, at most " +
                             std::to_string(kMaxServiceNameLength) + " characters");
}

namespace {

void check_service(const model::DesiredService& s, const std::string& path, const KubernetesOptions& o) {
  // ClickHouse names its cluster and XML elements after the service, so
  // it starts with a letter; the derived object names must fit 63.
  detail::check_service_name(s.name, path + ".name");
  // A version the runtime resolved to an image is a name only (versions.json's);
  // otherwise it becomes the image's tag.
  if (auto image = o.clickhouse_images.find(s.name); image != o.clickhouse_images.end()) {
    if (!matches(s.clickhouse_version, R"([A-Za-z0-9][A-Za-z0-9._-]{0,63})"))
      throw invalid(path + ".clickhouse_version", "must be a version name (1-64 of [A-Za-z0-9._-])");
    require_image(image->second, "clickhouse_images", false);
  } else if (!matches(s.clickhouse_version, R"(\d{1,4}(\.\d{1,4}){0,3})")) {
    throw invalid(path + ".clickhouse_version", "must be a version like 18.16.1");
  }
  if (auto p = o.partitions.find(s.name); p != o.partitions.end()) {
    if (p->second.size() != static_cast<size_t>(s.shards))
      throw invalid("partitions", "a service's partitions are one per shard");
    for (int partition : p->second)
      if (partition < 0 || partition > 16) throw invalid("partitions", "a partition is within 0..16");
  }
  if (s.shards < 1 || s.shards > 64) throw invalid(path + ".shards", "must be within 1..64");
  if (s.replicas < 1 || s.replicas > 16) throw invalid(path + ".replicas", "must be within 1..16");
  if (s.cpu_millis < 1) throw invalid(path + ".cpu_millis", "must be >= 1");
  if (s.memory_mib < kMinMemoryMib)
    throw invalid(path + ".memory_mib", "must be >= " + std::to_string(kMinMemoryMib));
  try {
    require_sha256_hex(s.default_password_sha256_hex, "default_password_sha256_hex");
  } catch (const Error&) {
    throw invalid(path + ".default_password_sha256_hex", "must be 64 lowercase hex digits");
  }
  for (size_t i = 0; i < s.allowed_ips.size(); ++i)
    model::check_allowed_ip(s.allowed_ips[i], path + ".allowed_ips[" + std::to_string(i) + "]");
  if (auto it = o.profiles.find(s.name); it != o.profiles.end() && !matches(it->second, R"([a-z0-9]+(\.[a-z0-9]+)+)"))
    throw invalid("profile", "'" + it->second + "' is not an instance type (like m7gd.large)");
  if (!s.profile.empty() && s.profile != "host" && !matches(s.profile, R"([a-z0-9]+(\.[a-z0-9]+)+)"))
    throw invalid(path + ".profile", "'" + s.profile + "' is not an instance type (like m7gd.large)");
}

void check_options(const KubernetesOptions& o) {
  if (!kube::is_dns1123_label(o.namespace_name))
    throw invalid("namespace", "'" + o.namespace_name + "' is not a DNS-1123 label");
  if (!kube::is_dns1123_label(o.agent_namespace))
    throw invalid("agent_namespace", "'" + o.agent_namespace + "' is not a DNS-1123 label");
  if (o.namespace_name == o.agent_namespace)
    throw invalid("namespace", "must not be the agent's: it denies every ingress by default");
  if (!kube::is_dns1123_subdomain(o.cluster_domain))
    throw invalid("cluster_domain", "'" + o.cluster_domain + "' is not a DNS name");
  if (!o.registry.empty()) require_image(o.registry, "registry", true);
  if (!kube::is_dns1123_subdomain(o.storage_class))
    throw invalid("storage_class", "'" + o.storage_class + "' is not a DNS-1123 name");
  if (o.clickhouse_volume_gib < 1 || o.clickhouse_volume_gib > 65536)
    throw invalid("clickhouse_volume_gib", "must be within 1..65536");
  if (o.zookeeper_volume_gib < 1 || o.zookeeper_volume_gib > 65536)
    throw invalid("zookeeper_volume_gib", "must be within 1..65536");
  require_image(o.zookeeper_image, "zookeeper_image", false);
  require_image(o.nginx_image, "nginx_image", false);
  const SupportGatewayOptions& g = o.support_gateway;
  if (!g.check_address.empty() && !matches(g.check_address, R"([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?:\d{1,5})"))
    throw invalid("support_gateway.check_address", "must be HOST:PORT");
  if (!g.kube_proxy_address.empty() &&
      !matches(g.kube_proxy_address, R"([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?:\d{1,5})"))
    throw invalid("support_gateway.kube_proxy_address", "must be HOST:PORT");
  for (const auto& [service, incarnation] : o.incarnations)
    if (incarnation.empty() || incarnation.size() > kMaxIncarnationLength ||
        !std::all_of(incarnation.begin(), incarnation.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }))
      throw invalid("incarnations", "a service's incarnation is 1 to 8 of [a-z0-9]");
  if (g.ca_pem.empty() != g.crl_pem.empty())
    throw invalid("support_gateway.crl_pem", "the support CA and its CRL come together");
  for (const auto& [field, pem] : {std::pair{"support_gateway.ca_pem", &g.ca_pem}, {"support_gateway.crl_pem", &g.crl_pem}})
    if (!pem->empty() && pem->rfind("-----BEGIN ", 0) != 0) throw invalid(field, "must be PEM");
}

}  // namespace

void check_desired_state(const model::DesiredState& state, const KubernetesOptions& options) {
  check_options(options);
  if (!kube::is_label_value(state.environment_id) || state.environment_id.empty())
    throw invalid("desired.environment_id", "must be a Kubernetes label value");
  if (!state.environment_cidr.empty()) model::check_allowed_ip(state.environment_cidr, "desired.environment_cidr");
  std::set<std::string> names;
  for (size_t i = 0; i < state.services.size(); ++i) {
    const std::string path = "desired.services[" + std::to_string(i) + "]";
    check_service(state.services[i], path, options);
    if (!names.insert(state.services[i].name).second) throw invalid(path + ".name", "duplicate service");
  }
  for (const auto& [service, type] : options.profiles)
    if (!names.count(service)) throw invalid("profile", "no service named '" + service + "'");
  for (const auto& [service, image] : options.clickhouse_images)
    if (!names.count(service)) throw invalid("clickhouse_images", "no service named '" + service + "'");
  for (const auto& [service, partitions] : options.partitions)
    if (!names.count(service)) throw invalid("partitions", "no service named '" + service + "'");
}

}  // namespace byoc::render::kubernetes
