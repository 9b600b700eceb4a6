// model::append_json writes the same bytes as model::to_json(...).dump().
#include <gtest/gtest.h>

#include "model/json_text.h"
#include "model/objects.h"

namespace byoc::model {
namespace {

Environment full_environment() {
  Environment e;
  e.id = "env-0123456789abcdef";
  e.organization = "acme";
  e.name = "prod \"eu\"";
  e.cloud = "aws";
  e.region = "eu-west-1";
  e.cidr = "10.1.0.0/16";
  e.zones = {"eu-west-1a", "eu-west-1b"};
  e.instance_types = {"m5.large", "tab\there"};
  e.daemonset_cpu_millis = 250;
  e.daemonset_memory_mib = 512;
  e.state = kReady;
  e.set_condition("agent_connected", true, "", 1'800'000'000);
  e.set_condition("ready", false, "back\\slash and \x01 control", -1);
  e.revision = 42;
  e.applied_revision = 41;
  e.ca_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  e.created_at = 1'700'000'000;
  e.updated_at = 1'800'000'001;
  return e;
}

TEST(JsonText, EnvironmentMatchesTheJsonTree) {
  std::vector<Environment> cases = {Environment{}, full_environment()};
  Environment unicode = full_environment();
  unicode.name = "zürich €";
  unicode.zones = {};
  unicode.conditions = {};
  cases.push_back(unicode);
  for (const auto& e : cases) {
    std::string text;
    append_json(text, e);
    EXPECT_EQ(text, to_json(e).dump());
  }
}

TEST(JsonText, ServiceMatchesTheJsonTree) {
  Service s;
  EXPECT_EQ([&] { std::string t; append_json(t, s, "env"); return t; }(), to_json(s, "env").dump());
  s.id = "svc-1";
  s.name = "analytics";
  s.profile = "small";
  s.allowed_ips = {"10.0.0.0/8", "192.168.1.1/32"};
  s.state = kFailed;
  s.reason = "no \"capacity\"\n";
  s.endpoint = "https://x:8443";
  s.native_endpoint = "x:9440";
  s.created_at = 5;
  s.updated_at = 6;
  std::string text;
  append_json(text, s, "prod ü");
  EXPECT_EQ(text, to_json(s, "prod ü").dump());
}

TEST(JsonText, InvalidUtf8IsRefusedAsTheJsonTreeRefusesIt) {
  Environment e;
  e.name = "bad \xff byte";
  std::string text;
  EXPECT_THROW(append_json(text, e), std::exception);
  EXPECT_THROW(to_json(e).dump(), std::exception);
}

}  // namespace
}  // namespace byoc::model
