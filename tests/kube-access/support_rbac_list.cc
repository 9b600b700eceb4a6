// Writes the support-access RBAC (support_rbac.h) as one List into the file
// given: the input of the kubernetes-models check
// (tests/kube-models/validate.js).
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "kube/support_rbac.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: kube_access_support_rbac_list FILE\n";
    return 2;
  }
  byoc::kube::SupportRbacOptions options;
  options.environment_id = "env0a1b2c3d";
  nlohmann::json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", byoc::kube::render_support_rbac(options)}};
  byoc::files::write_atomic(argv[1], list.dump(2) + "\n");
  return 0;
}
