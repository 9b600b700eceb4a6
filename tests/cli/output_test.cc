#include "cli/output.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace byoc::cli {
namespace {
using nlohmann::json;

TEST(RenderTable, AlignsColumnsWithoutTrailingBlanks) {
  std::string table = render_table({"NAME", "STATE"}, {{"demo", "READY"}, {"a-much-longer-name", "PENDING"}});
  EXPECT_EQ(table,
            "NAME                 STATE\n"
            "demo                 READY\n"
            "a-much-longer-name   PENDING\n");
}

TEST(RenderTable, EmptyLastCellLeavesNoTrailingSpace) {
  std::string table = render_table({"A", "B"}, {{"x", ""}});
  EXPECT_EQ(table, "A   B\nx\n");
}

TEST(RenderTable, HeaderOnlyWhenNoRows) { EXPECT_EQ(render_table({"NAME", "CLOUD"}, {}), "NAME   CLOUD\n"); }

TEST(Cell, RendersEachJsonType) {
  json object = {{"s", "text"}, {"n", 3}, {"b", true}, {"a", {"a", "b"}}, {"z", nullptr}, {"o", {{"k", 1}}}};
  EXPECT_EQ(cell(object, "s"), "text");
  EXPECT_EQ(cell(object, "n"), "3");
  EXPECT_EQ(cell(object, "b"), "true");
  EXPECT_EQ(cell(object, "a"), "a,b");
  EXPECT_EQ(cell(object, "z"), "");
  EXPECT_EQ(cell(object, "missing"), "");
  EXPECT_EQ(cell(object, "o"), "{\"k\":1}");
  EXPECT_EQ(cell(json::array(), "s"), "");
}

TEST(RenderEnvironmentList, OneRowPerItem) {
  json list = {{"items",
                {{{"name", "demo"},
                  {"cloud", "local"},
                  {"region", "local"},
                  {"cidr", "10.0.0.0/16"},
                  {"zones", {"a", "b"}},
                  {"state", "READY"},
                  {"created_at", "2026-11-24T07:00:00Z"}}}}};
  std::string out = render_environment_list(list);
  EXPECT_EQ(out,
            "NAME   CLOUD   REGION   CIDR          ZONES   STATE   CREATED\n"
            "demo   local   local    10.0.0.0/16   a,b     READY   2026-11-24T07:00:00Z\n");
}

TEST(RenderEnvironment, ShowsConditions) {
  json env = {{"name", "x1"},
              {"state", "READY"},
              {"conditions",
               {{{"type", "agent_connected"},
                 {"status", true},
                 {"reason", ""},
                 {"last_transition_time", "2026-11-24T07:00:00Z"}}}}};
  std::string out = render_environment(env);
  EXPECT_NE(out.find("name:         x1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("state:        READY\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("instance_types"), std::string::npos) << "capacity settings are aws's" << out;
  EXPECT_EQ(out.find("daemonsets"), std::string::npos) << out;
  EXPECT_NE(out.find("conditions:\n  TYPE              STATUS   REASON   SINCE\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  agent_connected   true              2026-11-24T07:00:00Z\n"), std::string::npos)
      << out;
}

TEST(RenderEnvironment, AwsCapacitySettings) {
  json env = {{"name", "p1"},
              {"organization", "acme"},
              {"cloud", "aws"},
              {"profiles_from", "catalogue"},
              {"instance_types", json::array()},
              {"daemonsets", {{"cpu_millis", 0}, {"memory_mib", 0}}}};
  std::string all = render_environment(env);
  EXPECT_NE(all.find("organization:   acme\n"), std::string::npos) << all;
  EXPECT_NE(all.find("instance_types: (all in the catalogue)\n"), std::string::npos) << all;
  EXPECT_NE(all.find("daemonsets:     0m/0Mi\n"), std::string::npos) << all;
  env["instance_types"] = {"m7gd.large", "r7gd.large"};
  env["daemonsets"] = {{"cpu_millis", 250}, {"memory_mib", 512}};
  std::string some = render_environment(env);
  EXPECT_NE(some.find("instance_types: m7gd.large,r7gd.large\n"), std::string::npos) << some;
  EXPECT_NE(some.find("daemonsets:     250m/512Mi\n"), std::string::npos) << some;
}

TEST(RenderService, NativeEndpointAndProfileOnlyWhenPresent) {
  json svc = {{"name", "s1"}, {"endpoint", "https://127.0.0.1:4000"}, {"profile", nullptr}};
  std::string without = render_service(svc);
  EXPECT_EQ(without.find("native_endpoint"), std::string::npos) << without;
  EXPECT_EQ(without.find("profile"), std::string::npos) << without;
  EXPECT_EQ(without.find("support_gateway"), std::string::npos) << without;
  svc["native_endpoint"] = "127.0.0.1:4001";
  svc["support_gateway"] = "https://127.0.0.1:4002";
  svc["profile"] = "host";
  std::string with = render_service(svc);
  EXPECT_NE(with.find("endpoint:        https://127.0.0.1:4000\nnative_endpoint: 127.0.0.1:4001\n"),
            std::string::npos)
      << with;
  EXPECT_NE(with.find("profile:         host\n"), std::string::npos) << with;
  EXPECT_NE(with.find("support_gateway: https://127.0.0.1:4002\n"), std::string::npos) << with;
}

TEST(RenderToken, SecretOnlyWhenGiven) {
  json token = {{"id", "t1"},
                {"role", "operator"},
                {"organization", "default"},
                {"created_at", "2026-11-24T07:00:00Z"}};
  EXPECT_EQ(render_token(token),
            "id:           t1\n"
            "role:         operator\n"
            "organization: default\n"
            "created:      2026-11-24T07:00:00Z\n");
  token["subject"] = "bob@vendor.example";
  EXPECT_NE(render_token(token).find("organization: default\nsubject:      bob@vendor.example\n"), std::string::npos)
      << render_token(token);
  token["token"] = "byoc_t1.xyz";
  EXPECT_NE(render_token(token).find("token:        byoc_t1.xyz   (shown only once: save it now)\n"),
            std::string::npos);
  // A list never renders a secret, even if a server put one in.
  EXPECT_EQ(render_token_list(json{{"items", {token}}}).find("xyz"), std::string::npos);
}

TEST(RenderProfileList, HeaderOnlyWhenEmpty) {
  EXPECT_EQ(render_profile_list(json{{"items", json::array()}}),
            "NAME   INSTANCE TYPE   $/H   ALLOCATABLE   REQUESTS   SSD CACHE GIB   NODE GROUP\n");
}

TEST(RenderService, PasswordOnlyWhenGiven) {
  json svc = {
      {"name", "s1"}, {"environment", "e1"}, {"endpoint", "https://127.0.0.1:4000"}, {"state", "READY"}};
  std::string without = render_service(svc);
  EXPECT_EQ(without.find("password"), std::string::npos);
  EXPECT_NE(without.find("endpoint:    https://127.0.0.1:4000\n"), std::string::npos) << without;
  svc["password"] = "s3cret";
  std::string with = render_service(svc);
  EXPECT_NE(with.find("user:        default\n"), std::string::npos) << with;
  EXPECT_NE(with.find("password:    s3cret"), std::string::npos) << with;
}

TEST(RenderServiceList, Columns) {
  json list = {{"items",
                {{{"environment", "e1"},
                  {"name", "s1"},
                  {"clickhouse_version", "18.16.1"},
                  {"shards", 1},
                  {"replicas", 2},
                  {"state", "READY"},
                  {"endpoint", "https://127.0.0.1:1"}}}}};
  EXPECT_EQ(render_service_list(list),
            "ENVIRONMENT   NAME   VERSION   SHARDS   REPLICAS   STATE   ENDPOINT\n"
            "e1            s1     18.16.1   1        2          READY   https://127.0.0.1:1\n");
}

TEST(RenderOperation, StepsErrorAndPassword) {
  json op = {
      {"id", "op-1"},
      {"kind", "service.create"},
      {"environment", "e1"},
      {"service", "s1"},
      {"status", "failed"},
      {"progress", 0.5},
      {"steps", {{{"name", "store"}, {"state", "done"}}, {{"name", "agent_apply"}, {"state", "failed"}}}},
      {"error", {{"code", "unsupported_topology"}, {"message", "too many replicas"}}},
      {"password", "pw"}};
  std::string out = render_operation(op);
  EXPECT_NE(out.find("target:   e1/s1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("progress: 50%\n"), std::string::npos) << out;
  EXPECT_NE(out.find("error:    unsupported_topology: too many replicas\n"), std::string::npos) << out;
  EXPECT_NE(out.find("password: pw"), std::string::npos) << out;
  EXPECT_NE(out.find("steps:\n  STEP          STATE\n  store         done\n  agent_apply   failed\n"),
            std::string::npos)
      << out;
}

TEST(RenderJson, PrettyWithNewline) { EXPECT_EQ(render_json(json{{"a", 1}}), "{\n  \"a\": 1\n}\n"); }

TEST(ParseOutputFormat, AcceptsTableAndJsonOnly) {
  EXPECT_EQ(parse_output_format("table"), OutputFormat::kTable);
  EXPECT_EQ(parse_output_format("json"), OutputFormat::kJson);
  EXPECT_THROW(parse_output_format("yaml"), Error);
}

TEST(ErrorLine, MessageAndField) {
  EXPECT_EQ(error_line("cidr must be RFC 1918", "cidr"), "error: cidr must be RFC 1918 (field: cidr)");
  EXPECT_EQ(error_line("no such environment"), "error: no such environment");
}

TEST(ErrorLine, FoldsNewlinesIntoOneLine) {
  std::string line = error_line("first\nsecond\r\n", "zones[1]");
  EXPECT_EQ(line, "error: first second (field: zones[1])");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(ErrorLine, FromExceptions) {
  EXPECT_EQ(error_line(Error::Invalid("bad_zone", "unknown zone", "zones[0]")),
            "error: unknown zone (field: zones[0])");
  EXPECT_EQ(error_line(std::runtime_error("boom")), "error: boom");
}

}  // namespace
}  // namespace byoc::cli
