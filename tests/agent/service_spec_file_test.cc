// The local runtime's record of a service's spec: the desired service whole,
// in the protocol's form, and files of earlier versions still read.
#include <gtest/gtest.h>

#include "agent/runtimes/local/service_files.h"
#include "base/error.h"
#include "base/files.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {

TEST(ServiceSpecFile, KeepsEveryFieldAcrossARestart) {
  testing::TempDir dir;
  ServiceSpec spec;
  spec.name = "orders";
  spec.clickhouse_version = "18.16.1";
  spec.shards = 2;
  spec.replicas = 3;
  spec.cpu_millis = 1500;
  spec.memory_mib = 4096;
  spec.allowed_ips = {"10.1.0.0/16"};
  spec.default_password_sha256_hex = std::string(64, 'c');
  spec.support = model::SupportUser{true, true, true, ""};
  spec.cluster_hosts = {"127.0.0.1", "replica-2.internal"};
  spec.rollout = model::RolloutRequest{"upgrade-3", 1};  // carried, not acted on (local_runtime.h)
  local::save_spec(dir.path() / "spec.json", spec);
  EXPECT_EQ(local::load_spec(dir.path() / "spec.json"), spec);
  EXPECT_FALSE(local::load_spec(dir.path() / "missing.json"));
}

TEST(ServiceSpecFile, ReadsTheFormOfEarlierVersions) {
  testing::TempDir dir;
  files::write_atomic(dir.path() / "spec.json",
                      R"({"name":"db","clickhouse_version":"18.16.1","shards":1,"replicas":2,"cpu_millis":1000,)"
                      R"("memory_mib":2048,"allowed_ips":[],"default_password_sha256_hex":")" +
                          std::string(64, 'a') + R"("})",
                      0600);
  auto spec = local::load_spec(dir.path() / "spec.json");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->replicas, 2);
  EXPECT_FALSE(spec->support);
  EXPECT_TRUE(spec->cluster_hosts.empty());
  EXPECT_FALSE(spec->rollout);
  files::write_atomic(dir.path() / "bad.json", R"({"name":"db","shards":"two"})", 0600);
  EXPECT_THROW(local::load_spec(dir.path() / "bad.json"), Error);
}

}  // namespace
}  // namespace byoc::agent
