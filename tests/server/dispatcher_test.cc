// The dispatcher against handlers that fail in every way a handler can: each
// answer is a JSON error, unexpected failures are a 500 naming the request id
// (never the failure's text), and every answer is counted and logged once.
#include "server/dispatcher.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <sys/stat.h>

#include "base/error.h"
#include "testing/testing.h"

namespace byoc::server {
namespace {

struct Captured final : Responder {
  std::vector<HttpResponse> sent;
  void send(HttpResponse response) override { sent.push_back(std::move(response)); }
};

std::string header_of(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : log_path_(dir_.path() / "access.log"), log_(log_path_) {
    router_.add({"GET", "/ok/{name}", "test.1", Access::kPublic, Effect::kRead}, [](HttpRequest& req, std::shared_ptr<Responder> r) {
      req.trace->token_id = "tok_0123";
      r->send(HttpResponse::json(200, {{"name", req.params.at("name")}}));
    });
    router_.add({"GET", "/std", "test.2", Access::kPublic, Effect::kRead}, [](HttpRequest&, std::shared_ptr<Responder>) {
      throw std::runtime_error("open /var/secret/path: SELECT password FROM t");
    });
    router_.add({"GET", "/internal", "test.3", Access::kPublic, Effect::kRead}, [](HttpRequest&, std::shared_ptr<Responder>) {
      throw Error::Internal("store corrupted at page 7");
    });
    router_.add({"GET", "/odd", "test.4", Access::kPublic, Effect::kRead}, [](HttpRequest&, std::shared_ptr<Responder>) { throw 42; });
    router_.add({"GET", "/json", "test.5", Access::kPublic, Effect::kRead}, [](HttpRequest&, std::shared_ptr<Responder>) {
      (void)nlohmann::json::parse("{").dump();
    });
    router_.add({"GET", "/bad", "test.6", Access::kPublic, Effect::kRead}, [](HttpRequest&, std::shared_ptr<Responder>) {
      throw Error::BadRequest("invalid_name", "name is wrong", "name");
    });
    router_.add({"GET", "/twice", "test.7", Access::kPublic, Effect::kRead}, [](HttpRequest&, std::shared_ptr<Responder> r) {
      r->send(HttpResponse::json(201, {}));
      r->send(HttpResponse::json(500, {}));
    });
  }

  HttpResponse call(const std::string& method, const std::string& path) {
    HttpRequest req;
    req.method = method;
    req.path = path;
    req.remote_address = "192.0.2.7";
    auto captured = std::make_shared<Captured>();
    dispatcher_.dispatch(req, captured);
    EXPECT_EQ(captured->sent.size(), 1u) << path;
    return captured->sent.empty() ? HttpResponse{} : captured->sent.front();
  }

  std::vector<nlohmann::json> log_lines() {
    std::ifstream in(log_path_);
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }

  byoc::testing::TempDir dir_;
  std::filesystem::path log_path_;
  AccessLog log_;
  Router router_;
  Metrics metrics_;
  ManualClock clock_{1'800'000'000};
  Dispatcher dispatcher_{router_, metrics_, clock_, &log_};
};

TEST_F(DispatcherTest, UnexpectedFailuresAre500sNamingTheRequestIdOnly) {
  for (const char* path : {"/std", "/internal", "/odd", "/json"}) {
    HttpResponse r = call("GET", path);
    EXPECT_EQ(r.status, 500) << path;
    auto body = nlohmann::json::parse(r.body);
    std::string id = header_of(r, "X-Request-Id");
    ASSERT_FALSE(id.empty()) << path;
    EXPECT_EQ(body["error"]["code"], "internal") << path;
    EXPECT_EQ(body["error"]["request_id"], id) << path;
    EXPECT_NE(body["error"]["message"].get<std::string>().find(id), std::string::npos) << path;
    // The failure's own text (paths, SQL, store internals) never reaches the client.
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << path;
    EXPECT_EQ(r.body.find("page 7"), std::string::npos) << path;
    EXPECT_EQ(r.body.find("parse"), std::string::npos) << path;
  }
}

TEST_F(DispatcherTest, ExpectedErrorsKeepTheirStatusAndField) {
  HttpResponse bad = call("GET", "/bad");
  EXPECT_EQ(bad.status, 400);
  auto body = nlohmann::json::parse(bad.body);
  EXPECT_EQ(body["error"]["code"], "invalid_name");
  EXPECT_EQ(body["error"]["field"], "name");
  EXPECT_EQ(call("GET", "/nowhere").status, 404);
  EXPECT_EQ(call("POST", "/std").status, 405);
}

TEST_F(DispatcherTest, RequestIdsAreDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.insert(header_of(call("GET", "/ok/x"), "X-Request-Id"));
  EXPECT_EQ(ids.size(), 100u);
}

TEST_F(DispatcherTest, EachAnswerIsLoggedOnceWithThePatternAndTokenIdNeverThePath) {
  call("GET", "/ok/customer-secret-name");
  call("GET", "/twice");
  call("GET", "/nowhere/else");
  call("GET", "/std");
  dispatcher_.rejected("198.51.100.1", 431);
  auto lines = log_lines();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0]["route"], "/ok/{name}");
  EXPECT_EQ(lines[0]["status"], 200);
  EXPECT_EQ(lines[0]["token_id"], "tok_0123");
  EXPECT_EQ(lines[0]["source"], "192.0.2.7");
  EXPECT_EQ(lines[0]["method"], "GET");
  EXPECT_EQ(lines[0]["time"], "2027-01-15T08:00:00.000Z");
  EXPECT_TRUE(lines[0].contains("duration_ms"));
  EXPECT_EQ(lines[1]["status"], 201);  // the first answer, counted once
  EXPECT_EQ(lines[2]["route"], "unmatched");
  EXPECT_EQ(lines[2]["status"], 404);
  EXPECT_FALSE(lines[2].contains("token_id"));
  EXPECT_EQ(lines[3]["status"], 500);
  EXPECT_EQ(lines[4]["route"], "malformed");
  EXPECT_EQ(lines[4]["status"], 431);
  std::ifstream in(log_path_);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(all.find("customer-secret-name"), std::string::npos);
  EXPECT_EQ(all.find("password"), std::string::npos);
  struct stat st{};
  ASSERT_EQ(::stat(log_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(DispatcherTest, MetricsCountPatternsNotPaths) {
  call("GET", "/ok/a");
  call("GET", "/ok/b");
  call("GET", "/nowhere/c");
  std::string text = metrics_.render();
  EXPECT_NE(text.find("route=\"/ok/{name}\""), std::string::npos);
  EXPECT_NE(text.find("route=\"unmatched\""), std::string::npos);
  EXPECT_EQ(text.find("/ok/a"), std::string::npos);
  EXPECT_EQ(text.find("/nowhere/c"), std::string::npos);
}

}  // namespace
}  // namespace byoc::server
