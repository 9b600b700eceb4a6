// The CLI against a real `byoc server`: login (CA pinning), environments and
// services with --wait, querying the service with the password the CLI
// printed, deleting everything (processes and directories gone), and an
// external environment joined by an agent the test runs itself.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/files.h"
#include "base/host.h"
#include "base/http_client.h"
#include "cli_server_fixture.h"
#include "e2e_support.h"
#include "testing/testing.h"

namespace byoc::e2e {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// POST "SELECT 1" to a service endpoint, trusting only `ca_pem`, from
// `source` (a loopback address; empty: the system's choice, 127.0.0.1).
http::Response query(const std::string& endpoint, const std::string& ca_pem, const std::string& authorization,
                     const std::string& source = "") {
  http::Client client(http::TlsOptions{.ca_pem = ca_pem});
  http::Request request;
  request.method = "POST";
  request.url = endpoint + "/";
  request.body = "SELECT 1";
  request.timeout = 10s;
  request.source_address = source;
  if (!authorization.empty()) request.headers = {{"Authorization", authorization}};
  return client.send(request);
}

std::set<std::string> names_of(const json& list) {
  std::set<std::string> names;
  if (list.is_object() && list.contains("items"))
    for (const auto& item : list["items"]) names.insert(item.value("name", ""));
  return names;
}

std::string colon_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) out += (i ? ":" : "") + hex.substr(i, 2);
  return out;
}

bool condition_true(const json& environment, const std::string& type) {
  if (!environment.contains("conditions")) return false;
  for (const auto& c : environment["conditions"])
    if (c.value("type", "") == type && c.value("status", false) == true) return true;
  return false;
}

TEST_F(CliServerTest, LoginPinsTheServerCaAndChecksTheToken) {
  fs::path config = home_ / ".config" / "byoc" / "config.json";
  files::write_atomic(root_.path() / "wrong.token", "not-the-token\n", 0600);
  RunResult wrong =
      byoc({"login", "--server", url_, "--token-file", (root_.path() / "wrong.token").string()});
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.err.find("error: "), std::string::npos) << wrong.err;
  EXPECT_FALSE(fs::exists(config)) << "a failed login must not save anything";

  // A CA that did not issue the server's certificate: the TLS handshake fails, the token is never sent.
  auto other = crypto::make_ca({.common_name = "other",
                                .not_before = std::chrono::system_clock::now() - 1h,
                                .not_after = std::chrono::system_clock::now() + 24h});
  files::write_atomic(root_.path() / "other-ca.pem", other.cert_pem, 0644);
  RunResult other_ca = byoc({"login", "--server", url_, "--token-file", (data_ / "admin.token").string(),
                             "--ca-file", (root_.path() / "other-ca.pem").string()});
  EXPECT_EQ(other_ca.code, 1) << other_ca.err;
  EXPECT_EQ(other_ca.err_lines(), 1u) << other_ca.err;
  EXPECT_FALSE(fs::exists(config));

  // Trust on first use: the fingerprint printed is the real CA's.
  RunResult tofu = byoc({"login", "--server", url_, "--token-file", (data_ / "admin.token").string()});
  ASSERT_EQ(tofu.code, 0) << tofu.err;
  EXPECT_NE(tofu.err.find(colon_hex(crypto::certificate_sha256_hex(ca_pem_))), std::string::npos) << tofu.err;
  EXPECT_EQ(file_mode(config), 0600u);
  EXPECT_EQ(file_mode(config.parent_path()), 0700u);
  json saved = parse_json(read_text(config));
  EXPECT_EQ(saved.value("server", ""), url_);
  EXPECT_EQ(crypto::certificate_sha256_hex(saved.value("ca_pem", "")),
            crypto::certificate_sha256_hex(ca_pem_));

  RunResult pinned = byoc({"login", "--server", url_, "--token-file", (data_ / "admin.token").string(),
                           "--ca-file", (data_ / "ca.pem").string()});
  EXPECT_EQ(pinned.code, 0) << pinned.err;
  RunResult list = byoc({"env", "list"});
  EXPECT_EQ(list.code, 0) << list.err;
  EXPECT_EQ(list.out.rfind("NAME", 0), 0u) << list.out;

  // The environment overrides the saved login: a wrong BYOC_TOKEN is refused.
  RunResult overridden = byoc({"env", "list"}, {{"BYOC_TOKEN", "wrong"}});
  EXPECT_EQ(overridden.code, 1);
  EXPECT_EQ(overridden.err_lines(), 1u) << overridden.err;
}

TEST_F(CliServerTest, EnvironmentAndServiceLifecycle) {
  ASSERT_NO_FATAL_FAILURE(login());

  // Server-side validation comes back as one line naming the field; nothing is created.
  RunResult public_cidr = byoc({"env", "create", "e0", "--cloud", "local", "--cidr", "8.8.0.0/16"});
  EXPECT_EQ(public_cidr.code, 1);
  EXPECT_EQ(public_cidr.err_lines(), 1u) << public_cidr.err;
  EXPECT_NE(public_cidr.err.find("(field: cidr)"), std::string::npos) << public_cidr.err;

  RunResult created =
      byoc({"env", "create", "e1", "--cloud", "local", "--cidr", "10.1.0.0/16", "--wait", "-o", "json"});
  ASSERT_EQ(created.code, 0) << created.err;
  json environment = parse_json(created.out);
  EXPECT_EQ(environment.value("name", ""), "e1");
  EXPECT_EQ(environment.value("state", ""), "READY") << created.out;
  EXPECT_NE(created.err.find("environment.create e1"), std::string::npos) << "progress lines:\n"
                                                                          << created.err;
  std::string env_id = environment.value("id", "");
  fs::path env_dir = data_ / "environments" / env_id;
  EXPECT_TRUE(fs::is_directory(env_dir)) << env_dir;

  RunResult list = byoc({"env", "list", "-o", "json"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_EQ(parse_json(list.out)["items"].size(), 1u) << list.out;  // e0 was never created

  RunResult svc = byoc({"service", "create", "s1", "--env", "e1", "--wait", "-o", "json"});
  ASSERT_EQ(svc.code, 0) << svc.err;
  json service = parse_json(svc.out);
  std::string endpoint = service.value("endpoint", "");
  std::string password = service.value("password", "");
  EXPECT_EQ(service.value("state", ""), "READY") << svc.out;
  ASSERT_EQ(endpoint.rfind("https://", 0), 0u) << svc.out;
  ASSERT_FALSE(password.empty()) << svc.out;

  // The environment CA comes from its agent; the endpoint verifies against it.
  std::string env_ca = env_json("e1").value("ca_pem", "");
  ASSERT_FALSE(env_ca.empty()) << "environment e1 carries no ca_pem";
  auto ok = query(endpoint, env_ca, basic("default", password));
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body, "1\n");
  auto wrong = query(endpoint, env_ca, basic("default", password + "x"));
  EXPECT_NE(wrong.status, 200) << wrong.body;
  EXPECT_NE(wrong.body, "1\n");
  auto anonymous = query(endpoint, env_ca, "");
  EXPECT_NE(anonymous.status, 200) << anonymous.body;
  EXPECT_NE(anonymous.body, "1\n");

  RunResult get = byoc({"service", "get", "s1", "--env", "e1"});
  EXPECT_EQ(get.code, 0) << get.err;
  EXPECT_NE(get.out.find(endpoint), std::string::npos) << get.out;
  EXPECT_EQ(get.out.find(password), std::string::npos) << "the password is shown once only";
  std::string native_endpoint = service_json("e1", "s1").value("native_endpoint", "");
  // Native protocol over TLS (nginx's stream module, installed by scripts/setup.sh).
  EXPECT_EQ(native_endpoint.rfind("127.0.0.1:", 0), 0u) << "no native_endpoint";
  EXPECT_NE(get.out.find("native_endpoint: " + native_endpoint + "\n"), std::string::npos) << get.out;

  // A local environment offers one profile: this host.
  RunResult profiles = byoc({"profile", "list", "--env", "e1", "-o", "json"});
  ASSERT_EQ(profiles.code, 0) << profiles.err;
  EXPECT_EQ(names_of(parse_json(profiles.out)), std::set<std::string>{"host"}) << profiles.out;
  RunResult profile_table = byoc({"profile", "list", "--env", "e1"});
  EXPECT_EQ(profile_table.code, 0) << profile_table.err;
  EXPECT_EQ(profile_table.out.rfind("NAME", 0), 0u) << profile_table.out;
  EXPECT_NE(profile_table.out.find("\nhost "), std::string::npos) << profile_table.out;

  // Allowlist: only 127.42.0.0/16 may connect, then loopback only again. Clients pick their source address.
  const std::string allowed_source = "127.42.0.77";
  EXPECT_EQ(query(endpoint, env_ca, basic("default", password), allowed_source).status, 403)
      << "the default allowlist is 127.0.0.1 only";
  RunResult narrowed = byoc(
      {"service", "update", "s1", "--env", "e1", "--allowed-ips", "127.42.0.0/16", "--wait", "-o", "json"});
  ASSERT_EQ(narrowed.code, 0) << narrowed.err;
  EXPECT_EQ(parse_json(narrowed.out)["allowed_ips"], json::array({"127.42.0.0/16"})) << narrowed.out;
  EXPECT_NE(narrowed.err.find("service.update e1/s1"), std::string::npos) << "progress lines:\n"
                                                                          << narrowed.err;
  // nginx reloads gracefully: poll until the new rules answer.
  EXPECT_TRUE(testing::eventually(
      [&] { return query(endpoint, env_ca, basic("default", password), "127.0.0.1").status == 403; }, 10s))
      << "127.0.0.1 is still allowed";
  EXPECT_EQ(query(endpoint, env_ca, basic("default", password), allowed_source).body, "1\n");
  RunResult loopback =
      byoc({"service", "update", "s1", "--env", "e1", "--allowed-ips-loopback-only", "--wait", "-o", "json"});
  ASSERT_EQ(loopback.code, 0) << loopback.err;
  EXPECT_EQ(parse_json(loopback.out)["allowed_ips"], json::array()) << loopback.out;
  EXPECT_TRUE(testing::eventually(
      [&] { return query(endpoint, env_ca, basic("default", password), allowed_source).status == 403; }, 10s))
      << allowed_source << " is still allowed";
  EXPECT_EQ(query(endpoint, env_ca, basic("default", password), "127.0.0.1").body, "1\n");

  auto service_processes = [&] {
    std::vector<ProcessInfo> out;
    for (auto& p : processes_mentioning(env_dir))
      if (p.executable == "clickhouse" || p.executable == "clickhouse-server" || p.executable == "nginx")
        out.push_back(p);
    return out;
  };
  EXPECT_FALSE(service_processes().empty())
      << "no clickhouse/nginx names " << env_dir << describe(processes_mentioning(root_.path()));

  // An environment with a service can't go.
  RunResult busy = byoc({"env", "delete", "e1"});
  EXPECT_EQ(busy.code, 1);
  EXPECT_EQ(busy.err_lines(), 1u) << busy.err;

  RunResult deleted = byoc({"service", "delete", "s1", "--env", "e1", "--wait"});
  ASSERT_EQ(deleted.code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "service e1/s1 deleted\n");
  EXPECT_TRUE(testing::eventually([&] { return service_processes().empty(); }, 10s))
      << describe(service_processes());
  RunResult gone = byoc({"service", "get", "s1", "--env", "e1"});
  EXPECT_EQ(gone.code, 1);
  EXPECT_EQ(gone.err_lines(), 1u) << gone.err;

  RunResult env_deleted = byoc({"env", "delete", "e1", "--wait", "-o", "json"});
  ASSERT_EQ(env_deleted.code, 0) << env_deleted.err;
  EXPECT_EQ(parse_json(env_deleted.out).value("status", ""), "succeeded") << env_deleted.out;
  EXPECT_FALSE(fs::exists(env_dir)) << env_dir;
  EXPECT_TRUE(testing::eventually([&] { return processes_mentioning(env_dir).empty(); }, 10s))
      << describe(processes_mentioning(env_dir));
  RunResult env_gone = byoc({"env", "get", "e1"});
  EXPECT_EQ(env_gone.code, 1);
  EXPECT_EQ(env_gone.err_lines(), 1u) << env_gone.err;
}

TEST_F(CliServerTest, TokensScopeCustomersToTheirOrganization) {
  ASSERT_NO_FATAL_FAILURE(login());
  RunResult org = byoc({"org", "create", "acme"});
  ASSERT_EQ(org.code, 0) << org.err;
  RunResult orgs = byoc({"org", "list", "-o", "json"});
  ASSERT_EQ(orgs.code, 0) << orgs.err;
  EXPECT_EQ(names_of(parse_json(orgs.out)), (std::set<std::string>{"acme", "default"})) << orgs.out;

  RunResult minted = byoc({"token", "create", "--role", "customer", "--organization", "acme", "-o", "json"});
  ASSERT_EQ(minted.code, 0) << minted.err;
  json token = parse_json(minted.out);
  std::string id = token.value("id", "");
  std::string secret = token.value("token", "");
  EXPECT_EQ(token.value("role", ""), "customer") << minted.out;
  EXPECT_EQ(token.value("organization", ""), "acme") << minted.out;
  ASSERT_FALSE(id.empty()) << minted.out;
  ASSERT_FALSE(secret.empty()) << minted.out;
  // The saved login gives the server and its CA; BYOC_TOKEN makes this the customer.
  const std::map<std::string, std::string> customer = {{"BYOC_TOKEN", secret}};

  // External environments: no processes to start, and scoping is all this checks.
  ASSERT_EQ(byoc({"env", "create", "d1", "--cloud", "external", "--cidr", "10.3.0.0/16"}).code, 0);
  RunResult own = byoc({"env", "create", "a1", "--cloud", "external", "--cidr", "10.4.0.0/16"}, customer);
  ASSERT_EQ(own.code, 0) << own.err;

  RunResult seen = byoc({"env", "list", "-o", "json"}, customer);
  ASSERT_EQ(seen.code, 0) << seen.err;
  EXPECT_EQ(names_of(parse_json(seen.out)), std::set<std::string>{"a1"}) << seen.out;
  RunResult other = byoc({"env", "get", "d1"}, customer);
  EXPECT_EQ(other.code, 1);
  EXPECT_EQ(other.err_lines(), 1u) << other.err;
  RunResult elsewhere = byoc({"env", "list", "--organization", "default"}, customer);
  EXPECT_EQ(elsewhere.code, 1);
  EXPECT_NE(elsewhere.err.find("(field: organization)"), std::string::npos) << elsewhere.err;
  RunResult not_admin = byoc({"token", "list"}, customer);
  EXPECT_EQ(not_admin.code, 1);
  EXPECT_EQ(not_admin.err_lines(), 1u) << not_admin.err;

  // The admin sees each organisation it names.
  RunResult admin_default = byoc({"env", "list", "-o", "json"});
  EXPECT_EQ(names_of(parse_json(admin_default.out)), std::set<std::string>{"d1"}) << admin_default.out;
  RunResult admin_acme = byoc({"env", "list", "--organization", "acme", "-o", "json"});
  EXPECT_EQ(names_of(parse_json(admin_acme.out)), std::set<std::string>{"a1"}) << admin_acme.out;

  RunResult tokens = byoc({"token", "list"});
  ASSERT_EQ(tokens.code, 0) << tokens.err;
  EXPECT_NE(tokens.out.find(id), std::string::npos) << tokens.out;
  EXPECT_EQ(tokens.out.find(secret.substr(secret.find('.'))), std::string::npos) << "no secrets in listings";

  RunResult revoked = byoc({"token", "delete", id});
  ASSERT_EQ(revoked.code, 0) << revoked.err;
  EXPECT_EQ(revoked.out, "token " + id + " deleted\n");
  RunResult refused = byoc({"env", "list"}, customer);
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(refused.err, "error: missing or invalid bearer token\n") << "the server's 401";
  RunResult gone = byoc({"token", "list", "-o", "json"});
  ASSERT_EQ(gone.code, 0) << gone.err;
  // Kept whole: a range-for over a member of a temporary would read a destroyed object.
  const json remaining = parse_json(gone.out);
  ASSERT_TRUE(remaining.contains("items")) << gone.out;
  for (const auto& t : remaining["items"]) EXPECT_NE(t.value("id", ""), id);
}

TEST_F(CliServerTest, ExternalEnvironmentJoinedByAnAgent) {
  // Connection from the environment only (no saved login): BYOC_SERVER/BYOC_TOKEN/BYOC_CA_FILE.
  std::map<std::string, std::string> conn = {{"BYOC_SERVER", url_},
                                             {"BYOC_TOKEN", read_text(data_ / "admin.token")},
                                             {"BYOC_CA_FILE", (data_ / "ca.pem").string()}};
  while (!conn["BYOC_TOKEN"].empty() && std::isspace(static_cast<unsigned char>(conn["BYOC_TOKEN"].back())))
    conn["BYOC_TOKEN"].pop_back();

  RunResult created =
      byoc({"env", "create", "x1", "--cloud", "external", "--cidr", "10.2.0.0/16", "-o", "json"}, conn);
  ASSERT_EQ(created.code, 0) << created.err;
  std::string operation_id = parse_json(created.out).value("id", "");
  EXPECT_EQ(operation_id.rfind("op-", 0), 0u) << created.out;

  RunResult token = byoc({"env", "join-token", "x1"}, conn);
  ASSERT_EQ(token.code, 0) << token.err;
  ASSERT_EQ(std::count(token.out.begin(), token.out.end(), '\n'), 1) << "the bare token on one line:\n"
                                                                     << token.out;
  fs::path token_file = root_.path() / "join.token";
  files::write_atomic(token_file, token.out, 0600);

  RunResult before = byoc({"env", "get", "x1", "-o", "json"}, conn);
  ASSERT_EQ(before.code, 0) << before.err;
  EXPECT_FALSE(condition_true(parse_json(before.out), "agent_connected")) << before.out;
  // No agent yet: nothing knows the host the services would run on.
  RunResult no_profiles = byoc({"profile", "list", "--env", "x1"}, conn);
  EXPECT_EQ(no_profiles.code, 1);
  EXPECT_NE(no_profiles.err.find("host capacity is not known"), std::string::npos) << no_profiles.err;

  agent_ = std::make_unique<Child>(
      std::vector<std::string>{"agent", "--state-dir", (root_.path() / "agent").string(), "--server", url_,
                               "--join-token-file", token_file.string()},
      env(), root_.path() / "agent");
  json environment;
  bool connected = testing::eventually(
      [&] {
        RunResult r = byoc({"env", "get", "x1", "-o", "json"}, conn);
        environment = json::parse(r.out, nullptr, false);
        return r.code == 0 && condition_true(environment, "agent_connected");
      },
      60s);
  EXPECT_TRUE(connected) << environment.dump(2) << "\nagent log:\n" << agent_->err();
  RunResult table = byoc({"env", "get", "x1"}, conn);
  EXPECT_NE(table.out.find("agent_connected"), std::string::npos) << table.out;
  // The agent reported its host (this machine): the one node type of the profiles.
  json profiles;
  EXPECT_TRUE(testing::eventually(
      [&] {
        RunResult r = byoc({"profile", "list", "--env", "x1", "-o", "json"}, conn);
        profiles = json::parse(r.out, nullptr, false);
        return r.code == 0;
      },
      10s))
      << profiles.dump();
  ASSERT_EQ(profiles["items"].size(), 1u) << profiles.dump();
  EXPECT_EQ(profiles["items"][0]["instance_type"], "host");
  EXPECT_EQ(profiles["items"][0]["allocatable"]["cpu_millis"].get<int>() > 0, true) << profiles.dump();
  EXPECT_LE(profiles["items"][0]["allocatable"]["cpu_millis"].get<int>(), this_host_capacity().cores * 1000);

  RunResult op = byoc({"operation", "get", operation_id, "-o", "json"}, conn);
  EXPECT_EQ(op.code, 0) << op.err;
  EXPECT_EQ(parse_json(op.out).value("kind", ""), "environment.create") << op.out;

  agent_->stop(30s);
  auto code = agent_->wait(0ms);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << agent_->err();
}

}  // namespace
}  // namespace byoc::e2e
