// Writes what byoc installs in a cluster for the kubernetes runtime — the
// agent's objects (agent_objects.h), the support-access RBAC (support_rbac.h)
// among them — as one List into the file given: the input of the
// kubernetes-models check (tests/kube-models/validate.js).
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "kube/agent_objects.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: kube_access_support_rbac_list FILE\n";
    return 2;
  }
  byoc::kube::AgentInstall install;
  install.environment_id = "env0a1b2c3d";
  install.image = "registry.example.com/byoc/agent:1.0";
  install.server_urls = {"https://plane.example.com:8443"};
  install.join_token = "byocjoin_example";
  install.runtime = "kubernetes";
  install.runtime_options = {{"environment-cidr", "10.20.0.0/16"}};
  nlohmann::json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", byoc::kube::render_agent_objects(install)}};
  byoc::files::write_atomic(argv[1], list.dump(2) + "\n");
  return 0;
}
