#include "cases.h"

#include "base/crypto.h"

namespace byoc::render::kubernetes::testing {

std::string password_hash() { return crypto::sha256_hex(kPassword); }

model::DesiredService service(const std::string& name, int shards, int replicas) {
  model::DesiredService s;
  s.name = name;
  s.clickhouse_version = "18.16.1";
  s.shards = shards;
  s.replicas = replicas;
  s.cpu_millis = 1500;
  s.memory_mib = 6144;
  s.allowed_ips = {"10.20.0.0/16", "203.0.113.7/32"};
  s.default_password_sha256_hex = password_hash();
  return s;
}

model::DesiredState two_services(int n) {
  model::DesiredState d;
  d.revision = 7;
  d.environment_id = "env-0123456789abcdef";
  d.environment_name = "production";
  d.environment_cidr = "10.20.0.0/16";
  d.services = {service("orders", n, n), service("events", n, n)};
  d.services[1].cpu_millis = 3500;
  d.services[1].memory_mib = 28672;
  d.services[1].allowed_ips = {"192.168.4.0/24"};
  return d;
}

KubernetesOptions two_profiles(int n) {
  KubernetesOptions o;
  o.profiles = {{"orders", "m7gd.large"}, {"events", "r7gd.xlarge"}};
  if (n >= 2) {
    o.support_gateway.enabled = true;
    o.support_gateway.ca_pem = "-----BEGIN CERTIFICATE-----\nMIIB (support CA)\n-----END CERTIFICATE-----\n";
    o.support_gateway.crl_pem = "-----BEGIN X509 CRL-----\nMIIB (its CRL)\n-----END X509 CRL-----\n";
  }
  if (n >= 3) {
    // events moves to a version the agent's versions.json pins, its shards held at various points.
    o.clickhouse_images["events"] = kPinnedImage;
    o.partitions["events"] = {3, 1, 0};
  }
  return o;
}

model::DesiredState golden_state() {
  model::DesiredState d = two_services(2);
  d.services.erase(d.services.begin() + 1);
  return d;
}

KubernetesOptions golden_options() {
  KubernetesOptions o = two_profiles(2);
  o.profiles.erase("events");
  return o;
}

}  // namespace byoc::render::kubernetes::testing
