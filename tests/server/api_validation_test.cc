// Bad input, case by case: each request must get the documented status,
// error code and field — and leave the store exactly as it was.
#include <gtest/gtest.h>

#include "api_harness.h"
#include "base/crypto.h"

namespace byoc::server::test {
namespace {
using nlohmann::json;

struct BadCase {
  std::string name;
  std::string method;
  std::string target;
  std::string body;
  int status;
  std::string code;
  std::string field;
  std::string content_type = "application/json";
  std::string token = "<admin>";
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

const json kEnv = {{"name", "demo"}, {"cloud", "local"}, {"cidr", "10.0.0.0/16"}, {"zones", {"a"}}};

std::string env_with(const std::string& key, const json& value) {
  json body = kEnv;
  if (value.is_discarded()) body.erase(key);
  else body[key] = value;
  return body.dump();
}

std::string svc_with(const std::string& key, const json& value) {
  json body = {{"name", "svc"}};
  if (value.is_discarded()) body.erase(key);
  else body[key] = value;
  return body.dump();
}

const json kMissing = json(json::value_t::discarded);
const std::string kEnvs = "/v1/environments";
const std::string kSvcs = "/v1/environments/existing/services";

std::vector<BadCase> cases() {
  std::vector<BadCase> c = {
      // Environment names.
      {"env_name_missing", "POST", kEnvs, env_with("name", kMissing), 422, "required", "name"},
      {"env_name_empty", "POST", kEnvs, env_with("name", ""), 422, "invalid_name", "name"},
      {"env_name_uppercase", "POST", kEnvs, env_with("name", "Demo"), 422, "invalid_name", "name"},
      {"env_name_underscore", "POST", kEnvs, env_with("name", "my_env"), 422, "invalid_name", "name"},
      {"env_name_leading_dash", "POST", kEnvs, env_with("name", "-demo"), 422, "invalid_name", "name"},
      {"env_name_trailing_dash", "POST", kEnvs, env_with("name", "demo-"), 422, "invalid_name", "name"},
      {"env_name_64_chars", "POST", kEnvs, env_with("name", std::string(64, 'a')), 422, "invalid_name", "name"},
      {"env_name_number", "POST", kEnvs, env_with("name", 42), 400, "invalid_type", "name"},
      {"env_name_dot", "POST", kEnvs, env_with("name", "a.b"), 422, "invalid_name", "name"},
      // Cloud and region.
      {"env_cloud_missing", "POST", kEnvs, env_with("cloud", kMissing), 422, "required", "cloud"},
      {"env_cloud_unknown", "POST", kEnvs, env_with("cloud", "gcp"), 422, "unknown_cloud", "cloud"},
      {"env_region_unknown_local", "POST", kEnvs, env_with("region", "us-east-1"), 422, "unknown_region", "region"},
      {"env_region_not_string", "POST", kEnvs, env_with("region", json::array()), 400, "invalid_type", "region"},
      // CIDR.
      {"env_cidr_missing", "POST", kEnvs, env_with("cidr", kMissing), 422, "required", "cidr"},
      {"env_cidr_public", "POST", kEnvs, env_with("cidr", "8.8.0.0/16"), 422, "cidr_not_private", "cidr"},
      {"env_cidr_host_bits", "POST", kEnvs, env_with("cidr", "10.0.0.1/16"), 422, "invalid_cidr", "cidr"},
      {"env_cidr_leading_zero", "POST", kEnvs, env_with("cidr", "10.0.01.0/24"), 422, "invalid_cidr", "cidr"},
      {"env_cidr_prefix_leading_zero", "POST", kEnvs, env_with("cidr", "10.0.0.0/016"), 422, "invalid_cidr", "cidr"},
      {"env_cidr_space", "POST", kEnvs, env_with("cidr", "10.0.0.0 /16"), 422, "invalid_cidr", "cidr"},
      {"env_cidr_too_wide", "POST", kEnvs, env_with("cidr", "10.0.0.0/8"), 422, "cidr_prefix_out_of_range", "cidr"},
      {"env_cidr_too_narrow", "POST", kEnvs, env_with("cidr", "10.0.0.0/25"), 422, "cidr_prefix_out_of_range",
       "cidr"},
      {"env_cidr_no_prefix", "POST", kEnvs, env_with("cidr", "10.0.0.0"), 422, "invalid_cidr", "cidr"},
      {"env_cidr_ipv6", "POST", kEnvs, env_with("cidr", "fd00::/48"), 422, "invalid_cidr", "cidr"},
      {"env_cidr_172_outside", "POST", kEnvs, env_with("cidr", "172.32.0.0/16"), 422, "cidr_not_private", "cidr"},
      {"env_cidr_number", "POST", kEnvs, env_with("cidr", 10), 400, "invalid_type", "cidr"},
      // Zones.
      {"env_zones_empty", "POST", kEnvs, env_with("zones", json::array()), 422, "invalid_zones", "zones"},
      {"env_zones_seven", "POST", kEnvs, env_with("zones", {"a", "b", "c", "d", "e", "f", "a"}), 422,
       "invalid_zones", "zones"},
      {"env_zones_duplicate", "POST", kEnvs, env_with("zones", {"a", "a"}), 422, "duplicate_zone", "zones[1]"},
      {"env_zones_unknown", "POST", kEnvs, env_with("zones", {"a", "g"}), 422, "unknown_zone", "zones[1]"},
      {"env_zones_not_array", "POST", kEnvs, env_with("zones", "a"), 400, "invalid_type", "zones"},
      {"env_zones_item_number", "POST", kEnvs, env_with("zones", {1}), 400, "invalid_type", "zones[0]"},
      // Body shape.
      {"env_unknown_field", "POST", kEnvs, env_with("colour", "blue"), 422, "unknown_field", "colour"},
      {"env_read_only_state", "POST", kEnvs, env_with("state", "READY"), 422, "read_only_field", "state"},
      {"env_read_only_revision", "POST", kEnvs, env_with("revision", 3), 422, "read_only_field", "revision"},
      {"env_read_only_id", "POST", kEnvs, env_with("id", "env-1"), 422, "read_only_field", "id"},
      {"env_body_array", "POST", kEnvs, "[]", 400, "invalid_body", ""},
      {"env_body_not_json", "POST", kEnvs, "{name: demo}", 400, "invalid_json", ""},
      {"env_body_truncated", "POST", kEnvs, R"({"name": "demo")", 400, "invalid_json", ""},
      {"env_text_plain", "POST", kEnvs, kEnv.dump(), 415, "unsupported_media_type", "", "text/plain"},
      {"env_no_content_type", "POST", kEnvs, kEnv.dump(), 415, "unsupported_media_type", "", ""},
      {"env_duplicate", "POST", kEnvs, env_with("name", "existing"), 409, "already_exists", "name"},
      // Authentication.
      {"no_token", "POST", kEnvs, kEnv.dump(), 401, "unauthenticated", "", "application/json", ""},
      {"bad_token", "POST", kEnvs, kEnv.dump(), 401, "unauthenticated", "", "application/json",
       "byoc_0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
      {"garbage_token", "GET", kEnvs, "", 401, "unauthenticated", "", "", "hunter2"},
      // Services.
      {"svc_env_missing", "POST", "/v1/environments/nope/services", svc_with("name", "svc"), 404, "not_found",
       "environment"},
      {"svc_name_invalid", "POST", kSvcs, svc_with("name", "Svc!"), 422, "invalid_name", "name"},
      {"svc_replicas_zero", "POST", kSvcs, svc_with("replicas", 0), 422, "out_of_range", "replicas"},
      {"svc_replicas_17", "POST", kSvcs, svc_with("replicas", 17), 422, "out_of_range", "replicas"},
      {"svc_shards_65", "POST", kSvcs, svc_with("shards", 65), 422, "out_of_range", "shards"},
      {"svc_shards_negative", "POST", kSvcs, svc_with("shards", -1), 422, "out_of_range", "shards"},
      {"svc_shards_float", "POST", kSvcs, svc_with("shards", 1.5), 400, "invalid_type", "shards"},
      {"svc_shards_string", "POST", kSvcs, svc_with("shards", "2"), 400, "invalid_type", "shards"},
      {"svc_shards_huge", "POST", kSvcs, svc_with("shards", 18446744073709551615ull), 422, "out_of_range",
       "shards"},
      {"svc_cpu_too_small", "POST", kSvcs, svc_with("cpu_millis", 100), 422, "out_of_range", "cpu_millis"},
      {"svc_memory_too_small", "POST", kSvcs, svc_with("memory_mib", 256), 422, "out_of_range", "memory_mib"},
      {"svc_version_unknown", "POST", kSvcs, svc_with("clickhouse_version", "24.3"), 422, "unknown_version",
       "clickhouse_version"},
      {"svc_allowed_ips_not_cidr", "POST", kSvcs, svc_with("allowed_ips", {"10.0.0.1"}), 422, "invalid_cidr",
       "allowed_ips[0]"},
      {"svc_allowed_ips_host_bits", "POST", kSvcs, svc_with("allowed_ips", {"127.0.0.0/32", "10.0.0.1/8"}), 422,
       "invalid_cidr", "allowed_ips[1]"},
      {"svc_allowed_ips_ipv6_uncanonical", "POST", kSvcs, svc_with("allowed_ips", {"2001:DB8::/32"}), 422,
       "invalid_cidr", "allowed_ips[0]"},
      {"svc_allowed_ips_duplicate", "POST", kSvcs, svc_with("allowed_ips", {"10.0.0.0/8", "10.0.0.0/8"}), 422,
       "duplicate_cidr", "allowed_ips[1]"},
      {"svc_read_only_password", "POST", kSvcs, svc_with("password", "x"), 422, "read_only_field", "password"},
      {"svc_read_only_endpoint", "POST", kSvcs, svc_with("endpoint", "https://x:1"), 422, "read_only_field",
       "endpoint"},
      {"svc_unknown_field", "POST", kSvcs, svc_with("disk_gib", 10), 422, "unknown_field", "disk_gib"},
      {"svc_duplicate", "POST", kSvcs, svc_with("name", "taken"), 409, "already_exists", "name"},
      // Capacity settings and profiles.
      {"env_instance_types_local", "POST", kEnvs, env_with("instance_types", {"m7gd.large"}), 422,
       "unsupported_for_cloud", "instance_types"},
      {"env_daemonsets_negative", "POST", kEnvs, env_with("daemonsets", {{"cpu_millis", -1}}), 422, "out_of_range",
       "daemonsets.cpu_millis"},
      {"env_daemonsets_unknown", "POST", kEnvs, env_with("daemonsets", {{"gpus", 1}}), 422, "unknown_field",
       "daemonsets.gpus"},
      {"env_daemonsets_not_object", "POST", kEnvs, env_with("daemonsets", 5), 400, "invalid_type", "daemonsets"},
      {"aws_unknown_type", "POST", kEnvs,
       R"({"name":"a","cloud":"aws","region":"us-east-1","cidr":"10.2.0.0/16","instance_types":["m7gd.large","t2.micro"]})",
       422, "unknown_instance_type", "instance_types[1]"},
      {"aws_daemonsets_too_large", "POST", kEnvs,
       R"({"name":"a","cloud":"aws","region":"us-east-1","cidr":"10.2.0.0/16","instance_types":["c7gd.medium"],"daemonsets":{"cpu_millis":4000}})",
       422, "daemonsets_too_large", "daemonsets"},
      {"patch_env_not_aws", "PATCH", "/v1/environments/existing", R"({"daemonsets":{"cpu_millis":10}})", 422,
       "unsupported_for_cloud", "cloud"},
      {"patch_env_read_only", "PATCH", "/v1/environments/existing", R"({"cidr":"10.1.0.0/16"})", 422,
       "read_only_field", "cidr"},
      {"svc_profile_and_size", "POST", kSvcs, R"({"name":"p","profile":"host","cpu_millis":1000})", 422,
       "profile_conflict", "profile"},
      {"svc_profile_unknown", "POST", kSvcs, R"({"name":"p","profile":"m7gd.large"})", 422, "unknown_profile",
       "profile"},
      // Service updates.
      {"patch_name", "PATCH", kSvcs + "/taken", R"({"name":"x"})", 422, "read_only_field", "name"},
      {"patch_shards", "PATCH", kSvcs + "/taken", R"({"shards":2})", 422, "read_only_field", "shards"},
      // "taken" is 1x1: it runs without ZooKeeper, so it has no replication to grow.
      {"patch_replicas_single", "PATCH", kSvcs + "/taken", R"({"replicas":2})", 422, "replication_change",
       "replicas"},
      {"patch_replicas_17", "PATCH", kSvcs + "/taken", R"({"replicas":17})", 422, "out_of_range", "replicas"},
      {"patch_replicas_string", "PATCH", kSvcs + "/taken", R"({"replicas":"2"})", 400, "invalid_type", "replicas"},
      {"patch_cpu_small", "PATCH", kSvcs + "/taken", R"({"cpu_millis":100})", 422, "out_of_range", "cpu_millis"},
      {"patch_memory_huge", "PATCH", kSvcs + "/taken", R"({"memory_mib":1048576})", 422, "out_of_range",
       "memory_mib"},
      {"patch_profile_and_size", "PATCH", kSvcs + "/taken", R"({"profile":"host","memory_mib":4096})", 422,
       "profile_conflict", "profile"},
      {"patch_profile_unknown", "PATCH", kSvcs + "/taken", R"({"profile":"m7gd.large"})", 422, "unknown_profile",
       "profile"},
      {"patch_profile_empty", "PATCH", kSvcs + "/taken", R"({"profile":""})", 422, "invalid_profile", "profile"},
      {"patch_profile_null", "PATCH", kSvcs + "/taken", R"({"profile":null})", 400, "invalid_type", "profile"},
      {"patch_when_unknown", "PATCH", kSvcs + "/taken", R"({"cpu_millis":2000,"when":"later"})", 422,
       "invalid_when", "when"},
      {"patch_when_alone", "PATCH", kSvcs + "/taken", R"({"allowed_ips":[],"when":"window"})", 422, "invalid_when",
       "when"},
      {"patch_window_without_one", "PATCH", kSvcs + "/taken", R"({"cpu_millis":2000,"when":"window"})", 409,
       "no_window", "when"},
      {"patch_read_only_node_type", "PATCH", kSvcs + "/taken", R"({"node_type":"m7gd.large"})", 422,
       "read_only_field", "node_type"},
      {"patch_unknown", "PATCH", kSvcs + "/taken", R"({"colour":"red"})", 422, "unknown_field", "colour"},
      {"patch_bad_cidr", "PATCH", kSvcs + "/taken", R"({"allowed_ips":["0.0.0.0/0", "1.2.3.4/8"]})", 422,
       "invalid_cidr", "allowed_ips[1]"},
      {"patch_null", "PATCH", kSvcs + "/taken", R"({"allowed_ips":null})", 400, "invalid_type", "allowed_ips"},
      // A null is a value of the wrong type, not an absent field (no schema field is nullable).
      {"env_region_null", "POST", kEnvs, env_with("region", nullptr), 400, "invalid_type", "region"},
      {"env_zones_null", "POST", kEnvs, env_with("zones", nullptr), 400, "invalid_type", "zones"},
      {"env_name_null", "POST", kEnvs, env_with("name", nullptr), 400, "invalid_type", "name"},
      {"svc_replicas_null", "POST", kSvcs, svc_with("replicas", nullptr), 400, "invalid_type", "replicas"},
      {"svc_version_null", "POST", kSvcs, svc_with("clickhouse_version", nullptr), 400, "invalid_type",
       "clickhouse_version"},
      {"svc_profile_null", "POST", kSvcs, svc_with("profile", nullptr), 400, "invalid_type", "profile"},
      {"svc_allowed_ips_null", "POST", kSvcs, svc_with("allowed_ips", nullptr), 400, "invalid_type", "allowed_ips"},
      {"patch_unknown_service", "PATCH", kSvcs + "/nope", R"({"allowed_ips":[]})", 404, "not_found", "service"},
      // Other routes.
      {"get_unknown_env", "GET", "/v1/environments/nope", "", 404, "not_found", "environment"},
      {"delete_unknown_service", "DELETE", kSvcs + "/nope", "", 404, "not_found", "service"},
      {"delete_env_with_services", "DELETE", "/v1/environments/existing", "", 409, "environment_not_empty",
       "environment"},
      {"unknown_operation", "GET", "/v1/operations/op-nope", "", 404, "not_found", "id"},
      {"services_filter_unknown_env", "GET", "/v1/services?environment=nope", "", 404, "not_found", "environment"},
      {"unknown_route", "GET", "/v1/nothing", "", 404, "not_found", ""},
      {"wrong_method", "PUT", kEnvs, "", 405, "method_not_allowed", ""},
      {"join_token_body_field", "POST", "/v1/environments/existing/join-tokens", R"({"ttl": 5})", 422,
       "unknown_field", "ttl"},
      {"agent_join_bad_token", "POST", "/v1/agent/join", R"({"token": "nope", "csr": "x"})", 401, "unauthenticated",
       "", "application/json", ""},
      {"agent_join_bad_body", "POST", "/v1/agent/join", R"({"token": 5})", 400, "invalid_body", "",
       "application/json", ""},
      {"agent_sync_without_certificate", "POST", "/v1/agent/sync", "{}", 401, "unauthenticated", "",
       "application/json", ""},
  };
  return c;
}

class BadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadInput, AnswersDocumentedErrorAndWritesNothing) {
  const BadCase& c = GetParam();
  ApiHarness api;
  ASSERT_EQ(api.call_json("POST", kEnvs, json::parse(env_with("name", "existing"))).status, 202);
  ASSERT_EQ(api.call_json("POST", kSvcs, {{"name", "taken"}}).status, 202);
  size_t before = api.rows();
  api.enqueued.clear();

  Answer a = api.call(c.method, c.target, c.body, c.content_type, c.token);
  EXPECT_EQ(a.status, c.status) << a.body.dump();
  ASSERT_TRUE(a.body.contains("error")) << a.body.dump();
  EXPECT_EQ(a.body["error"]["code"], c.code) << a.body.dump();
  EXPECT_EQ(a.body["error"]["field"], c.field) << a.body.dump();
  EXPECT_FALSE(a.body["error"]["message"].get<std::string>().empty());
  EXPECT_EQ(api.rows(), before);
  EXPECT_TRUE(api.enqueued.empty());
}

INSTANTIATE_TEST_SUITE_P(Api, BadInput, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(Api, CreateEnvironmentAnswers202WithOperationAndDefaults) {
  ApiHarness api;
  Answer a = api.call_json("POST", kEnvs, {{"name", "demo"}, {"cloud", "external"}, {"cidr", "192.168.0.0/24"}});
  ASSERT_EQ(a.status, 202) << a.body.dump();
  EXPECT_EQ(a.body["kind"], "environment.create");
  EXPECT_EQ(a.body["status"], "running");
  Answer env = api.call("GET", kEnvs + "/demo");
  ASSERT_EQ(env.status, 200);
  EXPECT_EQ(env.body["region"], "local");
  EXPECT_EQ(env.body["zones"], json({"a"}));
  EXPECT_EQ(env.body["state"], "PENDING");
  EXPECT_EQ(api.enqueued, std::vector<std::string>{"environment/" + env.body["id"].get<std::string>()});
  Answer list = api.call("GET", kEnvs);
  ASSERT_EQ(list.body["items"].size(), 1u);
}

TEST(Api, AwsEnvironmentNeedsARegion) {
  ApiHarness api;
  Answer a = api.call_json("POST", kEnvs, {{"name", "prod"}, {"cloud", "aws"}, {"cidr", "10.1.0.0/16"}});
  EXPECT_EQ(a.status, 422);
  EXPECT_EQ(a.body["error"]["field"], "region");
  a = api.call_json("POST", kEnvs,
                    {{"name", "prod"}, {"cloud", "aws"}, {"region", "us-east-2"}, {"cidr", "10.1.0.0/16"},
                     {"zones", {"a", "b", "c"}}});
  EXPECT_EQ(a.status, 202) << a.body.dump();
}

TEST(Api, ServiceCreateShowsPasswordOnceAndStoresOnlyItsHash) {
  ApiHarness api;
  ASSERT_EQ(api.call_json("POST", kEnvs, kEnv).status, 202);
  Answer a = api.call_json("POST", "/v1/environments/demo/services", {{"name", "db"}});
  ASSERT_EQ(a.status, 202);
  std::string password = a.body["password"];
  EXPECT_GE(password.size(), 20u);
  EXPECT_EQ(a.body["kind"], "service.create");
  Answer svc = api.call("GET", "/v1/environments/demo/services/db");
  EXPECT_EQ(svc.status, 200);
  EXPECT_EQ(svc.body.dump().find(password), std::string::npos);
  EXPECT_FALSE(svc.body.contains("password_sha256_hex"));
  EXPECT_EQ(svc.body["cpu_millis"], 1000);
  EXPECT_EQ(svc.body["memory_mib"], 2048);
  api.store->transact([&](store::Transaction& tx) {
    auto env = tx.environments().by_name("default", "demo");
    EXPECT_EQ(env->revision, 2);  // the new service raised the desired revision
    auto s = tx.services().by_name(env->id, "db");
    EXPECT_EQ(s->password_sha256_hex, crypto::sha256_hex(password));
  });
  Answer op = api.call("GET", "/v1/operations/" + a.body["id"].get<std::string>());
  EXPECT_EQ(op.status, 200);
  EXPECT_FALSE(op.body.contains("password"));
}

TEST(Api, JoinTokenCarriesServerCaHashAndExpiresInAnHour) {
  ApiHarness api;
  ASSERT_EQ(api.call_json("POST", kEnvs, kEnv).status, 202);
  Answer a = api.call("POST", "/v1/environments/demo/join-tokens", "{}");
  ASSERT_EQ(a.status, 201) << a.body.dump();
  auto parts = parse_join_token(a.body["token"]);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->ca_sha256_hex.size(), 64u);
  EXPECT_EQ(a.body["expires_at"], format_rfc3339(api.clock.unix_seconds() + 3600));
}

TEST(Api, PatchAllowedIpsRaisesRevisionOnlyWhenChanged) {
  ApiHarness api;
  ASSERT_EQ(api.call_json("POST", kEnvs, kEnv).status, 202);
  ASSERT_EQ(api.call_json("POST", "/v1/environments/demo/services", {{"name", "db"}}).status, 202);
  Answer a = api.call_json("PATCH", "/v1/environments/demo/services/db", {{"allowed_ips", {"127.0.0.1/32"}}});
  ASSERT_EQ(a.status, 202) << a.body.dump();
  EXPECT_EQ(a.body["kind"], "service.update");
  EXPECT_EQ(a.body["status"], "running");
  EXPECT_EQ(api.call("GET", "/v1/environments/demo").body["revision"], 3);
  Answer same = api.call_json("PATCH", "/v1/environments/demo/services/db", {{"allowed_ips", {"127.0.0.1/32"}}});
  EXPECT_EQ(same.body["status"], "succeeded");
  EXPECT_EQ(api.call("GET", "/v1/environments/demo").body["revision"], 3);
  EXPECT_EQ(api.call("GET", "/v1/environments/demo/services/db").body["allowed_ips"], json({"127.0.0.1/32"}));
}

TEST(Api, PatchResizesAndScalesAReplicatedService) {
  ApiHarness api;
  ASSERT_EQ(api.call_json("POST", kEnvs, kEnv).status, 202);
  ASSERT_EQ(api.call_json("POST", "/v1/environments/demo/services", {{"name", "db"}, {"replicas", 2}}).status, 202);
  const std::string svc = "/v1/environments/demo/services/db";
  Answer a = api.call_json("PATCH", svc, {{"cpu_millis", 2000}, {"memory_mib", 4096}});
  ASSERT_EQ(a.status, 202) << a.body.dump();
  EXPECT_EQ(a.body["status"], "running");
  EXPECT_EQ(api.call("GET", "/v1/environments/demo").body["revision"], 3);
  Answer got = api.call("GET", svc);
  EXPECT_EQ(got.body["cpu_millis"], 2000);
  EXPECT_EQ(got.body["memory_mib"], 4096);
  EXPECT_EQ(got.body["profile"], nullptr);
  EXPECT_EQ(got.body["node_type"], nullptr);  // the host is the only node type
  EXPECT_EQ(got.body["pending_resize"], nullptr);

  ASSERT_EQ(api.call_json("PATCH", svc, {{"replicas", 3}}).status, 202);
  got = api.call("GET", svc);
  EXPECT_EQ(got.body["replicas"], 3);
  EXPECT_EQ(got.body["cpu_millis"], 2000);

  // A profile by name sizes it as the profile says.
  Answer profiles = api.call("GET", "/v1/environments/demo/profiles");
  ASSERT_EQ(api.call_json("PATCH", svc, {{"profile", "host"}}).status, 202);
  got = api.call("GET", svc);
  EXPECT_EQ(got.body["profile"], "host");
  EXPECT_EQ(got.body["cpu_millis"], profiles.body["items"][0]["requests"]["cpu_millis"]);

  // The same again: nothing to do, done at once, no new revision.
  const auto revision = api.call("GET", "/v1/environments/demo").body["revision"];
  Answer same = api.call_json("PATCH", svc, {{"profile", "host"}, {"replicas", 3}});
  EXPECT_EQ(same.body["status"], "succeeded");
  EXPECT_EQ(api.call("GET", "/v1/environments/demo").body["revision"], revision);
  // Down to two; never to one.
  ASSERT_EQ(api.call_json("PATCH", svc, {{"replicas", 2}}).status, 202);
  EXPECT_EQ(api.call_json("PATCH", svc, {{"replicas", 1}}).body["error"]["code"], "replication_change");
  EXPECT_EQ(api.call("GET", svc).body["replicas"], 2);
}

TEST(Api, PatchInWindowKeepsTheResizeForTheWindow) {
  ApiHarness api;
  ASSERT_EQ(api.call_json("POST", kEnvs, kEnv).status, 202);
  ASSERT_EQ(api.call_json("POST", "/v1/environments/demo/services", {{"name", "db"}, {"replicas", 2}}).status, 202);
  Answer policy = api.call(
      "PUT", "/v1/environments/demo/maintenance",
      R"({"window":{"time_zone":"Europe/Berlin","weekly":[{"days":["sun"],"start":"02:00","duration_minutes":120}]}})");
  ASSERT_EQ(policy.status, 200) << policy.body.dump();
  const std::string svc = "/v1/environments/demo/services/db";
  const auto revision = api.call("GET", "/v1/environments/demo").body["revision"];
  api.enqueued.clear();
  Answer a = api.call_json("PATCH", svc, {{"replicas", 4}, {"cpu_millis", 1500}, {"when", "window"}});
  ASSERT_EQ(a.status, 202) << a.body.dump();
  EXPECT_EQ(a.body["status"], "succeeded");  // recorded; nothing for the agent yet
  EXPECT_EQ(a.body["result"]["pending_resize"]["replicas"], 4);
  Answer got = api.call("GET", svc);
  EXPECT_EQ(got.body["replicas"], 2);  // not yet
  EXPECT_EQ(got.body["cpu_millis"], 1000);
  EXPECT_EQ(got.body["pending_resize"]["replicas"], 4);
  EXPECT_EQ(got.body["pending_resize"]["cpu_millis"], 1500);
  EXPECT_EQ(got.body["pending_resize"]["memory_mib"], 2048);
  EXPECT_EQ(got.body["pending_resize"]["requested_at"], format_rfc3339(api.clock.unix_seconds()));
  // The upgrade controller applies it when the window opens.
  const std::string env_id = api.call("GET", "/v1/environments/demo").body["id"];
  EXPECT_NE(std::find(api.enqueued.begin(), api.enqueued.end(), "upgrades/" + env_id), api.enqueued.end());
  EXPECT_EQ(api.call("GET", "/v1/environments/demo").body["revision"], revision);
  // The same again keeps the first request's time.
  ASSERT_EQ(api.call_json("PATCH", svc, {{"replicas", 4}, {"cpu_millis", 1500}, {"when", "window"}}).status, 202);
  EXPECT_EQ(api.call("GET", svc).body["pending_resize"], got.body["pending_resize"]);
  // A change now replaces the one kept.
  ASSERT_EQ(api.call_json("PATCH", svc, {{"cpu_millis", 1250}}).status, 202);
  got = api.call("GET", svc);
  EXPECT_EQ(got.body["cpu_millis"], 1250);
  EXPECT_EQ(got.body["pending_resize"], nullptr);
}

TEST(Api, AwsResizePlacesACustomSizeOnTheNodeGroupThatFitsIt) {
  ApiHarness api;
  ASSERT_EQ(api.call_json("POST", kEnvs,
                          {{"name", "prod"}, {"cloud", "aws"}, {"region", "us-east-1"}, {"cidr", "10.1.0.0/16"},
                           {"instance_types", {"m7gd.large", "m7gd.2xlarge"}}})
                .status,
            202);
  ASSERT_EQ(api.call_json("POST", "/v1/environments/prod/services",
                          {{"name", "db"}, {"replicas", 2}, {"profile", "m7gd.2xlarge"}})
                .status,
            202);
  const std::string svc = "/v1/environments/prod/services/db";
  // Smaller: onto the smaller node group.
  ASSERT_EQ(api.call_json("PATCH", svc, {{"cpu_millis", 1000}, {"memory_mib", 4096}}).status, 202);
  Answer got = api.call("GET", svc);
  EXPECT_EQ(got.body["profile"], nullptr);
  EXPECT_EQ(got.body["node_type"], "m7gd.large");
  // Past what a large holds: the 2xlarge again.
  ASSERT_EQ(api.call_json("PATCH", svc, {{"cpu_millis", 4000}}).status, 202);
  EXPECT_EQ(api.call("GET", svc).body["node_type"], "m7gd.2xlarge");
  // Past anything allowed: refused, nothing changed.
  Answer too_big = api.call_json("PATCH", svc, {{"memory_mib", 200000}});
  EXPECT_EQ(too_big.status, 422);
  EXPECT_EQ(too_big.body["error"]["code"], "replica_too_large");
  EXPECT_EQ(api.call("GET", svc).body["memory_mib"], 4096);
  // Replicas change too (the Kubernetes runtime copies a new replica's
  // tables before it serves and drains one that leaves), placed afresh.
  ASSERT_EQ(api.call_json("PATCH", svc, {{"replicas", 3}}).status, 202);
  got = api.call("GET", svc);
  EXPECT_EQ(got.body["replicas"], 3);
  EXPECT_EQ(got.body["cpu_millis"], 4000);
  EXPECT_EQ(got.body["node_type"], "m7gd.2xlarge");
  ASSERT_EQ(api.call_json("PATCH", svc, {{"replicas", 2}, {"cpu_millis", 1000}}).status, 202);
  got = api.call("GET", svc);
  EXPECT_EQ(got.body["replicas"], 2);
  EXPECT_EQ(got.body["node_type"], "m7gd.large");
}

TEST(Api, AwsProfilesFollowInstanceTypesAndDaemonsets) {
  ApiHarness api;
  ASSERT_EQ(api.call_json("POST", kEnvs,
                          {{"name", "prod"}, {"cloud", "aws"}, {"region", "us-east-1"}, {"cidr", "10.1.0.0/16"},
                           {"instance_types", {"m7gd.large", "r7gd.xlarge"}}})
                .status,
            202);
  Answer p = api.call("GET", "/v1/environments/prod/profiles");
  ASSERT_EQ(p.status, 200) << p.body.dump();
  ASSERT_EQ(p.body["items"].size(), 2u);
  EXPECT_EQ(p.body["items"][0]["name"], "m7gd.large");
  // m7gd.large allocatable, nominal: 1930m / 7518 MiB (the issue's figures).
  EXPECT_EQ(p.body["items"][0]["allocatable"]["cpu_millis"], 1930);
  EXPECT_EQ(p.body["items"][0]["allocatable"]["memory_mib"], 7518);
  Answer patched = api.call_json("PATCH", "/v1/environments/prod", {{"daemonsets", {{"cpu_millis", 100}, {"memory_mib", 200}}}});
  ASSERT_EQ(patched.status, 200) << patched.body.dump();
  p = api.call("GET", "/v1/environments/prod/profiles");
  EXPECT_EQ(p.body["items"][0]["allocatable"]["cpu_millis"], 1830);
  EXPECT_EQ(p.body["items"][0]["allocatable"]["memory_mib"], 7318);
  Answer svc = api.call_json("POST", "/v1/environments/prod/services", {{"name", "db"}, {"profile", "r7gd.xlarge"}});
  ASSERT_EQ(svc.status, 202) << svc.body.dump();
  Answer got = api.call("GET", "/v1/environments/prod/services/db");
  EXPECT_EQ(got.body["profile"], "r7gd.xlarge");
  EXPECT_EQ(got.body["cpu_millis"], p.body["items"][1]["requests"]["cpu_millis"]);
  EXPECT_EQ(got.body["memory_mib"], p.body["items"][1]["requests"]["memory_mib"]);
}

TEST(Api, LocalEnvironmentOffersTheHostAsOneProfile) {
  ApiHarness api;
  ASSERT_EQ(api.call_json("POST", kEnvs, kEnv).status, 202);
  Answer p = api.call("GET", "/v1/environments/demo/profiles");
  ASSERT_EQ(p.status, 200) << p.body.dump();
  ASSERT_EQ(p.body["items"].size(), 1u);
  EXPECT_EQ(p.body["items"][0]["name"], "host");
  EXPECT_GT(p.body["items"][0]["allocatable"]["cpu_millis"].get<int>(), 0);
}

TEST(Api, IdempotencyKeysAreAtMost255Characters) {
  ApiHarness api;
  size_t before = api.rows();
  Answer too_long = api.call("POST", kEnvs, kEnv.dump(), "application/json", "<admin>", std::string(256, 'k'));
  EXPECT_EQ(too_long.status, 422) << too_long.body.dump();
  EXPECT_EQ(too_long.body["error"]["code"], "invalid_idempotency_key");
  EXPECT_EQ(too_long.body["error"]["field"], "Idempotency-Key");
  EXPECT_EQ(api.rows(), before);
  Answer longest = api.call("POST", kEnvs, kEnv.dump(), "application/json", "<admin>", std::string(255, 'k'));
  EXPECT_EQ(longest.status, 202) << longest.body.dump();
}

TEST(Api, HealthzNeedsNoToken) {
  ApiHarness api;
  Answer a = api.call("GET", "/healthz", "", "", "");
  EXPECT_EQ(a.status, 200);
}


TEST(Api, CloudsSayTheirFieldsDefaultsAndWhereProfilesComeFrom) {
  ApiHarness api;
  Answer a = api.call("GET", "/v1/clouds");
  ASSERT_EQ(a.status, 200) << a.body.dump();
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& c : a.body["items"]) by_name[c["name"]] = c;
  ASSERT_EQ(by_name.size(), 3u) << a.body.dump();
  EXPECT_EQ(by_name["local"]["default_region"], "local");
  EXPECT_EQ(by_name["local"]["capacity"], "host");
  EXPECT_EQ(by_name["aws"]["default_region"], "") << "aws needs a region";
  EXPECT_EQ(by_name["aws"]["capacity"], "catalogue");
  auto has = [](const nlohmann::json& list, const std::string& v) {
    return std::find(list.begin(), list.end(), v) != list.end();
  };
  EXPECT_TRUE(has(by_name["aws"]["fields"], "instance_types"));
  EXPECT_FALSE(has(by_name["external"]["fields"], "instance_types"));
  EXPECT_EQ(by_name["external"]["default_zones"], nlohmann::json::array({"a"}));
  EXPECT_EQ(api.call("GET", "/v1/clouds", "", "", "").status, 401);
}

TEST(Api, OnlyAFailedEnvironmentIsRetriedAndARepeatAnswersTheSameOperation) {
  ApiHarness api;
  ASSERT_EQ(api.call_json("POST", "/v1/environments", {{"name", "e"}, {"cloud", "external"}, {"cidr", "10.0.0.0/16"}})
                .status,
            202);
  Answer not_failed = api.call("POST", "/v1/environments/e/retry", "{}");
  EXPECT_EQ(not_failed.status, 409) << not_failed.body.dump();
  EXPECT_EQ(not_failed.body["error"]["code"], "not_failed");
  std::string token_before;
  api.store->transact([&](store::Transaction& tx) {
    auto e = *tx.environments().by_name("default", "e");
    e.state = model::kFailed;
    e.cloud_action = "create";
    e.cloud_token = token_before = "act-old";
    e.reason = "rolled_back";
    e.message = "NAT gateway limit";
    tx.environments().put(e);
  });
  Answer shown = api.call("GET", "/v1/environments/e");
  EXPECT_EQ(shown.body["state"], "FAILED");
  EXPECT_EQ(shown.body["reason"], "rolled_back");
  EXPECT_EQ(shown.body["message"], "NAT gateway limit");
  api.enqueued.clear();
  Answer retried = api.call("POST", "/v1/environments/e/retry", "{}");
  ASSERT_EQ(retried.status, 202) << retried.body.dump();
  EXPECT_EQ(retried.body["kind"], "environment.retry");
  EXPECT_EQ(api.enqueued.size(), 1u);
  Answer again = api.call("POST", "/v1/environments/e/retry", "{}");
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(again.body["id"], retried.body["id"]);
  api.store->read([&](store::Transaction& tx) {
    auto e = *tx.environments().by_name("default", "e");
    EXPECT_EQ(e.state, model::kProvisioning);
    EXPECT_EQ(e.cloud_action, "create");
    EXPECT_NE(e.cloud_token, token_before) << "a retry is a new request to the cloud";
    EXPECT_EQ(e.reason, "");
  });
}


TEST(Api, VendorTokensNameWhoHoldsThemAndListsShowIt) {
  ApiHarness api;
  size_t before = api.rows();
  for (const char* role : {"admin", "operator", "approver"}) {
    Answer missing = api.call_json("POST", "/v1/tokens", {{"role", role}});
    EXPECT_EQ(missing.status, 422) << role << ": " << missing.body.dump();
    EXPECT_EQ(missing.body["error"]["field"], "subject");
  }
  for (const nlohmann::json& bad : {nlohmann::json(nullptr), nlohmann::json(7)}) {
    Answer typed = api.call_json("POST", "/v1/tokens", {{"role", "operator"}, {"subject", bad}});
    EXPECT_EQ(typed.status, 400) << typed.body.dump();
  }
  for (const std::string& bad : {std::string("eve\x07@x"), std::string(" eve@x"), std::string(255, 'a'),
                                 std::string("eve\xc2\x85@x"), std::string("\xe2\x80\xaemoc.rodnev@eve")}) {
    Answer refused = api.call_json("POST", "/v1/tokens", {{"role", "operator"}, {"subject", bad}});
    EXPECT_EQ(refused.status, 422) << refused.body.dump();
    EXPECT_EQ(refused.body["error"]["code"], "invalid_subject");
  }
  EXPECT_EQ(api.call("POST", "/v1/tokens", "{\"role\":\"operator\",\"subject\":\"\xff\"}").status, 400);
  EXPECT_EQ(api.rows(), before);
  Answer customer = api.call_json("POST", "/v1/tokens", {{"role", "customer"}});
  EXPECT_EQ(customer.status, 201) << customer.body.dump();
  EXPECT_EQ(customer.body["subject"], "");
  Answer oncall = api.call_json("POST", "/v1/tokens", {{"role", "operator"}, {"subject", "alice@vendor.example"}});
  ASSERT_EQ(oncall.status, 201) << oncall.body.dump();
  EXPECT_EQ(oncall.body["subject"], "alice@vendor.example");
  Answer list = api.call("GET", "/v1/tokens");
  bool listed = false;
  for (const auto& t : list.body["items"]) listed |= t["id"] == oncall.body["id"] && t["subject"] == "alice@vendor.example";
  EXPECT_TRUE(listed) << list.body.dump();
}

}  // namespace
}  // namespace byoc::server::test
