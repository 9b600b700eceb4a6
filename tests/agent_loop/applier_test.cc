// The applier: refused services keep their last good configuration (also
// across an agent restart), nothing is applied twice, the customer policy is
// re-read on every apply.
#include "agent/applier.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "base/files.h"
#include "fake_runtime.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {
namespace fs = std::filesystem;
using test::FakeRuntime;

const std::string kHashA(64, 'a');
const std::string kHashB(64, 'b');

model::DesiredService db(std::vector<std::string> allowed = {}) {
  model::DesiredService s;
  s.name = "db";
  s.clickhouse_version = "18.16.1";
  s.default_password_sha256_hex = kHashA;
  s.allowed_ips = std::move(allowed);
  return s;
}

model::DesiredState desired(int64_t revision, std::vector<model::DesiredService> services) {
  model::DesiredState d;
  d.revision = revision;
  d.environment_id = "env-1";
  d.environment_name = "prod";
  d.environment_cidr = "10.20.0.0/16";
  d.services = std::move(services);
  return d;
}

void write_policy(const fs::path& dir, const std::string& text) {
  files::write_atomic(dir / "policy.json", text, 0600);
}

std::string outcome(const DesiredStateApplier& a, const std::string& name) {
  auto o = a.outcomes();
  return o.count(name) ? o.at(name) : "";
}

class Applier : public ::testing::Test {
 protected:
  testing::TempDir dir;
  FakeRuntime runtime;
  DesiredStateApplier applier{runtime, dir.path(), EnvironmentScope{true, ""}};
};

// The runtime is handed the desired service whole: nothing a later feature
// adds to it (the support user, the cluster's hosts) is lost on the way.
TEST_F(Applier, TheRuntimeGetsEveryFieldOfTheDesiredService) {
  model::DesiredService full = db({"10.1.0.0/16"});
  full.shards = 2;
  full.replicas = 2;
  full.support = model::SupportUser{false, true, true, ""};
  full.cluster_hosts = {"127.0.0.1"};
  applier.apply(desired(1, {full}));
  ASSERT_EQ(runtime.applied().size(), 1u) << outcome(applier, "db");
  EXPECT_EQ(runtime.applied()[0], full);
  ASSERT_TRUE(runtime.applied()[0].support);
  EXPECT_EQ(runtime.applied()[0].cluster_hosts, std::vector<std::string>{"127.0.0.1"});
}

TEST_F(Applier, AppliesAnAcceptedServiceOnce) {
  applier.apply(desired(1, {db()}));
  ASSERT_EQ(runtime.applied().size(), 1u);
  EXPECT_EQ(runtime.applied()[0], db());
  EXPECT_EQ(applier.applied_revision(), 1);
  EXPECT_TRUE(applier.outcomes().empty());
  // The same state again, or a newer revision that doesn't change this service.
  applier.apply(desired(1, {db()}));
  applier.apply(desired(2, {db()}));
  EXPECT_EQ(runtime.applied().size(), 1u);
  EXPECT_EQ(applier.applied_revision(), 2);
  // A change is applied.
  applier.apply(desired(3, {db({"10.1.0.0/16"})}));
  EXPECT_EQ(runtime.applied().size(), 2u);
  EXPECT_EQ(runtime.spec("db").allowed_ips, std::vector<std::string>{"10.1.0.0/16"});
}

TEST_F(Applier, ARefusedServiceKeepsItsLastGoodConfiguration) {
  applier.apply(desired(1, {db({"127.0.0.1/32"})}));
  applier.apply(desired(2, {db({"0.0.0.0/0"})}));  // public endpoints are off by default
  EXPECT_EQ(runtime.applied().size(), 1u) << "the refused spec never reached the runtime";
  EXPECT_EQ(runtime.spec("db").allowed_ips, std::vector<std::string>{"127.0.0.1/32"});
  EXPECT_EQ(outcome(applier, "db"), "policy_violation");
  EXPECT_EQ(applier.applied_revision(), 2) << "a refused revision counts as processed";
  EXPECT_TRUE(runtime.removed().empty());

  // accepted.json keeps the last good spec, 0600 (it holds password hashes).
  fs::path accepted = dir.path() / "accepted.json";
  struct stat st {};
  ASSERT_EQ(::stat(accepted.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto saved = model::parse_desired_state(nlohmann::json::parse(files::read(accepted)));
  ASSERT_EQ(saved.services.size(), 1u);
  EXPECT_EQ(saved.services[0].allowed_ips, std::vector<std::string>{"127.0.0.1/32"});

  // A compliant spec afterwards is applied and clears the reason.
  applier.apply(desired(3, {db({"10.0.0.0/8"})}));
  EXPECT_EQ(runtime.applied().size(), 2u);
  EXPECT_EQ(outcome(applier, "db"), "");
}

TEST_F(Applier, AfterARestartTheLastAcceptedSpecRunsNotTheRefusedOne) {
  applier.apply(desired(1, {db({"127.0.0.1/32"})}));
  applier.apply(desired(2, {db({"0.0.0.0/0"})}));
  // A new agent process: a fresh runtime object and applier on the same state dir,
  // starting from the cached (refused) desired state.
  FakeRuntime restarted;
  DesiredStateApplier again(restarted, dir.path(), EnvironmentScope{true, ""});
  again.apply(desired(2, {db({"0.0.0.0/0"})}));
  ASSERT_EQ(restarted.applied().size(), 1u);
  EXPECT_EQ(restarted.applied()[0].allowed_ips, std::vector<std::string>{"127.0.0.1/32"});
  EXPECT_EQ(outcome(again, "db"), "policy_violation");
  again.apply(desired(2, {db({"0.0.0.0/0"})}));
  EXPECT_EQ(restarted.applied().size(), 1u);
}

TEST_F(Applier, TheDefaultPasswordHashStaysPinnedAcrossRestarts) {
  applier.apply(desired(1, {db()}));
  FakeRuntime restarted;
  DesiredStateApplier again(restarted, dir.path(), EnvironmentScope{true, ""});
  model::DesiredService reset = db();
  reset.default_password_sha256_hex = kHashB;
  again.apply(desired(2, {reset}));
  EXPECT_EQ(outcome(again, "db"), "invariant_violation");
  ASSERT_EQ(restarted.applied().size(), 1u);
  EXPECT_EQ(restarted.applied()[0].default_password_sha256_hex, kHashA);

  // The customer allows resets: the new hash is accepted and becomes the pin.
  write_policy(dir.path(), R"({"vendor_may_reset_default_password": true})");
  again.apply(desired(3, {reset}));
  EXPECT_EQ(outcome(again, "db"), "");
  EXPECT_EQ(restarted.spec("db").default_password_sha256_hex, kHashB);
  write_policy(dir.path(), "{}");
  again.apply(desired(4, {db()}));
  EXPECT_EQ(outcome(again, "db"), "invariant_violation") << "back to the old hash is a reset too";
  EXPECT_EQ(restarted.spec("db").default_password_sha256_hex, kHashB);
}

TEST_F(Applier, ThePolicyIsReadAgainOnEveryApply) {
  write_policy(dir.path(), R"({"public_endpoint_allowed": true})");
  applier.apply(desired(1, {db({"203.0.113.0/24"})}));
  EXPECT_EQ(outcome(applier, "db"), "");
  EXPECT_EQ(runtime.applied().size(), 1u);
  // The customer closes public endpoints: the next change is refused, and the
  // running spec (public too) isn't re-applied either.
  write_policy(dir.path(), R"({"public_endpoint_allowed": false})");
  model::DesiredService bigger = db({"203.0.113.0/24"});
  bigger.cpu_millis = 2000;
  applier.apply(desired(2, {bigger}));
  EXPECT_EQ(outcome(applier, "db"), "policy_violation");
  EXPECT_EQ(runtime.applied().size(), 1u);
  FakeRuntime restarted;
  DesiredStateApplier again(restarted, dir.path(), EnvironmentScope{true, ""});
  again.apply(desired(2, {bigger}));
  EXPECT_TRUE(restarted.applied().empty())
      << "the last accepted spec now violates the policy: it isn't started";
  EXPECT_EQ(outcome(again, "db"), "policy_violation");
}

TEST_F(Applier, ABrokenPolicyRefusesEveryChange) {
  applier.apply(desired(1, {db()}));
  write_policy(dir.path(), R"({"public_endpoint_allowed": "yes"})");
  applier.apply(desired(2, {db({"10.0.0.0/8"})}));
  EXPECT_EQ(outcome(applier, "db"), "policy_violation");
  EXPECT_EQ(runtime.applied().size(), 1u);
  EXPECT_TRUE(runtime.spec("db").allowed_ips.empty());
  write_policy(dir.path(), "{}");
  applier.apply(desired(3, {db({"10.0.0.0/8"})}));
  EXPECT_EQ(outcome(applier, "db"), "");
  EXPECT_EQ(runtime.applied().size(), 2u);
}

TEST_F(Applier, InvariantViolationsAreRefused) {
  applier.apply(desired(1, {db()}));
  model::DesiredService s = db();
  s.cluster_hosts = {"127.0.0.1", "10.20.0.5"};  // outside a local environment
  applier.apply(desired(2, {s}));
  EXPECT_EQ(outcome(applier, "db"), "invariant_violation");
  s = db();
  s.support = model::SupportUser{true, false, true, ""};
  applier.apply(desired(3, {s}));
  EXPECT_EQ(outcome(applier, "db"), "invariant_violation");
  EXPECT_EQ(runtime.applied().size(), 1u);
}

TEST_F(Applier, ANewServiceRefusedFromTheStartRunsNothing) {
  applier.apply(desired(1, {db({"0.0.0.0/0"})}));
  EXPECT_TRUE(runtime.applied().empty());
  EXPECT_EQ(outcome(applier, "db"), "policy_violation");
}

TEST_F(Applier, TheEnvironmentNetworkCantBeSwapped) {
  applier.apply(desired(1, {db()}));
  model::DesiredState moved = desired(2, {db({"10.0.0.0/8"})});
  moved.environment_cidr = "10.99.0.0/16";
  applier.apply(moved);
  EXPECT_EQ(outcome(applier, "db"), "invariant_violation");
  EXPECT_EQ(runtime.applied().size(), 1u);
  // Pinned across restarts too.
  FakeRuntime restarted;
  DesiredStateApplier again(restarted, dir.path(), EnvironmentScope{true, ""});
  again.apply(moved);
  EXPECT_EQ(outcome(again, "db"), "invariant_violation");
  ASSERT_EQ(restarted.applied().size(), 1u) << "the last good spec runs again";
  EXPECT_TRUE(restarted.applied()[0].allowed_ips.empty());
}

TEST_F(Applier, ARuntimeRefusalKeepsTheLastGoodSpec) {
  applier.apply(desired(1, {db()}));
  model::DesiredService upgrade = db();
  upgrade.clickhouse_version = "99.1";
  applier.apply(desired(2, {upgrade}));
  EXPECT_EQ(outcome(applier, "db"), "unsupported_version");
  EXPECT_EQ(runtime.spec("db").clickhouse_version, "18.16.1");
  FakeRuntime restarted;
  DesiredStateApplier again(restarted, dir.path(), EnvironmentScope{true, ""});
  again.apply(desired(2, {upgrade}));
  EXPECT_EQ(restarted.spec("db").clickhouse_version, "18.16.1");
  EXPECT_EQ(outcome(again, "db"), "unsupported_version");
}

TEST_F(Applier, AFailedApplyIsRetried) {
  runtime.fail_next_applies(1);
  applier.apply(desired(1, {db()}));
  EXPECT_EQ(outcome(applier, "db"), "apply_failed");
  applier.retry_failed();
  EXPECT_EQ(outcome(applier, "db"), "");
  EXPECT_EQ(runtime.applied().size(), 2u);
  applier.retry_failed();
  EXPECT_EQ(runtime.applied().size(), 2u) << "nothing left to retry";
}

TEST_F(Applier, ServicesNoLongerDesiredAreRemovedAndForgotten) {
  model::DesiredService other = db();
  other.name = "logs";
  applier.apply(desired(1, {db(), other}));
  applier.apply(desired(2, {db()}));
  EXPECT_EQ(runtime.removed(), std::vector<std::string>{"logs"});
  EXPECT_FALSE(runtime.has("logs"));
  auto saved = model::parse_desired_state(nlohmann::json::parse(files::read(dir.path() / "accepted.json")));
  ASSERT_EQ(saved.services.size(), 1u);
  EXPECT_EQ(saved.services[0].name, "db");
  // Re-created later, it's a new service: its first hash is accepted.
  other.default_password_sha256_hex = kHashB;
  applier.apply(desired(3, {db(), other}));
  EXPECT_EQ(outcome(applier, "logs"), "");
}

TEST_F(Applier, ACorruptAcceptedFileStopsTheAgent) {
  files::write_atomic(dir.path() / "accepted.json", "{\"services\": 3}", 0600);
  FakeRuntime restarted;
  EXPECT_THROW(DesiredStateApplier(restarted, dir.path(), EnvironmentScope{true, ""}), Error);
}

}  // namespace
}  // namespace byoc::agent
