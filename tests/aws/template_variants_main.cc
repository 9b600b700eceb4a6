// Writes every template variant of template_variants.h as <dir>/<name>.json,
// for the schema check (cfn_validate.mjs) to read.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "template_variants.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: aws_template_variants DIR\n";
    return 2;
  }
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const nlohmann::json& tmpl) {
    std::ofstream(dir / (name + ".json")) << tmpl.dump(2) << "\n";
  };
  for (auto& [name, o] : byoc::aws::testing::onboarding_variants())
    write(name, byoc::aws::render_onboarding_template(o));
  for (auto& [name, o] : byoc::aws::testing::infra_variants()) write(name, byoc::aws::render_infra_template(o));
  return 0;
}
