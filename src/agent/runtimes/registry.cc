#include "agent/runtimes/registry.h"

#include "agent/runtimes/kubernetes/kubernetes_runtime.h"
#include "agent/runtimes/local/local_runtime.h"
#include "base/error.h"

namespace byoc::agent {

std::vector<std::string> runtime_names() { return {"local", "kubernetes"}; }

void check_runtime_name(const std::string& name) {
  for (const auto& known : runtime_names())
    if (known == name) return;
  std::string known;
  for (const auto& n : runtime_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error::Invalid("unknown_runtime", "unknown runtime '" + name + "' (known: " + known + ")", "runtime");
}

void check_runtime_settings(const std::string& name, const std::map<std::string, std::string>& settings) {
  check_runtime_name(name);
  if (name == "kubernetes") return check_kubernetes_runtime_settings(settings);
  for (const auto& [key, value] : settings)
    throw Error::Invalid("invalid_runtime_option",
                         "--runtime-option " + key + ": the " + name + " runtime takes no options", "runtime-option");
}

RuntimeChoice make_runtime(const std::string& name, const RuntimeContext& context) {
  check_runtime_settings(name, context.settings);
  if (name == "kubernetes") {
    KubernetesRuntimeOptions options = kubernetes_runtime_options(context.settings, context.clock);
    options.root = context.services_dir;
    options.environment_ca = context.environment_ca;
    options.environment_id = context.environment_id;
    options.versions = context.versions;
    EnvironmentScope scope;
    scope.loopback_only = false;  // replicas are pods: hosts inside the environment's network
    RuntimeChoice choice{make_kubernetes_runtime(options), scope};
    choice.gateway_listen_host = options.gateway_host;
    choice.gateway_check_port = options.gateway_check_port;
    choice.kube_proxy_port = options.kube_proxy_port;
    choice.kubernetes_api = options.client;
    return choice;
  }
  if (name == "local") {
    LocalRuntimeOptions options;
    options.root = context.services_dir;
    options.environment_ca = context.environment_ca;
    options.clock = context.clock;
    options.versions = context.versions;
    EnvironmentScope scope;
    scope.loopback_only = true;  // its replicas live on 127.0.0.1
    return {make_local_runtime(options), scope};
  }
  throw Error::Internal("runtime " + name + " is listed but not made");
}

}  // namespace byoc::agent
