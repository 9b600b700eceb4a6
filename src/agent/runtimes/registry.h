// The runtimes an agent can run its services with, by name: the agent picks
// one from its configuration (`byoc agent --runtime NAME`). A new runtime is
// a folder under runtimes/ and a line in registry.cc.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/desired_check.h"
#include "agent/runtime.h"
#include "agent/versions.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "kube/client.h"

namespace byoc::agent {

// What every runtime is made from.
struct RuntimeContext {
  std::filesystem::path services_dir;       // where it keeps its state (created 0700)
  crypto::KeyedCertificate environment_ca;  // issues endpoint certificates
  const Clock* clock = nullptr;
  std::string environment_id;  // labels what a runtime makes outside this machine
  // `--runtime-option KEY=VALUE`: what the runtime's own header lists.
  std::map<std::string, std::string> settings;
  // The agent's versions.json: what each ClickHouse version name runs.
  VersionList versions = default_versions();
};

struct RuntimeChoice {
  std::unique_ptr<Runtime> runtime;
  // Where the runtime's replicas live, which bounds the hosts a cluster may name.
  EnvironmentScope scope;
  // Where the support gateways reach the agent: its gateway check and, with
  // a Kubernetes API, the kubernetes-readonly proxy (kube_support_proxy.h).
  // The local runtime's nginx runs on this machine: loopback; a cluster's
  // runs in other pods: every address of the agent's pod.
  std::string gateway_listen_host = "127.0.0.1";
  // Their ports; 0: any free one (the local runtime's nginx is told which).
  // A cluster's gateways call the agent's Service, whose ports are fixed.
  uint16_t gateway_check_port = 0;
  uint16_t kube_proxy_port = 0;
  // The API server the runtime's services run on, with the agent's own
  // credentials: what the kubernetes-readonly scope fronts. None: that
  // scope has nothing to reach here.
  std::optional<kube::ClientConfig> kubernetes_api;
};

// The runtime called `name`; throws byoc::Error (invalid, field `runtime`)
// naming the known ones for any other.
RuntimeChoice make_runtime(const std::string& name, const RuntimeContext& context);
// The same check alone, before anything is made, with the settings' keys
// (kInvalid, field `runtime-option`, for a key the runtime doesn't take).
void check_runtime_name(const std::string& name);
void check_runtime_settings(const std::string& name, const std::map<std::string, std::string>& settings);
std::vector<std::string> runtime_names();

}  // namespace byoc::agent
