// Writes what the renderer makes of the 1 × 1, 2 × 2 and 3 × 3 cases
// (cases.h) as Lists, one file each, into the directory given: the input of
// the kubernetes-models check (tests/kube-models/validate.js).
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
    auto items = k8s::render_kubernetes(k8s::testing::two_services(n), k8s::testing::two_profiles(n));
    std::string name = std::to_string(n) + "x" + std::to_string(n) + ".json";
    byoc::files::write_atomic(std::filesystem::path(argv[1]) / name, k8s::kubernetes_list(items).dump(2) + "\n");
  }
  return 0;
}
