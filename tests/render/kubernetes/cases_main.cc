// Writes what the renderer makes of the 1 × 1, 2 × 2 and 3 × 3 cases
// (cases.h) as Lists, one file each, into the directory given, with the
// objects the runtime makes itself: the input of the kubernetes-models check
// (tests/kube-models/validate.js).
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "cases.h"

int main(int argc, char** argv) {
  namespace k8s = byoc::render::kubernetes;
  if (argc != 2) {
    std::cerr << "usage: render_kubernetes_cases DIR\n";
    return 2;
  }
  std::filesystem::create_directories(argv[1]);
  for (int n = 1; n <= 3; ++n) {
    const auto state = k8s::testing::two_services(n);
    const auto options = k8s::testing::two_profiles(n);
    auto items = k8s::render_kubernetes(state, options);
    // What the runtime adds: its Secrets, and the Job of a removed
    // service's chroot (an ensemble runs from 2 × 2 on).
    items.push_back(k8s::runtime_secret(state, options, "orders", k8s::credentials_secret_name("orders"), "Opaque",
                                        {{k8s::kClusterPasswordKey, "x"}, {k8s::kSupportPasswordKey, "y"}}));
    items.push_back(k8s::runtime_secret(state, options, "orders", k8s::tls_secret_name("orders"), "kubernetes.io/tls",
                                        {{"tls.crt", "c"}, {"tls.key", "k"}}));
    if (k8s::needs_zookeeper(state)) items.push_back(k8s::zookeeper_cleanup_job(state, "removed", options));
    std::string name = std::to_string(n) + "x" + std::to_string(n) + ".json";
    byoc::files::write_atomic(std::filesystem::path(argv[1]) / name, k8s::kubernetes_list(items).dump(2) + "\n");
  }
  return 0;
}
