// The Prometheus series: every family is there, and the gauges read their
// sources at scrape time.
#include "server/metrics.h"

#include <gtest/gtest.h>

namespace byoc::server {
namespace {

TEST(Metrics, GaugesReadTheirSourcesAtScrapeTime) {
  Metrics metrics;
  double connected = 3, waiting = 2;
  metrics.set_connected_agents_source([&] { return connected; });
  metrics.set_waiting_syncs_source([&] { return waiting; });
  std::string text = metrics.render();
  EXPECT_NE(text.find("byoc_connected_agents 3"), std::string::npos) << text;
  EXPECT_NE(text.find("byoc_agent_syncs_waiting 2"), std::string::npos) << text;
  connected = 10'000;
  waiting = 9'999;
  text = metrics.render();
  EXPECT_NE(text.find("byoc_connected_agents 10000"), std::string::npos) << text;
  EXPECT_NE(text.find("byoc_agent_syncs_waiting 9999"), std::string::npos) << text;
}

TEST(Metrics, RequestsAreCountedByRoutePatternNotByPath) {
  Metrics metrics;
  metrics.observe_request("GET", "/v1/environments/{env}", 200, 0.002);
  metrics.observe_request("GET", "/v1/environments/{env}", 200, 0.003);
  metrics.observe_request("GET", "/v1/environments/{env}", 404, 0.001);
  metrics.observe_sync("changed", 0.01);
  metrics.observe_reconcile("environment", "success");
  std::string text = metrics.render();
  EXPECT_NE(text.find(R"(byoc_http_requests_total{method="GET",route="/v1/environments/{env}",status="200"} 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(status="404"} 1)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(byoc_agent_sync_duration_seconds_count{outcome="changed"} 1)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(byoc_reconciles_total{kind="environment",result="success"} 1)"), std::string::npos) << text;
}

}  // namespace
}  // namespace byoc::server
