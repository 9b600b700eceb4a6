// `byoc agent render-kubernetes` in-process: the List it prints is the
// renderer's, its flags reach the renderer, and bad input is one `error: …`
// line naming the field with a non-zero exit; `byoc agent` itself still
// wants its flags.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "aws/cli_fixture.h"
#include "base/files.h"
#include "cases.h"
#include "model/protocol.h"
#include "render/kubernetes/kubernetes.h"

namespace byoc::cli {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
namespace k8s = render::kubernetes;

// AwsCliFixture runs any `byoc` command line in-process with its own HOME.
class RenderKubernetesCommandTest : public AwsCliFixture {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    auto file = home_.path() / name;
    files::write_atomic(file, text);
    return file.string();
  }
  void expect_one_error_line(const CliResult& r, const std::string& field) {
    AwsCliFixture::expect_one_error_line(r);
    EXPECT_THAT(r.err, HasSubstr("(field: " + field + ")"));
  }
};

TEST_F(RenderKubernetesCommandTest, PrintsTheRenderedList) {
  const std::string desired = write("desired.json", model::to_json(k8s::testing::two_services(2)).dump());
  auto r = run_cli({"agent", "render-kubernetes", "--desired", desired, "--namespace", "customer-data", "--registry",
                    "registry.example/ch", "--storage-class", "io2", "--profile", "orders=m7gd.large", "--profile",
                    "events=r7gd.xlarge", "--support-gateway"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  k8s::KubernetesOptions options;
  options.namespace_name = "customer-data";
  options.registry = "registry.example/ch";
  options.storage_class = "io2";
  options.profiles = {{"orders", "m7gd.large"}, {"events", "r7gd.xlarge"}};
  options.support_gateway.enabled = true;
  json expected = k8s::kubernetes_list(k8s::render_kubernetes(k8s::testing::two_services(2), options));
  EXPECT_EQ(json::parse(r.out), expected);
  EXPECT_EQ(r.out, expected.dump(2) + "\n");
}

TEST_F(RenderKubernetesCommandTest, DefaultsNeedOnlyTheDesiredState) {
  const std::string desired = write("desired.json", model::to_json(k8s::testing::two_services(1)).dump());
  auto r = run_cli({"agent", "render-kubernetes", "--desired", desired});
  ASSERT_EQ(r.code, 0) << r.err;
  json list = json::parse(r.out);
  EXPECT_EQ(list["kind"], "List");
  EXPECT_EQ(list["items"], json(k8s::render_kubernetes(k8s::testing::two_services(1), {})));
}

TEST_F(RenderKubernetesCommandTest, BadInputIsOneLineNamingTheField) {
  model::DesiredState bad = k8s::testing::two_services(1);
  bad.services[0].name = std::string(45, 'o');
  expect_one_error_line(
      run_cli({"agent", "render-kubernetes", "--desired", write("long.json", model::to_json(bad).dump())}),
      "desired.services[0].name");
  expect_one_error_line(run_cli({"agent", "render-kubernetes", "--desired", write("not.json", "{services: [")}),
                        "desired");
  expect_one_error_line(run_cli({"agent", "render-kubernetes", "--desired", (home_.path() / "none.json").string()}),
                        "desired");
  expect_one_error_line(run_cli({"agent", "render-kubernetes", "--desired",
                                 write("unknown.json", R"({"environment_id":"e","color":"blue"})")}),
                        "desired.color");
  const std::string good = write("good.json", model::to_json(k8s::testing::two_services(1)).dump());
  expect_one_error_line(run_cli({"agent", "render-kubernetes", "--desired", good, "--profile", "orders"}), "profile");
  expect_one_error_line(run_cli({"agent", "render-kubernetes", "--desired", good, "--namespace", "byoc-system"}),
                        "namespace");
}

TEST_F(RenderKubernetesCommandTest, UsageErrors) {
  auto missing = run_cli({"agent", "render-kubernetes"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.err, HasSubstr("--desired"));
  // The agent itself still wants its state dir (and is not run here).
  auto agent = run_cli({"agent", "--server", "https://127.0.0.1:1"});
  EXPECT_EQ(agent.code, 2);
  EXPECT_THAT(agent.err, HasSubstr("--state-dir"));
}

}  // namespace
}  // namespace byoc::cli
