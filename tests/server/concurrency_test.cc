// Concurrent identical POSTs with one Idempotency-Key against a real server.
#include <gtest/gtest.h>

#include <thread>

#include "base/files.h"
#include "base/process.h"
#include "server_process.h"
#include "testing/testing.h"

namespace byoc::test {
namespace {
using nlohmann::json;

TEST(Idempotency, ConcurrentIdenticalPostsCreateOneEnvironment) {
  testing::TempDir scratch;
  ServerProcess server(scratch.path(), proc::pick_free_port());
  server.start();
  std::string token = files::read(server.data_dir() / "admin.token");
  token.pop_back();
  std::string ca = files::read(server.data_dir() / "ca.pem");
  const std::string body = R"({"name":"same","cloud":"external","cidr":"10.30.0.0/16"})";
  constexpr int kClients = 12;
  std::vector<std::pair<int, std::string>> answers(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      http::Client client({ca});
      http::Request req;
      req.method = "POST";
      req.url = server.url() + "/v1/environments";
      req.headers = {{"Authorization", "Bearer " + token},
                     {"Content-Type", "application/json"},
                     {"Idempotency-Key", "create-same-1"}};
      req.body = body;
      auto res = client.send(req);
      answers[i] = {res.status, res.body};
    });
  }
  for (auto& t : threads) t.join();
  std::string first_id;
  for (const auto& [status, text] : answers) {
    ASSERT_EQ(status, 202) << text;
    std::string id = json::parse(text)["id"];
    if (first_id.empty()) first_id = id;
    EXPECT_EQ(id, first_id) << "every answer names the same operation";
  }
  auto [status, list] = server.call("GET", "/v1/environments");
  EXPECT_EQ(list["items"].size(), 1u) << list.dump();
}

}  // namespace
}  // namespace byoc::test
