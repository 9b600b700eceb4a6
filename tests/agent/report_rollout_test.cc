// A runtime's rollout progress reaches the agent's report (and the wire, at
// protocol 6) as the runtime observed it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent/report.h"

namespace byoc::agent {
namespace {

TEST(ReportRollout, TheObservedRolloutIsReportedAndSent) {
  model::DesiredState desired;
  desired.services.resize(2);
  desired.services[0].name = "orders";
  desired.services[1].name = "events";
  ServiceStatus rolling;
  rolling.name = "orders";
  rolling.state = ServiceState::kProvisioning;
  rolling.reason = "rolling";
  rolling.rollout = model::ReportedRollout{"up-1", "rolling", 1, 2, 0, 0, ""};
  ServiceStatus plain{"events", ServiceState::kReady};

  auto reported = reported_services(desired, {rolling, plain}, {});
  ASSERT_EQ(reported.size(), 2u);
  EXPECT_EQ(reported[0].rollout, rolling.rollout);
  EXPECT_EQ(reported[0].reason, "rolling");
  EXPECT_FALSE(reported[1].rollout);

  model::SyncRequest request;
  request.status.services = reported;
  nlohmann::json sent = model::to_json(request);
  EXPECT_EQ(model::kProtocolVersion, 6);
  EXPECT_EQ(sent["status"]["services"][0]["rollout"]["replicas_done"], 1);
  EXPECT_EQ(sent["status"]["services"][0]["rollout"]["state"], "rolling");
  EXPECT_FALSE(sent["status"]["services"][1].contains("rollout"));
}

}  // namespace
}  // namespace byoc::agent
