#include "agent_loop_support.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "base/http_client.h"
#include "base/process.h"
#include "testing/testing.h"

namespace byoc::agent_loop {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string basic(const std::string& user, const std::string& password) {
  std::string plain = user + ":" + password;
  std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  out.resize(static_cast<size_t>(n));
  return "Basic " + out;
}

}  // namespace

LocalEnvironment::LocalEnvironment(const fs::path& scratch, const std::string& name)
    : server_(scratch, proc::pick_free_port()), name_(name) {
  server_.start();
  auto [status, op] = server_.call("POST", "/v1/environments",
                                   {{"name", name}, {"cloud", "local"}, {"cidr", "10.40.0.0/16"}});
  EXPECT_EQ(status, 202) << op.dump();
  EXPECT_EQ(server_.wait_operation(op["id"])["status"], "succeeded");
  id_ = environment().value("id", "");
  EXPECT_FALSE(id_.empty());
  EXPECT_TRUE(testing::eventually([&] { return agent_connected(); }, 60s)) << agent_log();
}

fs::path LocalEnvironment::state_dir() const { return server_.data_dir() / "environments" / id_; }

json LocalEnvironment::environment() { return server_.call("GET", "/v1/environments/" + name_).second; }

json LocalEnvironment::service(const std::string& name) {
  return server_.call("GET", "/v1/environments/" + name_ + "/services/" + name).second;
}

bool LocalEnvironment::agent_connected() {
  json env = environment();
  if (!env.contains("conditions")) return false;
  for (const auto& c : env["conditions"])
    if (c.value("type", "") == "agent_connected") return c.value("status", false);
  return false;
}

ServiceAccess LocalEnvironment::create_service(const std::string& name) {
  auto [status, op] = server_.call("POST", "/v1/environments/" + name_ + "/services", {{"name", name}});
  EXPECT_EQ(status, 202) << op.dump();
  json done = server_.wait_operation(op.value("id", ""), 120s);
  EXPECT_EQ(done["status"], "succeeded") << done.dump() << "\n" << agent_log();
  ServiceAccess access;
  access.password = op.value("password", "");
  access.endpoint = service(name).value("endpoint", "");
  access.ca_pem = environment().value("ca_pem", "");
  return access;
}

json LocalEnvironment::usage() {
  auto [status, body] = server_.call("GET", "/v1/environments/" + name_ + "/usage");
  EXPECT_EQ(status, 200) << body.dump();
  return body;
}

std::string LocalEnvironment::agent_log() const { return e2e::read_text(state_dir() / "agent.log"); }

int query(const ServiceAccess& service, const std::string& source_address,
          std::chrono::milliseconds timeout) {
  http::Client client(http::TlsOptions{.ca_pem = service.ca_pem});
  http::Request request;
  request.method = "POST";
  request.url = service.endpoint + "/";
  request.body = "SELECT 1";
  request.timeout = timeout;
  request.source_address = source_address;
  request.headers = {{"Authorization", basic("default", service.password)}};
  try {
    http::Response res = client.send(request);
    if (res.status == 200 && res.body != "1\n") return -1;  // answered, but not by ClickHouse
    return res.status;
  } catch (const std::exception&) {
    return 0;
  }
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size()))
    ++n;
  return n;
}

}  // namespace byoc::agent_loop
