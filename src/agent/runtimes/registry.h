// The runtimes an agent can run its services with, by name: the agent picks
// one from its configuration (`byoc agent --runtime NAME`). A new runtime is
// a folder under runtimes/ and a line in registry.cc.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/desired_check.h"
#include "agent/runtime.h"
#include "base/clock.h"
#include "base/crypto.h"

namespace byoc::agent {

// What every runtime is made from.
struct RuntimeContext {
  std::filesystem::path services_dir;       // where it keeps its state (created 0700)
  crypto::KeyedCertificate environment_ca;  // issues endpoint certificates
  const Clock* clock = nullptr;
};

struct RuntimeChoice {
  std::unique_ptr<Runtime> runtime;
  // Where the runtime's replicas live, which bounds the hosts a cluster may name.
  EnvironmentScope scope;
};

// The runtime called `name`; throws byoc::Error (invalid, field `runtime`)
// naming the known ones for any other.
RuntimeChoice make_runtime(const std::string& name, const RuntimeContext& context);
// The same check alone, before anything is made.
void check_runtime_name(const std::string& name);
std::vector<std::string> runtime_names();

}  // namespace byoc::agent
