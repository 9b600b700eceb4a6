#include "agent/runtimes/registry.h"

#include "agent/runtimes/local/local_runtime.h"
#include "base/error.h"

namespace byoc::agent {

std::vector<std::string> runtime_names() { return {"local"}; }

void check_runtime_name(const std::string& name) {
  for (const auto& known : runtime_names())
    if (known == name) return;
  std::string known;
  for (const auto& n : runtime_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error::Invalid("unknown_runtime", "unknown runtime '" + name + "' (known: " + known + ")", "runtime");
}

RuntimeChoice make_runtime(const std::string& name, const RuntimeContext& context) {
  check_runtime_name(name);
  if (name == "local") {
    LocalRuntimeOptions options;
    options.root = context.services_dir;
    options.environment_ca = context.environment_ca;
    options.clock = context.clock;
    EnvironmentScope scope;
    scope.loopback_only = true;  // its replicas live on 127.0.0.1
    return {make_local_runtime(options), scope};
  }
  throw Error::Internal("runtime " + name + " is listed but not made");
}

}  // namespace byoc::agent
