// The agent's half of the telemetry allowlist: what it reports about its
// services, and that a report always passes the server's strict parser.
#include "agent/report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace byoc::agent {
namespace {

model::DesiredState desired(std::initializer_list<const char*> names) {
  model::DesiredState d;
  d.revision = 7;
  d.environment_id = "env-1";
  for (const char* n : names) {
    model::DesiredService s;
    s.name = n;
    s.default_password_sha256_hex = std::string(64, 'a');
    d.services.push_back(s);
  }
  return d;
}

ServiceStatus ready(const std::string& name) {
  return {name,
          ServiceState::kReady,
          "https://127.0.0.1:4443",
          "127.0.0.1:9440",
          "",
          {{1, 1, ReplicaState::kRunning, 0}}};
}

// The report the agent would send, through the same parser the server uses.
model::SyncRequest round_trip(const std::vector<model::ReportedService>& services) {
  model::SyncRequest r;
  r.known_revision = 7;
  r.seq = 1;
  r.status.applied_revision = 7;
  r.status.services = services;
  return model::parse_sync_request(model::to_json(r));
}

TEST(Report, ARefusedServiceStillServingIsReadyWithTheReason) {
  auto services = reported_services(desired({"db"}), {ready("db")}, {{"db", "policy_violation"}});
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0].state, "READY");
  EXPECT_EQ(services[0].reason, "policy_violation");
  EXPECT_EQ(services[0].endpoint, "https://127.0.0.1:4443");
  EXPECT_EQ(round_trip(services).status.services, services);
}

TEST(Report, ARefusedServiceWithNothingRunningIsFailed) {
  auto services = reported_services(desired({"db", "new"}), {ready("db")}, {{"new", "invariant_violation"}});
  ASSERT_EQ(services.size(), 2u);
  EXPECT_EQ(services[0].state, "READY");
  EXPECT_EQ(services[0].reason, "");
  EXPECT_EQ(services[1].state, "FAILED");
  EXPECT_EQ(services[1].reason, "invariant_violation");
  EXPECT_EQ(round_trip(services).status.services, services);
}

TEST(Report, AServiceNotRunningYetIsProvisioning) {
  auto services = reported_services(desired({"db"}), {}, {});
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0].state, "PROVISIONING");
  EXPECT_EQ(services[0].reason, "starting");
}

TEST(Report, NothingOutsideTheEnumerationsLeaves) {
  ServiceStatus odd = ready("db");
  odd.state = ServiceState::kFailed;
  odd.reason = "Code: 60, e.displayText() = DB::Exception: Table default.secrets doesn't exist";
  odd.endpoint = "http://evil.example/?q=SELECT";
  odd.replicas = {{1, 1, ReplicaState::kFailed, -5},
                  {1, 2, ReplicaState::kFailed, 60},
                  {99, 1, ReplicaState::kRunning, 0}};
  auto services = reported_services(desired({"db"}), {odd}, {});
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0].reason, "unknown");
  EXPECT_EQ(services[0].endpoint, "");
  ASSERT_EQ(services[0].replicas.size(), 2u) << "a replica outside the protocol's range is left out";
  EXPECT_EQ(services[0].replicas[0].last_error_code, 0);
  EXPECT_EQ(services[0].replicas[1].last_error_code, 60);
  EXPECT_EQ(round_trip(services).status.services, services);
  std::string wire = model::to_json(round_trip(services)).dump();
  EXPECT_EQ(wire.find("secrets"), std::string::npos);
  EXPECT_EQ(wire.find("evil"), std::string::npos);
}

TEST(Report, EveryRuntimeReasonIsAProtocolReasonCode) {
  // The local runtime's reasons (local_runtime.cc) must reach the server as they are.
  for (const char* reason : {"starting", "replica_failed", "endpoint_failed", "restarting", "stopped",
                             "incomplete", "unsupported_topology", "unsupported_version"}) {
    ServiceStatus s = ready("db");
    s.state = ServiceState::kProvisioning;
    s.reason = reason;
    auto services = reported_services(desired({"db"}), {s}, {});
    EXPECT_EQ(services.at(0).reason, reason);
    EXPECT_NO_THROW(round_trip(services)) << reason;
  }
}

}  // namespace
}  // namespace byoc::agent
