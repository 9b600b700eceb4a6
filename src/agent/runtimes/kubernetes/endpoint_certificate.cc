#include "agent/runtimes/kubernetes/endpoint_certificate.h"

#include <arpa/inet.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.h"

namespace byoc::agent::kube_runtime {
namespace {

using nlohmann::json;

constexpr auto kLifetime = std::chrono::hours(24 * 365);
constexpr int64_t kRenewBeforeSeconds = 30 * 24 * 3600;

bool is_ip_literal(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 || inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

std::optional<std::string> secret_value(const json& secret, const char* key) {
  if (!secret.contains("data") || !secret["data"].is_object() || !secret["data"].contains(key) ||
      !secret["data"][key].is_string())
    return std::nullopt;
  return crypto::base64_decode(secret["data"][key].get<std::string>());
}

std::string annotation(const json& object, const char* key) {
  const json* meta = object.contains("metadata") && object["metadata"].is_object() ? &object["metadata"] : nullptr;
  if (!meta || !meta->contains("annotations") || !(*meta)["annotations"].is_object()) return "";
  const json& annotations = (*meta)["annotations"];
  return annotations.contains(key) && annotations[key].is_string() ? annotations[key].get<std::string>() : "";
}

}  // namespace

std::string EndpointNames::joined() const {
  std::vector<std::string> all = dns_names;
  all.insert(all.end(), ip_addresses.begin(), ip_addresses.end());
  std::sort(all.begin(), all.end());
  std::string out;
  for (const auto& n : all) out += (out.empty() ? "" : ",") + n;
  return out;
}

EndpointNames endpoint_names(const std::string& service_name, const std::string& namespace_name,
                             const std::string& cluster_domain, const json* service) {
  EndpointNames names;
  const std::string in_cluster = service_name + "." + namespace_name + ".svc";
  names.dns_names = {in_cluster, in_cluster + "." + cluster_domain};
  if (!service) return names;
  const json* ingress = nullptr;
  if (service->contains("status") && (*service)["status"].is_object() &&
      (*service)["status"].contains("loadBalancer") && (*service)["status"]["loadBalancer"].is_object() &&
      (*service)["status"]["loadBalancer"].contains("ingress"))
    ingress = &(*service)["status"]["loadBalancer"]["ingress"];
  if (!ingress || !ingress->is_array()) return names;
  for (const auto& entry : *ingress) {
    if (!entry.is_object()) continue;
    if (entry.contains("hostname") && entry["hostname"].is_string() && !entry["hostname"].get<std::string>().empty())
      names.dns_names.push_back(entry["hostname"]);
    if (entry.contains("ip") && entry["ip"].is_string() && is_ip_literal(entry["ip"]))
      names.ip_addresses.push_back(entry["ip"]);
  }
  return names;
}

bool certificate_usable(const json* secret, const EndpointNames& names, const std::string& ca_pem, const Clock& clock) {
  if (!secret) return false;
  auto cert = secret_value(*secret, "tls.crt");
  auto key = secret_value(*secret, "tls.key");
  if (!cert || !key || annotation(*secret, kCertificateNamesAnnotation) != names.joined()) return false;
  try {
    if (!crypto::certificate_matches_key(*cert, *key)) return false;
    if (!crypto::verify_issued_by(*cert, ca_pem, clock.system_time())) return false;
    return crypto::inspect(*cert).not_after_unix - clock.unix_seconds() >= kRenewBeforeSeconds;
  } catch (const Error&) {
    return false;  // unreadable: a new one
  }
}

crypto::KeyedCertificate issue_endpoint_certificate(const crypto::KeyedCertificate& ca, const EndpointNames& names,
                                                    const Clock& clock) {
  crypto::CertificateSpec spec;
  spec.common_name = names.dns_names.empty() ? "endpoint" : names.dns_names.front();
  spec.dns_names = names.dns_names;
  spec.ip_addresses = names.ip_addresses;
  spec.server_auth = true;
  spec.not_before = clock.system_time() - std::chrono::hours(1);  // clients whose clock is a little behind
  spec.not_after = clock.system_time() + kLifetime;
  return crypto::issue(ca, spec);
}

int64_t certificate_renew_at(const json* secret) {
  if (!secret) return 0;
  auto cert = secret_value(*secret, "tls.crt");
  if (!cert) return 0;
  try {
    return crypto::inspect(*cert).not_after_unix - kRenewBeforeSeconds;
  } catch (const Error&) {
    return 0;
  }
}

std::string certificate_revision(const json* secret) {
  if (!secret) return "";
  auto cert = secret_value(*secret, "tls.crt");
  return cert ? crypto::sha256_hex(*cert).substr(0, 16) : "";
}

}  // namespace byoc::agent::kube_runtime
