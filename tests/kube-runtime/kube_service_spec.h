// The service the Kubernetes runtime's tests apply: `name` of `shards` x
// `replicas`, a fixed size, one allowed network and a known password.
#pragma once

#include <string>

#include "base/crypto.h"
#include "agent/runtime.h"

namespace byoc::testing {

inline agent::ServiceSpec kube_service_spec(const std::string& name, int shards, int replicas) {
  agent::ServiceSpec s;
  s.name = name;
  s.clickhouse_version = "18.16.1";
  s.shards = shards;
  s.replicas = replicas;
  s.cpu_millis = 1500;
  s.memory_mib = 6144;
  s.allowed_ips = {"10.20.0.0/16"};
  s.default_password_sha256_hex = crypto::sha256_hex("correct horse battery staple");
  return s;
}

}  // namespace byoc::testing
