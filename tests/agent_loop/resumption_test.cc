// TLS session resumption across a server crash, with the agent's own sync
// client: the agent is inside a long-poll when the server is killed (the
// connection ends without close_notify while it reads), and after the
// restart it resumes its session (the ticket key is kept in the data dir)
// instead of paying a full handshake.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "../server/server_process.h"
#include "external_agent.h"
#include "agent/join.h"
#include "agent/sync_client.h"
#include "base/error.h"
#include "base/files.h"
#include "base/http_client.h"
#include "base/process.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {
using namespace std::chrono_literals;

// byoc_tls_handshakes_total{resumed="true"} from GET /metrics, read with a
// client of its own (a full handshake: not counted as resumed).
double resumed_handshakes(const test::ServerProcess& server, const std::string& ca_pem) {
  http::Client scraper({ca_pem, "", "", false});
  http::Request req;
  req.url = server.url() + "/metrics";
  http::Response res = scraper.send(req);
  EXPECT_EQ(res.status, 200) << res.body;
  std::smatch m;
  static const std::regex line(R"(byoc_tls_handshakes_total\{resumed="true"\} ([0-9.e+]+))");
  return std::regex_search(res.body, m, line) ? std::stod(m[1]) : -1;
}

TEST(TlsResumption, AnAgentInALongPollResumesItsSessionAfterKill9AndRestart) {
  testing::TempDir scratch;
  test::ServerProcess server(scratch.path(), proc::pick_free_port());
  server.start();
  AgentIdentity id = agent_loop::join_external_agent(server, "t1", "10.42.0.0/16", scratch.path() / "agent");
  const std::string ca = files::read(server.data_dir() / "ca.pem");

  SyncClient client(server.url(), id, nullptr);
  model::SyncRequest report;
  report.seq = 1;
  model::SyncResponse first = client.sync(report);  // answered at once: desired state is newer
  report.known_revision = first.revision;

  // Held by the server (nothing newer), killed while the agent reads.
  std::thread held([&] {
    report.seq = 2;
    EXPECT_THROW(client.sync(report), Error);
  });
  ASSERT_TRUE(testing::eventually([&] {
    http::Client probe({ca, "", "", false});
    http::Request req;
    req.url = server.url() + "/metrics";
    http::Response res = probe.send(req);
    return res.body.find("byoc_agent_syncs_waiting 1") != std::string::npos;
  }, 10s));
  server.kill9();
  held.join();

  server.start();
  double before = resumed_handshakes(server, ca);
  ASSERT_GE(before, 0);
  report.seq = 3;
  report.known_revision = 0;  // answered at once
  client.sync(report);
  EXPECT_EQ(resumed_handshakes(server, ca), before + 1) << "the agent did a full handshake";
}

}  // namespace
}  // namespace byoc::agent
