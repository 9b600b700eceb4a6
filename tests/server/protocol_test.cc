// The telemetry allowlist and the closed desired-state schema.
#include <gtest/gtest.h>

#include "base/error.h"
#include <nlohmann/json.hpp>

#include "model/protocol.h"

namespace byoc::model {
namespace {
using nlohmann::json;

json good_report() {
  return {{"protocol_version", 1},
          {"known_revision", 3},
          {"seq", 9},
          {"status",
           {{"applied_revision", 3},
            {"environment_ca_pem", "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"},
            {"services",
             {{{"name", "db"},
               {"state", "READY"},
               {"reason", ""},
               {"endpoint", "https://127.0.0.1:4443"},
               {"native_endpoint", "127.0.0.1:9440"},
               {"replicas", {{{"shard", 1}, {"replica", 1}, {"state", "RUNNING"}, {"last_error_code", 0}}}}}}}}},
          {"usage", json::array()}};
}

std::string rejected_field(const json& report) {
  try {
    parse_sync_request(report);
  } catch (const Error& e) {
    return e.field();
  }
  return "<accepted>";
}

TEST(Protocol, GoodReportRoundTrips) {
  SyncRequest r = parse_sync_request(good_report());
  EXPECT_EQ(r.status.services.at(0).endpoint, "https://127.0.0.1:4443");
  EXPECT_EQ(to_json(r), good_report());
}

TEST(Protocol, ReportWithQueryTextRowsOrFreeTextIsRejected) {
  json r = good_report();
  r["status"]["services"][0]["query"] = "SELECT * FROM secrets";
  EXPECT_EQ(rejected_field(r), "status.services[0].query");
  r = good_report();
  r["rows"] = json::array({{1, 2}});
  EXPECT_EQ(rejected_field(r), "rows");
  r = good_report();
  r["status"]["services"][0]["reason"] = "Code: 60, table default.secrets doesn't exist";
  EXPECT_EQ(rejected_field(r), "status.services[0].reason");
  r = good_report();
  r["status"]["services"][0]["replicas"][0]["message"] = "boom";
  EXPECT_EQ(rejected_field(r), "status.services[0].replicas[0].message");
  r = good_report();
  r["status"]["services"][0]["state"] = "HAPPY";
  EXPECT_EQ(rejected_field(r), "status.services[0].state");
  r = good_report();
  r["status"]["environment_ca_pem"] = "-----BEGIN PRIVATE KEY-----\nAA==\n";
  EXPECT_EQ(rejected_field(r), "status.environment_ca_pem");
  r = good_report();
  r["status"]["services"][0]["endpoint"] = "http://evil/?q=rows";
  EXPECT_EQ(rejected_field(r), "status.services[0].endpoint");
  r = good_report();
  r["status"]["services"][0]["native_endpoint"] = "SELECT 1 FROM t:9000";
  EXPECT_EQ(rejected_field(r), "status.services[0].native_endpoint");
}

TEST(Protocol, HostCapacityIsOptionalTypedAndBounded) {
  json r = good_report();
  r["status"]["host"] = {{"cores", 8}, {"memory_mib", 32768}};
  SyncRequest parsed = parse_sync_request(r);
  ASSERT_TRUE(parsed.status.host.has_value());
  EXPECT_EQ(parsed.status.host->cores, 8);
  EXPECT_EQ(parsed.status.host->memory_mib, 32768);
  EXPECT_EQ(to_json(parsed), r);
  EXPECT_FALSE(parse_sync_request(good_report()).status.host.has_value());

  r["status"]["host"]["hostname"] = "db-7.internal";
  EXPECT_EQ(rejected_field(r), "status.host.hostname");
  r["status"]["host"] = {{"cores", 8}};
  EXPECT_EQ(rejected_field(r), "status.host.memory_mib");
  r["status"]["host"] = {{"cores", 0}, {"memory_mib", 1024}};
  EXPECT_EQ(rejected_field(r), "status.host.cores");
  r["status"]["host"] = {{"cores", 4}, {"memory_mib", -1}};
  EXPECT_EQ(rejected_field(r), "status.host.memory_mib");
  r["status"]["host"] = "8 cores";
  EXPECT_EQ(rejected_field(r), "status.host");
}

TEST(Protocol, WrongProtocolVersionIsRejected) {
  json r = good_report();
  r["protocol_version"] = kProtocolVersion + 1;
  EXPECT_EQ(rejected_field(r), "protocol_version");
  r["protocol_version"] = 0;
  EXPECT_EQ(rejected_field(r), "protocol_version");
  r["protocol_version"] = 1;  // agents from before the plane's server list still speak
  EXPECT_EQ(rejected_field(r), "<accepted>");
}

TEST(Protocol, DesiredStateIsClosedSchema) {
  DesiredState d;
  d.revision = 4;
  d.environment_id = "env-1";
  d.services.push_back({"db", "18.16.1", 1, 1, 1000, 2048, {"127.0.0.1/32"}, std::string(64, 'a')});
  EXPECT_EQ(parse_desired_state(to_json(d)), d);
  json raw = to_json(d);
  raw["services"][0]["config_xml"] = "<yandex/>";
  EXPECT_THROW(parse_desired_state(raw), Error);
  raw = to_json(d);
  raw["services"][0]["default_password_sha256_hex"] = "plaintext";
  EXPECT_THROW(parse_desired_state(raw), Error);
  raw = to_json(d);
  raw["services"].push_back(raw["services"][0]);
  EXPECT_THROW(parse_desired_state(raw), Error);
}

TEST(Protocol, AServicesProfileTravelsOnlyWhenSetAndOnlyAsAnInstanceType) {
  DesiredState d;
  d.revision = 4;
  d.environment_id = "env-1";
  d.services.push_back({"db", "18.16.1", 1, 1, 1000, 2048, {"127.0.0.1/32"}, std::string(64, 'a')});
  EXPECT_FALSE(to_json(d)["services"][0].contains("profile"));  // an older agent never meets it
  for (const std::string profile : {"m7gd.large", "r7gd.xlarge", "host"}) {
    d.services[0].profile = profile;
    EXPECT_EQ(to_json(d)["services"][0]["profile"], profile);
    EXPECT_EQ(parse_desired_state(to_json(d)), d);
  }
  for (const std::string bad : {std::string("M7GD.large"), std::string("m7gd"), std::string("m7gd.large;rm"),
                                std::string("m7gd..large"), std::string(65, 'a')}) {
    json raw = to_json(d);
    raw["services"][0]["profile"] = bad;
    EXPECT_THROW(parse_desired_state(raw), Error) << bad;
  }
}

TEST(Protocol, GrantsAndTheirOutcomesAreClosedSchemas) {
  DesiredState d;
  d.revision = 5;
  d.environment_id = "env-1";
  DesiredGrant g;
  g.request_id = "acc-0123456789abcdef";
  g.requester = "eng@vendor.example";
  g.scope = "clickhouse-system";
  g.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\nAA==\n-----END CERTIFICATE REQUEST-----\n";
  g.duration_seconds = 3600;
  g.not_before = 100;
  g.not_after = 3700;
  g.reviews = {{"lead@vendor.example", "approver", "approve", 100}};
  d.grants = {g};
  EXPECT_EQ(parse_desired_state(to_json(d)), d);
  auto refused = [&](const std::function<void(json&)>& change) {
    json raw = to_json(d);
    change(raw["grants"][0]);
    EXPECT_THROW(parse_desired_state(raw), Error) << raw.dump();
  };
  refused([](json& x) { x["request_id"] = "acc-../../etc"; });
  refused([](json& x) { x["scope"] = "root"; });
  refused([](json& x) { x["requester"] = "eve\n@x"; });
  refused([](json& x) { x["csr_pem"] = "-----BEGIN PRIVATE KEY-----"; });
  refused([](json& x) { x["not_after"] = 100; });
  refused([](json& x) { x["reviews"][0]["decision"] = "maybe"; });
  refused([](json& x) { x["certificate_pem"] = "x"; });
  // An agent of protocol 2 never meets the field: no grants, no key.
  d.grants.clear();
  EXPECT_FALSE(to_json(d).contains("grants"));

  json r = good_report();
  r["status"]["access"] = {{"support_access", true}, {"customer_approval_required", false}, {"max_grant_seconds", 3600}};
  r["status"]["grants"] = {{{"request_id", "acc-0123456789abcdef"}, {"state", "refused"}, {"serial", ""},
                            {"certificate_pem", ""}, {"reason", "duration_too_long"}}};
  EXPECT_EQ(rejected_field(r), "<accepted>");
  SyncRequest parsed = parse_sync_request(r);
  EXPECT_EQ(parse_sync_request(to_json(parsed)).status, parsed.status);
  r["status"]["grants"][0]["reason"] = "the engineer looked suspicious";  // free text never goes up
  EXPECT_EQ(rejected_field(r), "status.grants[0].reason");
  r["status"]["grants"][0]["state"] = "issued";
  r["status"]["grants"][0]["reason"] = "";
  EXPECT_EQ(rejected_field(r), "status.grants[0]") << "issued needs its certificate and serial";
  r["status"]["grants"] = json::array();
  r["status"]["support_ca_pem"] = "-----BEGIN PRIVATE KEY-----\n";
  EXPECT_EQ(rejected_field(r), "status.support_ca_pem");
}

TEST(Protocol, GatewayRefusalsGoUpAsCountsByReasonAndSerialOnly) {
  json r = good_report();
  r["protocol_version"] = kGatewayProtocolVersion;
  r["known_audit_size"] = 0;
  r["status"]["services"][0]["support_gateway"] = "https://127.0.0.1:4444";
  r["gateway_denials"] = {{{"seq", 1800000000000}, {"service", "db"}, {"reason", "grant_inactive"},
                           {"serial", "a1b2"}, {"count", 3}, {"first", 1800000000}, {"last", 1800000005}},
                          {{"seq", 1800000000001}, {"service", "db"}, {"reason", "no_certificate"},
                           {"serial", ""}, {"count", 1}, {"first", 1800000006}, {"last", 1800000006}}};
  ASSERT_EQ(rejected_field(r), "<accepted>");
  SyncRequest parsed = parse_sync_request(r);
  ASSERT_EQ(parsed.gateway_denials.size(), 2u);
  EXPECT_EQ(parsed.gateway_denials[0].count, 3);
  EXPECT_EQ(parsed.status.services[0].support_gateway, "https://127.0.0.1:4444");
  EXPECT_EQ(to_json(parsed), r);

  auto with = [&](const char* key, json value) {
    json bad = r;
    bad["gateway_denials"][0][key] = std::move(value);
    return rejected_field(bad);
  };
  EXPECT_EQ(with("reason", "SELECT * FROM secrets was refused"), "gateway_denials[0].reason");
  EXPECT_EQ(with("serial", "0a1b"), "gateway_denials[0].serial") << "normalized: no leading zero";
  EXPECT_EQ(with("serial", "A1B2"), "gateway_denials[0].serial");
  EXPECT_EQ(with("count", 0), "gateway_denials[0].count");
  EXPECT_EQ(with("last", 1), "gateway_denials[0].last") << "before first";
  EXPECT_EQ(with("query", "SELECT 1"), "gateway_denials[0].query");
  json gateway = r;
  gateway["status"]["services"][0]["support_gateway"] = "127.0.0.1:4444";
  EXPECT_EQ(rejected_field(gateway), "status.services[0].support_gateway");

  // Never said to a plane of protocol 3, which would refuse them.
  parsed.protocol_version = 3;
  EXPECT_FALSE(to_json(parsed).contains("gateway_denials"));
  EXPECT_FALSE(to_json(parsed)["status"]["services"][0].contains("support_gateway"));

  SyncResponse answer;
  answer.denials_acked_seq = 1800000000001;
  EXPECT_EQ(parse_sync_response(to_json(answer)).denials_acked_seq, 1800000000001);
  EXPECT_FALSE(to_json(SyncResponse{}).contains("denials_acked_seq")) << "older agents never meet it";
}

// Protocol 5: grants of the kubernetes-readonly scope down, the scopes an
// agent grants and the Kubernetes requests it decided up — what was asked as
// the authorizer names it, never a body or a query value.
TEST(Protocol, KubernetesReadonlyGrantsScopesAndRequestsRoundTrip) {
  DesiredState d;
  d.revision = 5;
  d.environment_id = "env-1";
  DesiredGrant g;
  g.request_id = "acc-0123456789abcdef";
  g.requester = "eng@vendor.example";
  g.scope = "kubernetes-readonly";
  g.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\nAA==\n-----END CERTIFICATE REQUEST-----\n";
  g.duration_seconds = 3600;
  g.not_before = 100;
  g.not_after = 3700;
  d.grants = {g};
  EXPECT_EQ(parse_desired_state(to_json(d)), d);

  json r = good_report();
  r["protocol_version"] = kKubernetesAccessProtocolVersion;
  r["known_audit_size"] = 0;
  r["status"]["access"] = {{"support_access", true},
                           {"customer_approval_required", false},
                           {"max_grant_seconds", 3600},
                           {"scopes", {"clickhouse-system", "kubernetes-readonly"}}};
  r["kube_requests"] = {{{"seq", 1800000000000},
                         {"request_id", "acc-0123456789abcdef"},
                         {"serial", "a1b2"},
                         {"verb", "get"},
                         {"api_group", ""},
                         {"resource", "pods"},
                         {"subresource", "log"},
                         {"namespace", "byoc-services"},
                         {"name", "ch-db-0-0"},
                         {"path", ""},
                         {"decision", "allowed"},
                         {"status", 200},
                         {"count", 3},
                         {"first", 1800000000},
                         {"last", 1800000005}},
                        {{"seq", 1800000000001},
                         {"request_id", ""},
                         {"serial", "a1b2"},
                         {"verb", "get"},
                         {"api_group", ""},
                         {"resource", "secrets"},
                         {"subresource", ""},
                         {"namespace", "byoc-services"},
                         {"name", ""},
                         {"path", ""},
                         {"decision", "secrets_refused"},
                         {"status", 403},
                         {"count", 1},
                         {"first", 1800000006},
                         {"last", 1800000006}}};
  ASSERT_EQ(rejected_field(r), "<accepted>");
  SyncRequest parsed = parse_sync_request(r);
  ASSERT_EQ(parsed.kube_requests.size(), 2u);
  EXPECT_EQ(parsed.kube_requests[0].subresource, "log");
  EXPECT_EQ(parsed.kube_requests[1].decision, "secrets_refused");
  EXPECT_EQ(parsed.status.access->scopes, (std::vector<std::string>{"clickhouse-system", "kubernetes-readonly"}));
  EXPECT_EQ(to_json(parsed), r);

  auto with = [&](const char* key, json value) {
    json bad = r;
    bad["kube_requests"][0][key] = std::move(value);
    return rejected_field(bad);
  };
  EXPECT_EQ(with("body", "{}"), "kube_requests[0].body");
  EXPECT_EQ(with("query", "labelSelector=app"), "kube_requests[0].query");
  EXPECT_EQ(with("name", "a name"), "kube_requests[0].name") << "no free text";
  EXPECT_EQ(with("name", std::string(254, 'a')), "kube_requests[0].name");
  EXPECT_EQ(with("path", "/" + std::string(1024, 'a')), "kube_requests[0].path");
  EXPECT_EQ(with("decision", "Refused because"), "kube_requests[0].decision");
  EXPECT_EQ(with("request_id", "acc-x"), "kube_requests[0].request_id");
  EXPECT_EQ(with("serial", "0a1b"), "kube_requests[0].serial");
  EXPECT_EQ(with("status", 600), "kube_requests[0].status");
  EXPECT_EQ(with("count", 0), "kube_requests[0].count");
  EXPECT_EQ(with("last", 1), "kube_requests[0].last");
  json scopes = r;
  scopes["status"]["access"]["scopes"] = {"kubernetes-readonly", "kubernetes-readonly"};
  EXPECT_EQ(rejected_field(scopes), "status.access.scopes[1]");
  scopes["status"]["access"]["scopes"] = {"cluster-admin"};
  EXPECT_EQ(rejected_field(scopes), "status.access.scopes[0]");
  json many = r;
  many["kube_requests"] = json::array();
  for (size_t i = 0; i <= kMaxKubeRequests; ++i) many["kube_requests"].push_back(r["kube_requests"][0]);
  EXPECT_EQ(rejected_field(many), "kube_requests");

  // Never said to a plane of protocol 4, which would refuse them.
  parsed.protocol_version = kGatewayProtocolVersion;
  EXPECT_FALSE(to_json(parsed).contains("kube_requests"));
  EXPECT_FALSE(to_json(parsed)["status"]["access"].contains("scopes"));
  // An agent of protocol 4 reports no scopes: nothing is assumed here.
  json older = good_report();
  older["status"]["access"] = {{"support_access", true}, {"customer_approval_required", false}, {"max_grant_seconds", 3600}};
  EXPECT_FALSE(parse_sync_request(older).status.access->scopes.has_value());

  SyncResponse answer;
  answer.kube_requests_acked_seq = 1800000000001;
  EXPECT_EQ(parse_sync_response(to_json(answer)).kube_requests_acked_seq, 1800000000001);
  EXPECT_FALSE(to_json(SyncResponse{}).contains("kube_requests_acked_seq")) << "older agents never meet it";
}

TEST(Protocol, SyncAnswersListThePlanesServersAsHttpsEndpointsOnce) {
  SyncResponse r;
  r.revision = 3;
  r.usage_acked_seq = 2;
  r.servers = {"https://10.0.0.1:8443", "https://[::1]:9443"};
  EXPECT_EQ(parse_sync_response(to_json(r)).servers, r.servers);
  r.servers.clear();
  EXPECT_FALSE(to_json(r).contains("servers"));  // nothing to say: the agent keeps its list
  EXPECT_TRUE(parse_sync_response(to_json(r)).servers.empty());
  auto bad = [](json servers) {
    json answer = {{"revision", 1}, {"usage_acked_seq", 0}, {"servers", servers}};
    EXPECT_THROW(parse_sync_response(answer), Error) << servers.dump();
  };
  bad("https://10.0.0.1:8443");
  bad({"http://10.0.0.1:8443"});
  bad({"https://10.0.0.1:8443/path"});
  bad({"https://10.0.0.1"});
  bad({"https://10.0.0.1:8443", "https://10.0.0.1:8443"});
  bad({7});
  json many = json::array();
  for (int i = 0; i < 17; ++i) many.push_back("https://10.0.0." + std::to_string(i) + ":8443");
  bad(many);
}

}  // namespace
}  // namespace byoc::model
