// The resource commands end to end through run(), with requests answered
// in-process (Io::transport): which method, path, query and body each command
// sends for the flags given (and nothing it wasn't given), and what it prints.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/files.h"
#include "cli/app.h"
#include "testing/testing.h"

namespace byoc::cli {
namespace {
using nlohmann::json;

struct Sent {
  std::string method;
  std::string path;  // after the server URL, with the query
  json body;         // null when none was sent
  std::string content_type;
  std::string authorization;
};

struct Result {
  int code;
  std::string out;
  std::string err;
  long err_lines() const { return std::count(err.begin(), err.end(), '\n'); }
};

constexpr const char* kServer = "https://byoc.test:8443";

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override { files::write_atomic(home_.path() / "ca.pem", "pinned CA\n", 0644); }

  // The next answer the fake server gives, in order.
  void answer(int status, const json& body) {
    answers_.push_back({status, body.is_null() ? "" : body.dump()});
  }

  Result run_cli(std::vector<std::string> args) {
    std::ostringstream out, err;
    Io io{out, err, clock_, false,
          map_env({{"HOME", home_.path().string()},
                   {"BYOC_SERVER", kServer},
                   {"BYOC_TOKEN", "byoc_t1.secret"},
                   {"BYOC_CA_FILE", (home_.path() / "ca.pem").string()}}),
          [this](const http::Request& request) { return send(request); }};
    int code = run(args, io);
    return {code, out.str(), err.str()};
  }

  http::Response send(const http::Request& request) {
    Sent s;
    s.method = request.method;
    EXPECT_EQ(request.url.rfind(kServer, 0), 0u) << request.url;
    s.path = request.url.substr(std::string(kServer).size());
    s.body = request.body.empty() ? json() : json::parse(request.body);
    for (const auto& [name, value] : request.headers) {
      if (name == "Content-Type") s.content_type = value;
      if (name == "Authorization") s.authorization = value;
    }
    sent_.push_back(s);
    if (answers_.empty()) {
      ADD_FAILURE() << "unexpected request " << s.method << " " << s.path;
      return {500, "", {}};
    }
    auto [status, body] = answers_.front();
    answers_.pop_front();
    return {status, body, {}};
  }

  testing::TempDir home_;
  SystemClock clock_;  // --wait polls in real time between the fake server's answers
  std::deque<std::pair<int, std::string>> answers_;
  std::vector<Sent> sent_;
};

json operation(const std::string& kind, const std::string& status, const json& result = nullptr) {
  return {{"id", "op-1"},
          {"kind", kind},
          {"environment", "e1"},
          {"service", "s1"},
          {"status", status},
          {"steps", {{{"name", "agent_apply"}, {"state", status == "running" ? "running" : "done"}}}},
          {"progress", 0.5},
          {"result", result},
          {"error", nullptr}};
}

json service(const json& allowed_ips) {
  return {{"name", "s1"},
          {"environment", "e1"},
          {"allowed_ips", allowed_ips},
          {"state", "READY"},
          {"endpoint", "https://127.0.0.1:9443"},
          {"native_endpoint", "127.0.0.1:9440"}};
}

TEST_F(CommandsTest, TokenCreateSendsRoleAndOrganizationAndShowsTheSecretOnce) {
  json created = {{"id", "t9"},
                  {"role", "customer"},
                  {"organization", "acme"},
                  {"created_at", "2026-11-24T07:00:00Z"},
                  {"token", "byoc_t9.s3cret"}};
  answer(201, created);
  Result r = run_cli({"token", "create", "--role", "customer", "--organization", "acme"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].method, "POST");
  EXPECT_EQ(sent_[0].path, "/v1/tokens");
  EXPECT_EQ(sent_[0].body, (json{{"role", "customer"}, {"organization", "acme"}}));
  EXPECT_EQ(sent_[0].content_type, "application/json");
  EXPECT_EQ(sent_[0].authorization, "Bearer byoc_t1.secret");
  EXPECT_NE(r.out.find("id:           t9\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("role:         customer\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("organization: acme\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("token:        byoc_t9.s3cret   (shown only once"), std::string::npos) << r.out;

  answer(201, created);
  Result j = run_cli({"token", "create", "--role", "admin", "-o", "json"});
  ASSERT_EQ(j.code, 0) << j.err;
  EXPECT_EQ(sent_[1].body, (json{{"role", "admin"}})) << "no --organization: the server's default";
  EXPECT_EQ(json::parse(j.out), created);
}

TEST_F(CommandsTest, TokenCreateChecksTheRoleLocally) {
  Result r = run_cli({"token", "create", "--role", "root"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err_lines(), 1) << r.err;
  EXPECT_NE(r.err.find("root"), std::string::npos) << r.err;
  Result missing = run_cli({"token", "create"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_EQ(missing.err, "error: --role is required\n");
  EXPECT_TRUE(sent_.empty());
}

TEST_F(CommandsTest, TokenListShowsNoSecrets) {
  answer(200, {{"items",
                {{{"id", "t1"},
                  {"role", "admin"},
                  {"organization", "default"},
                  {"subject", "alice@vendor.example"},
                  {"created_at", "2026-11-24T07:00:00Z"}},
                 {{"id", "t9"},
                  {"role", "customer"},
                  {"organization", "acme"},
                  {"created_at", "2026-11-24T08:00:00Z"}}}}});
  Result r = run_cli({"token", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sent_[0].method, "GET");
  EXPECT_EQ(sent_[0].path, "/v1/tokens");
  EXPECT_EQ(r.out,
            "ID   ROLE       ORGANIZATION   SUBJECT                CREATED\n"
            "t1   admin      default        alice@vendor.example   2026-11-24T07:00:00Z\n"
            "t9   customer   acme                                  2026-11-24T08:00:00Z\n");
}

TEST_F(CommandsTest, TokenDeleteTakesTheEmptyAnswer) {
  answer(204, nullptr);
  Result r = run_cli({"token", "delete", "t9"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sent_[0].method, "DELETE");
  EXPECT_EQ(sent_[0].path, "/v1/tokens/t9");
  EXPECT_TRUE(sent_[0].body.is_null());
  EXPECT_EQ(r.out, "token t9 deleted\n");

  answer(409,
         {{"error", {{"code", "own_token"}, {"message", "a token can't delete itself"}, {"field", "id"}}}});
  Result own = run_cli({"token", "delete", "t1", "-o", "json"});
  EXPECT_EQ(own.code, 1);
  EXPECT_EQ(own.err, "error: a token can't delete itself (field: id)\n");
  EXPECT_EQ(own.out, "");
}

TEST_F(CommandsTest, OrgCreateAndList) {
  answer(201, {{"name", "acme"}, {"created_at", "2026-11-24T07:00:00Z"}});
  Result created = run_cli({"org", "create", "acme"});
  ASSERT_EQ(created.code, 0) << created.err;
  EXPECT_EQ(sent_[0].method, "POST");
  EXPECT_EQ(sent_[0].path, "/v1/organizations");
  EXPECT_EQ(sent_[0].body, (json{{"name", "acme"}}));
  EXPECT_EQ(created.out, "name:    acme\ncreated: 2026-11-24T07:00:00Z\n");

  json list = {{"items",
                {{{"name", "default"}, {"created_at", "2026-11-24T06:00:00Z"}},
                 {{"name", "acme"}, {"created_at", "2026-11-24T07:00:00Z"}}}}};
  answer(200, list);
  Result listed = run_cli({"org", "list"});
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_EQ(sent_[1].path, "/v1/organizations");
  EXPECT_EQ(listed.out,
            "NAME      CREATED\n"
            "default   2026-11-24T06:00:00Z\n"
            "acme      2026-11-24T07:00:00Z\n");
  answer(200, list);
  EXPECT_EQ(json::parse(run_cli({"org", "list", "-o", "json"}).out), list);
}

TEST_F(CommandsTest, PlaneListShowsTheServersAndWhichAnswered) {
  json list = {{"items",
                {{{"id", "server-a"},
                  {"url", "https://10.0.0.1:8443"},
                  {"started_at", "2026-12-06T10:00:00Z"},
                  {"heartbeat_at", "2026-12-06T10:05:00Z"},
                  {"answering", true}},
                 {{"id", "server-b"},
                  {"url", ""},
                  {"started_at", "2026-12-06T10:01:00Z"},
                  {"heartbeat_at", "2026-12-06T10:04:55Z"},
                  {"answering", false}}}}};
  answer(200, list);
  Result r = run_cli({"plane", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sent_[0].method, "GET");
  EXPECT_EQ(sent_[0].path, "/v1/servers");
  EXPECT_EQ(r.out,
            "ID (* answering)   URL                     STARTED                HEARTBEAT\n"
            "server-a *         https://10.0.0.1:8443   2026-12-06T10:00:00Z   2026-12-06T10:05:00Z\n"
            "server-b           (not advertised)        2026-12-06T10:01:00Z   2026-12-06T10:04:55Z\n");
  answer(200, list);
  EXPECT_EQ(json::parse(run_cli({"plane", "list", "-o", "json"}).out), list);
}

TEST_F(CommandsTest, OrganizationGoesInTheQueryOfEveryEnvAndServiceCommand) {
  json env = {{"name", "e 1"}, {"cloud", "local"}, {"state", "READY"}};
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"env", "list", "--organization", "acme"}, "GET /v1/environments?organization=acme"},
      {{"env", "get", "e 1", "--organization", "a&b"}, "GET /v1/environments/e%201?organization=a%26b"},
      {{"env", "delete", "e1", "--organization", "acme"}, "DELETE /v1/environments/e1?organization=acme"},
      {{"env", "join-token", "e1", "--organization", "acme"},
       "POST /v1/environments/e1/join-tokens?organization=acme"},
      {{"env", "retry", "e1", "--organization", "acme"}, "POST /v1/environments/e1/retry?organization=acme"},
      {{"env", "create", "e1", "--cloud", "local", "--cidr", "10.0.0.0/16", "--organization", "acme"},
       "POST /v1/environments?organization=acme"},
      {{"service", "list", "--organization", "acme"}, "GET /v1/services?organization=acme"},
      {{"service", "list", "--env", "e1", "--organization", "acme"},
       "GET /v1/services?environment=e1&organization=acme"},
      {{"service", "get", "s1", "--env", "e1", "--organization", "acme"},
       "GET /v1/environments/e1/services/s1?organization=acme"},
      {{"service", "delete", "s1", "--env", "e1", "--organization", "acme"},
       "DELETE /v1/environments/e1/services/s1?organization=acme"},
      {{"service", "create", "s1", "--env", "e1", "--organization", "acme"},
       "POST /v1/environments/e1/services?organization=acme"},
      {{"service", "update", "s1", "--env", "e1", "--allowed-ips-loopback-only", "--organization", "acme"},
       "PATCH /v1/environments/e1/services/s1?organization=acme"},
      {{"profile", "list", "--env", "e1", "--organization", "acme"},
       "GET /v1/environments/e1/profiles?organization=acme"},
      // Without the flag, no query: the server picks (default, or the customer's own).
      {{"env", "list"}, "GET /v1/environments"},
      {{"service", "get", "s1", "--env", "e1"}, "GET /v1/environments/e1/services/s1"},
  };
  for (const auto& [args, request] : cases) {
    sent_.clear();
    answer(200, env);
    Result r = run_cli(args);
    EXPECT_EQ(r.code, 0) << args[0] << " " << args[1] << ": " << r.err;
    ASSERT_EQ(sent_.size(), 1u) << request;
    EXPECT_EQ(sent_[0].method + " " + sent_[0].path, request);
  }
}

TEST_F(CommandsTest, ServiceUpdateSendsTheAllowlist) {
  answer(202, operation("service.update", "running"));
  Result r = run_cli({"service", "update", "s1", "--env", "e1", "--allowed-ips", "10.0.0.0/8,fd00::/8"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].method, "PATCH");
  EXPECT_EQ(sent_[0].path, "/v1/environments/e1/services/s1");
  EXPECT_EQ(sent_[0].content_type, "application/json");
  EXPECT_EQ(sent_[0].body, (json{{"allowed_ips", {"10.0.0.0/8", "fd00::/8"}}}));
  EXPECT_NE(r.out.find("kind:     service.update"), std::string::npos) << r.out;

  answer(202, operation("service.update", "running"));
  Result loopback = run_cli({"service", "update", "s1", "--env", "e1", "--allowed-ips-loopback-only"});
  ASSERT_EQ(loopback.code, 0) << loopback.err;
  EXPECT_EQ(sent_[1].body, (json{{"allowed_ips", json::array()}}));
}

TEST_F(CommandsTest, ServiceUpdateSendsAResizeAndAScale) {
  answer(202, operation("service.update", "running"));
  Result r = run_cli({"service", "update", "s1", "--env", "e1", "--cpu-millis", "2000", "--memory-mib", "4096",
                      "--replicas", "3", "--in-window"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].method + " " + sent_[0].path, "PATCH /v1/environments/e1/services/s1");
  EXPECT_EQ(sent_[0].body, (json{{"cpu_millis", 2000}, {"memory_mib", 4096}, {"replicas", 3}, {"when", "window"}}));

  answer(202, operation("service.update", "running"));
  ASSERT_EQ(run_cli({"service", "update", "s1", "--env", "e1", "--profile", "m7g.large"}).code, 0);
  EXPECT_EQ(sent_[1].body, (json{{"profile", "m7g.large"}}));
}

TEST_F(CommandsTest, ServiceUpdateWaitFollowsTheOperationAndPrintsTheService) {
  json updated = service({"10.0.0.0/8"});
  answer(202, operation("service.update", "running"));
  answer(200, operation("service.update", "succeeded", updated));
  Result r = run_cli({"service", "update", "s1", "--env", "e1", "--allowed-ips", "10.0.0.0/8", "--wait"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1].method + " " + sent_[1].path, "GET /v1/operations/op-1");
  EXPECT_NE(r.out.find("allowed_ips:     10.0.0.0/8\n"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("service.update e1/s1: succeeded"), std::string::npos) << r.err;

  answer(202, operation("service.update", "running"));
  json failed = operation("service.update", "failed");
  failed["error"] = {{"code", "superseded"}, {"message", "a later update replaced this one"}};
  answer(200, failed);
  Result superseded =
      run_cli({"service", "update", "s1", "--env", "e1", "--allowed-ips", "10.0.0.0/8", "--wait"});
  EXPECT_EQ(superseded.code, 1);
  EXPECT_NE(superseded.err.find("error: service.update e1/s1 failed: a later update replaced this one"),
            std::string::npos)
      << superseded.err;
  EXPECT_EQ(superseded.out, "");
}

TEST_F(CommandsTest, ServiceUpdateUsageErrors) {
  const std::vector<std::vector<std::string>> cases = {
      {"service", "update", "s1", "--env", "e1"},  // nothing to change
      {"service", "update", "s1", "--env", "e1", "--allowed-ips", "10.0.0.0/8",
       "--allowed-ips-loopback-only"},
      {"service", "update", "s1", "--env", "e1", "--allowed-ips", ""},
      {"service", "update", "s1", "--env", "e1", "--allowed-ips", "10.0.0.0/8,10.0.0.1"},
      {"service", "update", "s1", "--allowed-ips", "10.0.0.0/8"},  // no --env
  };
  for (const auto& args : cases) {
    Result r = run_cli(args);
    EXPECT_EQ(r.code, 2) << args.back();
    EXPECT_EQ(r.err_lines(), 1) << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  }
  EXPECT_EQ(run_cli({"service", "update", "s1", "--env", "e1"}).err,
            "error: --allowed-ips, --allowed-ips-loopback-only, --profile, --cpu-millis, --memory-mib or --replicas "
            "is required\n");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"service", "update", "s1", "--env", "e1", "--profile", "m7g.large", "--cpu-millis", "2000"},
           {"service", "update", "s1", "--env", "e1", "--allowed-ips", "10.0.0.0/8", "--in-window"},
           {"service", "update", "s1", "--env", "e1", "--replicas", "two"}}) {
    Result r = run_cli(args);
    EXPECT_EQ(r.code, 2) << args[5];
    EXPECT_EQ(r.err_lines(), 1) << r.err;
  }
  EXPECT_NE(run_cli({"service", "update", "s1", "--env", "e1", "--allowed-ips", ""})
                .err.find("use --allowed-ips-loopback-only"),
            std::string::npos);
  EXPECT_TRUE(sent_.empty());
}

TEST_F(CommandsTest, ServiceCreateSendsTheProfile) {
  answer(202, operation("service.create", "running"));
  Result r =
      run_cli({"service", "create", "s1", "--env", "e1", "--profile", "m7gd.large", "--replicas", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sent_[0].body, (json{{"name", "s1"}, {"profile", "m7gd.large"}, {"replicas", 2}}));
}

TEST_F(CommandsTest, ProfileExcludesExplicitSizesLocally) {
  for (const char* flag : {"--cpu-millis", "--memory-mib"}) {
    Result r = run_cli({"service", "create", "s1", "--env", "e1", "--profile", "host", flag, "1000"});
    EXPECT_EQ(r.code, 2) << flag;
    EXPECT_EQ(r.err_lines(), 1) << r.err;
    EXPECT_NE(r.err.find("--profile"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(flag), std::string::npos) << r.err;
  }
  EXPECT_TRUE(sent_.empty());
}

TEST_F(CommandsTest, ProfileListTableAndJson) {
  json profiles = {{"items",
                    {{{"name", "m7gd.large"},
                      {"instance_type", "m7gd.large"},
                      {"price_per_hour", 0.1068},
                      {"max_pods", 29},
                      {"allocatable", {{"cpu_millis", 1930}, {"memory_mib", 6826}}},
                      {"requests", {{"cpu_millis", 1930}, {"memory_mib", 6826}}},
                      {"limits", {{"cpu_millis", 1930}, {"memory_mib", 6826}}},
                      {"ssd_cache_gib", 98},
                      {"node_group", "byoc-m7gd-large"}},
                     {{"name", "host"},
                      {"instance_type", "host"},
                      {"price_per_hour", 0},
                      {"allocatable", {{"cpu_millis", 2000}, {"memory_mib", 7900}}},
                      {"requests", {{"cpu_millis", 1800}, {"memory_mib", 7000}}},
                      {"ssd_cache_gib", 0},
                      {"node_group", ""}}}}};
  answer(200, profiles);
  Result r = run_cli({"profile", "list", "--env", "e1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sent_[0].method + " " + sent_[0].path, "GET /v1/environments/e1/profiles");
  EXPECT_EQ(
      r.out,
      "NAME         INSTANCE TYPE   $/H      ALLOCATABLE    REQUESTS       SSD CACHE GIB   NODE GROUP\n"
      "m7gd.large   m7gd.large      0.1068   1930m/6826Mi   1930m/6826Mi   98              byoc-m7gd-large\n"
      "host         host            -        2000m/7900Mi   1800m/7000Mi   0\n");
  answer(200, profiles);
  Result j = run_cli({"profile", "list", "--env", "e1", "-o", "json"});
  EXPECT_EQ(json::parse(j.out), profiles) << "json as the API gives it";
  EXPECT_EQ(run_cli({"profile", "list"}).code, 2);
}

TEST_F(CommandsTest, EnvCreateSendsCapacitySettingsOnlyWhenGiven) {
  answer(202, operation("environment.create", "running"));
  Result r = run_cli({"env", "create", "p1", "--cloud", "aws", "--cidr", "10.0.0.0/16", "--region",
                      "eu-west-1", "--instance-types", "m7gd.large,r7gd.xlarge", "--daemonset-cpu-millis",
                      "250", "--daemonset-memory-mib", "512"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sent_[0].body, (json{{"name", "p1"},
                                 {"cloud", "aws"},
                                 {"cidr", "10.0.0.0/16"},
                                 {"region", "eu-west-1"},
                                 {"instance_types", {"m7gd.large", "r7gd.xlarge"}},
                                 {"daemonsets", {{"cpu_millis", 250}, {"memory_mib", 512}}}}));

  answer(202, operation("environment.create", "running"));
  ASSERT_EQ(run_cli({"env", "create", "p2", "--cloud", "aws", "--cidr", "10.0.0.0/16"}).code, 0);
  EXPECT_EQ(sent_[1].body, (json{{"name", "p2"}, {"cloud", "aws"}, {"cidr", "10.0.0.0/16"}}));

  Result negative = run_cli(
      {"env", "create", "p3", "--cloud", "aws", "--cidr", "10.0.0.0/16", "--daemonset-cpu-millis", "-1"});
  EXPECT_EQ(negative.code, 2);
  EXPECT_EQ(negative.err_lines(), 1) << negative.err;
  EXPECT_EQ(sent_.size(), 2u);
}

TEST_F(CommandsTest, EnvUpdatePatchesAndPrintsTheEnvironment) {
  json env = {{"name", "p1"},
              {"organization", "default"},
              {"cloud", "aws"},
              {"instance_types", {"m7gd.large"}},
              {"daemonsets", {{"cpu_millis", 300}, {"memory_mib", 600}}},
              {"state", "READY"}};
  answer(200, env);
  Result r = run_cli({"env", "update", "p1", "--instance-types", "m7gd.large", "--daemonset-cpu-millis",
                      "300", "--daemonset-memory-mib", "600"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sent_[0].method + " " + sent_[0].path, "PATCH /v1/environments/p1");
  EXPECT_EQ(sent_[0].content_type, "application/json");
  EXPECT_EQ(sent_[0].body, (json{{"instance_types", {"m7gd.large"}},
                                 {"daemonsets", {{"cpu_millis", 300}, {"memory_mib", 600}}}}));
  EXPECT_NE(r.out.find("instance_types: m7gd.large\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("daemonsets:     300m/600Mi\n"), std::string::npos) << r.out;

  answer(200, env);
  ASSERT_EQ(run_cli({"env", "update", "p1", "--all-instance-types", "-o", "json"}).code, 0);
  EXPECT_EQ(sent_[1].body, (json{{"instance_types", json::array()}}));
  answer(200, env);
  ASSERT_EQ(run_cli({"env", "update", "p1", "--instance-types", "c7gd.large"}).code, 0);
  EXPECT_EQ(sent_[2].body, (json{{"instance_types", {"c7gd.large"}}})) << "daemonsets left as they are";
}

TEST_F(CommandsTest, MaintenanceSetStartsFromWhatAppliesAndChangesOnlyWhatIsGiven) {
  json window = {{"time_zone", "America/Los_Angeles"},
                 {"weekly", {{{"days", {"tue", "thu"}}, {"start", "01:00"}, {"duration_minutes", 240}}}},
                 {"blackouts", {{{"from", "2026-12-20"}, {"to", "2027-01-03"}}}}};
  files::write_atomic(home_.path() / "window.json", window.dump(), 0644);
  answer(200, {{"window", nullptr}, {"channel", "regular"}});
  answer(200, {{"window", window}, {"channel", "regular"}});
  Result r = run_cli({"env", "maintenance", "set", "prod", "--window", (home_.path() / "window.json").string()});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[0].method + " " + sent_[0].path, "GET /v1/environments/prod/maintenance");
  EXPECT_EQ(sent_[1].method + " " + sent_[1].path, "PUT /v1/environments/prod/maintenance");
  EXPECT_EQ(sent_[1].content_type, "application/json");
  EXPECT_EQ(sent_[1].body, (json{{"window", window}, {"channel", "regular"}}));
  EXPECT_NE(r.out.find("time zone: America/Los_Angeles\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("weekly:    tue,thu 01:00 for 240 min\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("blackout:  2026-12-20 to 2027-01-03\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nnow:       "), std::string::npos) << r.out;

  // A service inheriting its environment's policy gets its own copy, with the channel given.
  answer(200, {{"window", window}, {"channel", "regular"}, {"source", "environment"}});
  answer(200, {{"window", window}, {"channel", "fast"}, {"source", "service"}});
  r = run_cli({"service", "maintenance", "set", "web", "--env", "prod", "--channel", "fast", "--organization", "acme",
               "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sent_[3].method + " " + sent_[3].path, "PUT /v1/environments/prod/services/web/maintenance?organization=acme");
  EXPECT_EQ(sent_[3].body, (json{{"window", window}, {"channel", "fast"}}));
  EXPECT_EQ(json::parse(r.out)["source"], "service");

  answer(200, {{"window", window}, {"channel", "fast"}, {"source", "service"}});
  answer(200, {{"window", nullptr}, {"channel", "fast"}, {"source", "service"}});
  r = run_cli({"service", "maintenance", "set", "web", "--env", "prod", "--no-window"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sent_[5].body, (json{{"window", nullptr}, {"channel", "fast"}}));
  EXPECT_NE(r.out.find("window:  none"), std::string::npos) << r.out;

  answer(200, {{"window", window}, {"channel", "regular"}, {"source", "environment"}});
  r = run_cli({"service", "maintenance", "clear", "web", "--env", "prod"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sent_[6].method + " " + sent_[6].path, "DELETE /v1/environments/prod/services/web/maintenance");
  EXPECT_NE(r.out.find("source:    environment\n"), std::string::npos) << r.out;
}

TEST_F(CommandsTest, MaintenanceSetRefusesBeforeSendingAnything) {
  Result r = run_cli({"env", "maintenance", "set", "prod"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err_lines(), 1) << r.err;
  r = run_cli({"env", "maintenance", "set", "prod", "--window", "w.json", "--no-window"});
  EXPECT_EQ(r.code, 2);
  r = run_cli({"env", "maintenance", "set", "prod", "--channel", "beta"});
  EXPECT_EQ(r.code, 2);
  r = run_cli({"service", "maintenance", "set", "web", "--channel", "fast"});  // no --env
  EXPECT_EQ(r.code, 2);
  files::write_atomic(home_.path() / "broken.json", "{\"time_zone\":", 0644);
  r = run_cli({"env", "maintenance", "set", "prod", "--window", (home_.path() / "broken.json").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err_lines(), 1) << r.err;
  EXPECT_NE(r.err.find("is not valid JSON"), std::string::npos) << r.err;
  r = run_cli({"env", "maintenance", "set", "prod", "--window", (home_.path() / "missing.json").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("can't read window file"), std::string::npos) << r.err;
  EXPECT_TRUE(sent_.empty());
  // The server's refusal is one line, and nothing more is sent.
  answer(200, {{"window", nullptr}, {"channel", "regular"}});
  answer(422, {{"error", {{"code", "unknown_time_zone"}, {"message", "window: time_zone 'Mars/Base' is not in the IANA time zone database"}, {"field", "window.time_zone"}}}});
  files::write_atomic(home_.path() / "mars.json", R"({"time_zone":"Mars/Base","weekly":[]})", 0644);
  r = run_cli({"env", "maintenance", "set", "prod", "--window", (home_.path() / "mars.json").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err_lines(), 1) << r.err;
  EXPECT_NE(r.err.find("Mars/Base"), std::string::npos) << r.err;
  EXPECT_EQ(sent_.size(), 2u);
}

TEST_F(CommandsTest, UpgradePlanListsTheOpenOnesAndActionsPostToTheUpgrade) {
  json pending = {{"id", "upg-1"}, {"service", "web"}, {"from_version", "18.16.1"}, {"to_version", "18.16.1-r2"},
                  {"state", "pending"}, {"waiting_for", "window"}, {"starts_at", "2026-12-08T09:00:00Z"},
                  {"replicas_done", 0}, {"replicas_total", 0}};
  json failed = {{"id", "upg-0"}, {"service", "api"}, {"from_version", "18.16.0"}, {"to_version", "18.16.1"},
                 {"state", "failed"}, {"waiting_for", ""}, {"starts_at", nullptr}, {"replicas_done", 1},
                 {"replicas_total", 2}, {"failed_step", {{"shard", 1}, {"replica", 2}, {"check", "ping"}}}};
  answer(200, {{"items", {failed, pending}}});
  Result r = run_cli({"upgrade", "plan", "--env", "prod"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sent_[0].method + " " + sent_[0].path, "GET /v1/environments/prod/upgrades");
  EXPECT_NE(r.out.find("upg-1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2026-12-08T09:00:00Z"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("upg-0"), std::string::npos) << "an ended upgrade is no plan: " << r.out;

  answer(200, {{"items", {failed, pending}}});
  r = run_cli({"upgrade", "status", "--env", "prod", "--service", "api"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("failed at shard 1 replica 2: ping"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("upg-1"), std::string::npos) << r.out;

  answer(200, pending);
  r = run_cli({"upgrade", "defer", "upg-1", "--env", "prod", "--days", "7", "--organization", "acme"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sent_[2].method + " " + sent_[2].path, "POST /v1/environments/prod/upgrades/upg-1/defer?organization=acme");
  EXPECT_EQ(sent_[2].body, (json{{"days", 7}}));
  answer(200, pending);
  ASSERT_EQ(run_cli({"upgrade", "pause", "upg-1", "--env", "prod"}).code, 0);
  EXPECT_EQ(sent_[3].method + " " + sent_[3].path, "POST /v1/environments/prod/upgrades/upg-1/pause");
  EXPECT_EQ(sent_[3].body, json::object());
  // Usage errors send nothing.
  EXPECT_EQ(run_cli({"upgrade", "defer", "upg-1", "--env", "prod", "--days", "15"}).code, 2);
  EXPECT_EQ(run_cli({"upgrade", "start", "upg-1"}).code, 2);
  EXPECT_EQ(sent_.size(), 4u);

  // A Kubernetes upgrade is the cluster's, and shows its run.
  json cluster = {{"id", "upg-9"}, {"kind", "eks"}, {"service", ""}, {"from_version", "1.31"},
                  {"to_version", "1.32"}, {"state", "failed"}, {"waiting_for", ""},
                  {"cluster",
                   {{"phase", "node_groups"}, {"events", 41}, {"last_event", "quarantine"},
                    {"last_event_at", "2026-12-09T10:00:00Z"}, {"resume_at", nullptr},
                    {"deadline", "2027-01-05T09:00:00Z"}, {"failed_node_groups", {"system"}},
                    {"quarantined", {{{"node", "system-0"}, {"reason", "eviction_timeout"}}}}}}};
  answer(200, cluster);
  r = run_cli({"upgrade", "resume", "upg-9", "--env", "prod"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("(cluster)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("node_groups"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("system-0: eviction_timeout"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("41, last quarantine at 2026-12-09T10:00:00Z"), std::string::npos) << r.out;
  sent_.pop_back();

  answer(201, {{"kind", "clickhouse"}, {"name", "18.16.1-r2"}, {"published_at", "2026-12-01T00:00:00Z"},
               {"published_by", "admin@vendor.example"}});
  r = run_cli({"version", "publish", "18.16.1-r2", "--published-at", "2026-12-01T00:00:00Z"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sent_[4].method + " " + sent_[4].path, "POST /v1/versions");
  EXPECT_EQ(sent_[4].body, (json{{"kind", "clickhouse"}, {"name", "18.16.1-r2"}, {"published_at", "2026-12-01T00:00:00Z"}}));
  EXPECT_NE(r.out.find("published by: admin@vendor.example"), std::string::npos) << r.out;
}

TEST_F(CommandsTest, AnAwsEnvironmentsAccountIsSentAndShownAndVerifyExitsOneUntilGranted) {
  answer(202, operation("environment.create", "running"));
  ASSERT_EQ(run_cli({"env", "create", "p1", "--cloud", "aws", "--cidr", "10.0.0.0/16", "--region", "eu-west-1",
                     "--account-id", "123456789012"})
                .code,
            0);
  EXPECT_EQ(sent_[0].body["account"], (json{{"account_id", "123456789012"}}));
  json env = {{"name", "p1"}, {"cloud", "aws"}, {"state", "AWAITING_CUSTOMER_ROLE"},
              {"account", {{"account_id", "210987654321"}, {"role_name", "R"}, {"external_id", "byoc-e1"},
                           {"role_arn", "arn:aws:iam::210987654321:role/R"}}}};
  answer(200, env);
  Result updated = run_cli({"env", "update", "p1", "--account-id", "210987654321", "--role-name", "R"});
  ASSERT_EQ(updated.code, 0) << updated.err;
  EXPECT_EQ(sent_[1].body, (json{{"account", {{"account_id", "210987654321"}, {"role_name", "R"}}}}));
  EXPECT_NE(updated.out.find("external_id:"), std::string::npos) << updated.out;
  EXPECT_NE(updated.out.find("arn:aws:iam::210987654321:role/R"), std::string::npos) << updated.out;

  json missing = {{"environment", "p1"}, {"granted", false}, {"state", "AWAITING_CUSTOMER_ROLE"},
                  {"reason", "permissions_missing"}, {"message", "the role lacks 1 permission: ec2:CreateVpc"},
                  {"account", env["account"]},
                  {"details", {{"findings", {{{"code", "permission_missing"}, {"subject", "ec2:CreateVpc"},
                                              {"message", "update the onboarding stack"}}}}}}};
  answer(200, missing);
  Result lacking = run_cli({"env", "verify", "p1"});
  EXPECT_EQ(lacking.code, 1);
  EXPECT_EQ(sent_[2].method + " " + sent_[2].path, "POST /v1/environments/p1/verify");
  EXPECT_NE(lacking.out.find("permissions_missing"), std::string::npos) << lacking.out;
  EXPECT_NE(lacking.out.find("ec2:CreateVpc"), std::string::npos) << lacking.out;
  json granted = missing;
  granted["granted"] = true;
  granted["reason"] = "";
  granted["details"] = json::object();
  answer(200, granted);
  Result ok = run_cli({"env", "verify", "p1", "-o", "json"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(json::parse(ok.out), granted);
}

TEST_F(CommandsTest, EnvUpdateUsageErrors) {
  const std::vector<std::vector<std::string>> cases = {
      {"env", "update", "p1"},
      {"env", "update", "p1", "--daemonset-cpu-millis", "300"},  // would zero the memory reservation
      {"env", "update", "p1", "--daemonset-memory-mib", "300"},
      {"env", "update", "p1", "--instance-types", "m7gd.large", "--all-instance-types"},
      {"env", "update", "p1", "--instance-types", ""},
  };
  for (const auto& args : cases) {
    Result r = run_cli(args);
    EXPECT_EQ(r.code, 2) << args.back();
    EXPECT_EQ(r.err_lines(), 1) << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  }
  EXPECT_TRUE(sent_.empty());
}

TEST_F(CommandsTest, EnvGetShowsWhyItFailedAndRetryWaitsForReady) {
  json failed = {{"name", "prod"}, {"cloud", "aws"}, {"state", "FAILED"}, {"reason", "rolled_back"},
                 {"message", "The following resource(s) failed to create: [NatGateway1]."}};
  answer(200, failed);
  Result got = run_cli({"env", "get", "prod"});
  ASSERT_EQ(got.code, 0) << got.err;
  EXPECT_NE(got.out.find("reason:"), std::string::npos) << got.out;
  EXPECT_NE(got.out.find("rolled_back"), std::string::npos) << got.out;
  EXPECT_NE(got.out.find("[NatGateway1]"), std::string::npos) << got.out;

  json ready = failed;
  ready["state"] = "READY";
  ready["reason"] = ready["message"] = "";
  answer(202, operation("environment.retry", "running"));
  answer(200, operation("environment.retry", "succeeded", ready));
  Result retried = run_cli({"env", "retry", "prod", "--wait"});
  ASSERT_EQ(retried.code, 0) << retried.err;
  ASSERT_EQ(sent_.size(), 3u) << "the ended operation carries the environment: no GET after it";
  EXPECT_EQ(sent_[1].method + " " + sent_[1].path, "POST /v1/environments/prod/retry");
  EXPECT_NE(retried.out.find("READY"), std::string::npos) << retried.out;
  EXPECT_EQ(retried.out.find("reason:"), std::string::npos) << retried.out;

  answer(409, {{"error", {{"code", "not_failed"}, {"message", "environment 'prod' is READY, not FAILED"},
                          {"field", "environment"}}}});
  Result refused = run_cli({"env", "retry", "prod"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(refused.err, "error: environment 'prod' is READY, not FAILED (field: environment)\n");
}

TEST_F(CommandsTest, CloudListShowsWhatTheServerDrivesAndAnUnknownCloudIsItsAnswer) {
  answer(200, {{"items",
                {{{"name", "aws"},
                  {"summary", "EKS in your account"},
                  {"regions", {{{"name", "us-east-1"}, {"zones", {"a", "b"}}}, {{"name", "eu-west-1"}, {"zones", {"a"}}}}},
                  {"default_region", ""},
                  {"capacity", "catalogue"}},
                 {{"name", "local"},
                  {"summary", "this machine"},
                  {"regions", {{{"name", "local"}, {"zones", {"a"}}}}},
                  {"default_region", "local"},
                  {"capacity", "host"}}}}});
  Result r = run_cli({"cloud", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sent_[0].method + " " + sent_[0].path, "GET /v1/clouds");
  EXPECT_NE(r.out.find("us-east-1,eu-west-1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("catalogue"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("this machine"), std::string::npos) << r.out;

  answer(422, {{"error", {{"code", "unknown_cloud"}, {"message", "must be one of: aws, external, local"},
                          {"field", "cloud"}}}});
  Result gcp = run_cli({"env", "create", "e1", "--cloud", "gcp", "--cidr", "10.0.0.0/16"});
  EXPECT_EQ(gcp.code, 1);
  EXPECT_EQ(gcp.err, "error: must be one of: aws, external, local (field: cloud)\n");
}

TEST_F(CommandsTest, ServiceGetShowsTheNativeEndpoint) {
  json svc = service({});
  answer(200, svc);
  Result r = run_cli({"service", "get", "s1", "--env", "e1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("native_endpoint: 127.0.0.1:9440\n"), std::string::npos) << r.out;
  answer(200, svc);
  Result j = run_cli({"service", "get", "s1", "--env", "e1", "-o", "json"});
  EXPECT_EQ(json::parse(j.out).value("native_endpoint", ""), "127.0.0.1:9440");
}

TEST_F(CommandsTest, HelpForTheNewCommands) {
  for (std::vector<std::string> args : {std::vector<std::string>{"token", "--help"},
                                        {"token", "create", "--help"},
                                        {"token", "list", "--help"},
                                        {"token", "delete", "--help"},
                                        {"org", "create", "--help"},
                                        {"org", "list", "--help"},
                                        {"plane", "list", "--help"},
                                        {"profile", "list", "--help"},
                                        {"env", "update", "--help"},
                                        {"service", "update", "--help"}}) {
    Result r = run_cli(args);
    EXPECT_EQ(r.code, 0) << args[0] << " " << args[1];
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
    EXPECT_EQ(r.err, "");
  }
  EXPECT_NE(run_cli({"service", "update", "--help"}).out.find("--allowed-ips-loopback-only"),
            std::string::npos);
  EXPECT_NE(run_cli({"env", "list", "--help"}).out.find("--organization"), std::string::npos);
  EXPECT_TRUE(sent_.empty());
}

}  // namespace
}  // namespace byoc::cli
