// cloud/aws/credentials.h: the default chain's order (environment, profile,
// web identity, IMDS), profiles read from real files in a scratch HOME, role
// chains through a fake StsApi, refreshing on a ManualClock, and IMDSv2
// through a fake Transport. The environment is injected: no test touches
// the process's.
#include "cloud/aws/credentials.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <condition_variable>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include "base/clock.h"
#include "base/error.h"
#include "cloud/aws/imds.h"
#include "testing/testing.h"

namespace byoc::aws {
namespace {

namespace fs = std::filesystem;
using byoc::testing::error_code;
using byoc::testing::TempDir;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;


struct FakeEnv {
  std::map<std::string, std::string> vars;
  EnvLookup lookup() {
    return [this](std::string_view name) -> std::optional<std::string> {
      auto it = vars.find(std::string(name));
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
};

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// Records every call; answers with credentials naming the role and the call.
class FakeSts final : public StsApi {
 public:
  struct Call {
    AssumeRoleParams params;
    Credentials caller;
  };
  struct WebCall {
    std::string role_arn, session_name, token;
  };
  explicit FakeSts(const Clock& clock) : clock_(clock) {}

  Credentials assume_role(const AssumeRoleParams& params, const Credentials& caller) override {
    calls.push_back({params, caller});
    if (fail) throw Error::Unavailable("STS is down");
    std::string n = std::to_string(calls.size());
    return {"ASIA" + n, "secret-" + params.role_arn, "token" + n, clock_.system_time() + hours(1), ""};
  }
  Credentials assume_role_with_web_identity(const std::string& role_arn, const std::string& session_name,
                                            const std::string& token) override {
    web_calls.push_back({role_arn, session_name, token});
    if (fail) throw Error::Unavailable("STS is down");
    return {"ASIAWEB", "websecret", "webtoken", clock_.system_time() + hours(1), ""};
  }

  std::vector<Call> calls;
  std::vector<WebCall> web_calls;
  bool fail = false;

 private:
  const Clock& clock_;
};

// An instance metadata service behind the Transport interface.
class FakeImds final : public Transport {
 public:
  HttpResponse send(const TransportRequest& r) override {
    requests.push_back(r);
    if (down) throw Error::Unavailable("connection refused");
    std::string path = r.url.substr(r.url.find("/latest"));
    if (r.method == "PUT" && path == "/latest/api/token") {
      if (header_value(r.headers, "X-aws-ec2-metadata-token-ttl-seconds") != "21600") return {400, {}, ""};
      return {200, {}, "TOKEN"};
    }
    if (header_value(r.headers, "X-aws-ec2-metadata-token") != "TOKEN") return {401, {}, ""};
    if (path == "/latest/meta-data/iam/security-credentials/") return {200, {}, "node-role\n"};
    if (path == "/latest/meta-data/iam/security-credentials/node-role")
      return {200, {}, R"({"Code":"Success","AccessKeyId":"ASIAIMDS","SecretAccessKey":"imds-secret",)"
                       R"("Token":"imds-token","Expiration":")" + expiration + "\"}"};
    return {404, {}, ""};
  }
  std::vector<TransportRequest> requests;
  bool down = false;
  std::string expiration = "2027-01-15T08:00:00Z";
};

// A container credentials endpoint (ECS, EKS Pod Identity) behind the
// Transport interface.
class FakeContainer final : public Transport {
 public:
  HttpResponse send(const TransportRequest& r) override {
    requests.push_back(r);
    if (status != 200) return {status, {}, ""};
    return {200, {}, R"({"AccessKeyId":"ASIATASK","SecretAccessKey":"task-secret","Token":"task-token",)"
                     R"("Expiration":"2027-01-15T08:00:00Z"})"};
  }
  std::vector<TransportRequest> requests;
  int status = 200;
};

class ChainTest : public ::testing::Test {
 protected:
  ChainOptions options(bool with_imds = true) {
    ChainOptions o;
    o.env = env.lookup();
    o.home = home.path().string();
    o.imds = with_imds ? &imds : nullptr;
    o.container = &container;
    o.sts = &sts;
    o.clock = &clock;
    return o;
  }
  fs::path aws(const std::string& name) { return home.path() / ".aws" / name; }

  TempDir home{"aws-home"};
  FakeEnv env;
  ManualClock clock{1'800'000'000};
  FakeSts sts{clock};
  FakeImds imds;
  FakeContainer container;
};

TEST_F(ChainTest, EnvironmentComesFirst) {
  env.vars = {{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}, {"AWS_SESSION_TOKEN", "envtok"}};
  write(aws("credentials"), "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = filesecret\n");
  auto chain = default_credentials_chain(options());
  Credentials c = chain->credentials();
  EXPECT_EQ(c.access_key_id, "AKIDENV");
  EXPECT_EQ(c.secret_access_key, "envsecret");
  EXPECT_EQ(c.session_token, "envtok");
  EXPECT_EQ(c.source, "environment");
  EXPECT_FALSE(c.expiration);
  EXPECT_TRUE(imds.requests.empty());
}

TEST_F(ChainTest, HalfEnvironmentKeysAreAnError) {
  env.vars = {{"AWS_ACCESS_KEY_ID", "AKIDENV"}};
  EXPECT_EQ(error_code([&] { default_credentials_chain(options())->credentials(); }), "aws_credentials_invalid");
}

TEST_F(ChainTest, DefaultProfileFromHome) {
  write(aws("credentials"), "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = filesecret\n");
  Credentials c = default_credentials_chain(options())->credentials();
  EXPECT_EQ(c.access_key_id, "AKIDFILE");
  EXPECT_EQ(c.source, "profile default");
  EXPECT_TRUE(imds.requests.empty());
}

TEST_F(ChainTest, NamedProfileAndFileVariables) {
  fs::path creds = home.path() / "elsewhere" / "creds";
  write(creds, "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = devsecret\n");
  write(aws("config"), "[profile dev]\naws_access_key_id = IGNORED\nregion = eu-west-3\n");
  env.vars = {{"AWS_PROFILE", "dev"}, {"AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere/creds"}};
  EXPECT_EQ(default_credentials_chain(options())->credentials().access_key_id, "AKIDDEV");
  EXPECT_EQ(configured_region(env.lookup(), home.path().string()), "eu-west-3");
  env.vars["AWS_REGION"] = "ap-northeast-1";
  EXPECT_EQ(configured_region(env.lookup(), home.path().string()), "ap-northeast-1");

  env.vars = {{"AWS_DEFAULT_PROFILE", "dev"}, {"AWS_CONFIG_FILE", (home.path() / "nothing").string()},
              {"AWS_SHARED_CREDENTIALS_FILE", creds.string()}};
  EXPECT_EQ(selected_profile(env.lookup()), "dev");
  EXPECT_EQ(default_credentials_chain(options())->credentials().access_key_id, "AKIDDEV");
  EXPECT_EQ(configured_region(env.lookup(), home.path().string()), "");
}

TEST_F(ChainTest, HomeFromEnvironmentWhenNotGiven) {
  write(aws("credentials"), "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = filesecret\n");
  env.vars = {{"HOME", home.path().string()}};
  ChainOptions o = options();
  o.home.clear();
  EXPECT_EQ(default_credentials_chain(o)->credentials().access_key_id, "AKIDFILE");
}

TEST_F(ChainTest, ExplicitProfileMustExist) {
  env.vars = {{"AWS_PROFILE", "prod"}};
  write(aws("config"), "[profile dev]\nregion = us-east-1\n");
  auto chain = default_credentials_chain(options());
  EXPECT_EQ(error_code([&] { chain->credentials(); }), "aws_profile_not_found");
  EXPECT_NE(byoc::testing::error_message([&] { chain->credentials(); }).find("\"prod\""), std::string::npos);
}

TEST_F(ChainTest, MalformedFileNamesFileAndLine) {
  write(aws("config"), "[default]\nregion = us-east-1\ngarbage\n");
  auto chain = default_credentials_chain(options());
  EXPECT_EQ(error_code([&] { chain->credentials(); }), "aws_config_invalid");
  std::string m = byoc::testing::error_message([&] { chain->credentials(); });
  EXPECT_NE(m.find(aws("config").string() + " line 3"), std::string::npos) << m;
}

TEST_F(ChainTest, NothingConfiguredAndNoImds) {
  auto chain = default_credentials_chain(options(/*with_imds=*/false));
  EXPECT_EQ(error_code([&] { chain->credentials(); }), "aws_credentials_unavailable");
}

TEST_F(ChainTest, RoleChainAssumesEachRoleWithThePreviousCredentials) {
  write(aws("credentials"), "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = basesecret\n");
  write(aws("config"),
        "[profile hop]\nrole_arn = arn:aws:iam::111111111111:role/hop\nsource_profile = base\n"
        "[profile onboarding]\nrole_arn = arn:aws:iam::222222222222:role/byoc\nsource_profile = hop\n"
        "external_id = ext-42\nrole_session_name = operator\nduration_seconds = 900\n");
  env.vars = {{"AWS_PROFILE", "onboarding"}};
  Credentials c = default_credentials_chain(options())->credentials();
  ASSERT_EQ(sts.calls.size(), 2u);
  EXPECT_EQ(sts.calls[0].params.role_arn, "arn:aws:iam::111111111111:role/hop");
  EXPECT_EQ(sts.calls[0].params.session_name, "byoc-1800000000");  // named for byoc and the time
  EXPECT_EQ(sts.calls[0].params.external_id, "");
  EXPECT_EQ(sts.calls[0].caller.access_key_id, "AKIDBASE");
  EXPECT_EQ(sts.calls[1].params.role_arn, "arn:aws:iam::222222222222:role/byoc");
  EXPECT_EQ(sts.calls[1].params.external_id, "ext-42");
  EXPECT_EQ(sts.calls[1].params.session_name, "operator");
  EXPECT_EQ(sts.calls[1].params.duration, seconds(900));
  EXPECT_EQ(sts.calls[1].caller.access_key_id, "ASIA1");
  EXPECT_EQ(c.access_key_id, "ASIA2");
  EXPECT_NE(c.source.find("arn:aws:iam::222222222222:role/byoc"), std::string::npos);
}

TEST_F(ChainTest, RoleProfileWithoutStsIsAClearError) {
  write(aws("config"), "[default]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Ec2InstanceMetadata\n");
  ChainOptions o = options();
  o.sts = nullptr;
  std::string m = byoc::testing::error_message([&] { default_credentials_chain(o)->credentials(); });
  EXPECT_NE(m.find("no STS client"), std::string::npos) << m;
}

TEST_F(ChainTest, CredentialSourceEc2InstanceMetadata) {
  write(aws("config"), "[default]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Ec2InstanceMetadata\n");
  Credentials c = default_credentials_chain(options())->credentials();
  ASSERT_EQ(sts.calls.size(), 1u);
  EXPECT_EQ(sts.calls[0].caller.access_key_id, "ASIAIMDS");
  EXPECT_EQ(c.access_key_id, "ASIA1");
  env.vars["AWS_EC2_METADATA_DISABLED"] = "true";
  EXPECT_EQ(error_code([&] { default_credentials_chain(options())->credentials(); }), "aws_credentials_unavailable");
}

TEST_F(ChainTest, CredentialSourceEnvironmentWithExplicitProfile) {
  write(aws("config"), "[profile ci]\nrole_arn = arn:aws:iam::1:role/ci\ncredential_source = Environment\n");
  env.vars = {{"AWS_PROFILE", "ci"}, {"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}};
  Credentials c = default_credentials_chain(options())->credentials();
  ASSERT_EQ(sts.calls.size(), 1u);
  EXPECT_EQ(sts.calls[0].caller.access_key_id, "AKIDENV");
  EXPECT_EQ(c.access_key_id, "ASIA1");
}

TEST_F(ChainTest, WebIdentityFromEnvironmentRereadsTheToken) {
  fs::path token = home.path() / "token";
  write(token, "jwt-one\n");
  env.vars = {{"AWS_ROLE_ARN", "arn:aws:iam::1:role/pod"},
              {"AWS_WEB_IDENTITY_TOKEN_FILE", token.string()},
              {"AWS_ROLE_SESSION_NAME", "pod-session"}};
  auto chain = default_credentials_chain(options());
  Credentials c = chain->credentials();
  EXPECT_EQ(c.access_key_id, "ASIAWEB");
  ASSERT_EQ(sts.web_calls.size(), 1u);
  EXPECT_EQ(sts.web_calls[0].role_arn, "arn:aws:iam::1:role/pod");
  EXPECT_EQ(sts.web_calls[0].session_name, "pod-session");
  EXPECT_EQ(sts.web_calls[0].token, "jwt-one");
  EXPECT_TRUE(imds.requests.empty());

  // The kubelet rotates the token; the refresh (5 min before expiry) reads the new one.
  write(token, "jwt-two");
  clock.advance(minutes(50));
  chain->credentials();
  EXPECT_EQ(sts.web_calls.size(), 1u);
  clock.advance(minutes(6));
  chain->credentials();
  ASSERT_EQ(sts.web_calls.size(), 2u);
  EXPECT_EQ(sts.web_calls[1].token, "jwt-two");
}

TEST_F(ChainTest, WebIdentityTokenFileMissing) {
  env.vars = {{"AWS_ROLE_ARN", "arn:aws:iam::1:role/pod"},
              {"AWS_WEB_IDENTITY_TOKEN_FILE", (home.path() / "absent").string()}};
  auto chain = default_credentials_chain(options());
  EXPECT_EQ(error_code([&] { chain->credentials(); }), "aws_credentials_unavailable");
  EXPECT_TRUE(imds.requests.empty());  // a configured source failing is no reason to try the next
}

TEST_F(ChainTest, ProfileComesBeforeWebIdentity) {
  write(aws("credentials"), "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = filesecret\n");
  env.vars = {{"AWS_ROLE_ARN", "arn:aws:iam::1:role/pod"}, {"AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent"}};
  EXPECT_EQ(default_credentials_chain(options())->credentials().access_key_id, "AKIDFILE");
  EXPECT_TRUE(sts.web_calls.empty());
}

TEST_F(ChainTest, WebIdentityTokenFileIsCapped) {
  fs::path token = home.path() / "token";
  write(token, std::string(kMaxTokenFileBytes + 1, 'j'));
  env.vars = {{"AWS_ROLE_ARN", "arn:aws:iam::1:role/pod"}, {"AWS_WEB_IDENTITY_TOKEN_FILE", token.string()}};
  auto chain = default_credentials_chain(options());
  EXPECT_EQ(error_code([&] { chain->credentials(); }), "aws_credentials_unavailable");
  std::string m = byoc::testing::error_message([&] { chain->credentials(); });
  EXPECT_NE(m.find("larger than 64 KiB"), std::string::npos) << m;
  EXPECT_TRUE(sts.web_calls.empty());
  write(token, std::string(kMaxTokenFileBytes, 'j'));  // at the cap: sent
  EXPECT_EQ(chain->credentials().access_key_id, "ASIAWEB");
}

// On ECS or with EKS Pod Identity the container's own role must be used,
// never the node's (IMDS): the container endpoint comes before IMDS.
TEST_F(ChainTest, ContainerEndpointBeforeImds) {
  clock.set_unix_seconds(*parse_rfc3339("2027-01-15T07:00:00Z"));  // an hour before the answer's Expiration
  fs::path token = home.path() / "pod-identity-token";
  write(token, "token-one\n");
  env.vars = {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc?x=1"},
              {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token.string()},
              {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored: the file wins"}};
  auto chain = default_credentials_chain(options());
  Credentials c = chain->credentials();
  EXPECT_EQ(c.access_key_id, "ASIATASK");
  EXPECT_EQ(c.secret_access_key, "task-secret");
  EXPECT_EQ(c.session_token, "task-token");
  ASSERT_TRUE(c.expiration);
  EXPECT_EQ(*c.expiration, TimePoint(seconds(*parse_rfc3339("2027-01-15T08:00:00Z"))));
  EXPECT_TRUE(imds.requests.empty());
  ASSERT_EQ(container.requests.size(), 1u);
  EXPECT_EQ(container.requests[0].method, "GET");
  EXPECT_EQ(container.requests[0].url, "http://169.254.170.2/v2/credentials/abc?x=1");
  EXPECT_EQ(header_value(container.requests[0].headers, "Authorization"), "token-one");

  // The token file is read again at each refresh (it is rotated).
  write(token, "token-two");
  clock.set_unix_seconds(*parse_rfc3339("2027-01-15T07:56:00Z"));
  chain->credentials();
  ASSERT_EQ(container.requests.size(), 2u);
  EXPECT_EQ(header_value(container.requests[1].headers, "Authorization"), "token-two");
}

TEST_F(ChainTest, ContainerEndpointFullUriAndTokenVariable) {
  env.vars = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"},
              {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "static-token"}};
  EXPECT_EQ(default_credentials_chain(options())->credentials().access_key_id, "ASIATASK");
  ASSERT_EQ(container.requests.size(), 1u);
  EXPECT_EQ(container.requests[0].url, "http://169.254.170.23/v1/credentials");
  EXPECT_EQ(header_value(container.requests[0].headers, "Authorization"), "static-token");
  // Without a token, no Authorization header (ECS's relative URI needs none).
  env.vars = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:51679/creds"}};
  EXPECT_EQ(default_credentials_chain(options())->credentials().access_key_id, "ASIATASK");
  EXPECT_EQ(container.requests[1].headers.size(), 0u);
  // The relative URI wins over the full one.
  env.vars = {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/rel"},
              {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/full"}};
  default_credentials_chain(options())->credentials();
  EXPECT_EQ(container.requests[2].url, "http://169.254.170.2/rel");
}

TEST_F(ChainTest, ContainerFullUriMustNotSendTheTokenElsewhereInTheClear) {
  for (const char* bad : {"http://example.com/creds", "http://169.254.169.254/latest", "http://10.0.0.1/x",
                          "http://127.0.0.1.evil.com/x", "http://user@127.0.0.1/x", "ftp://127.0.0.1/x", "nonsense"}) {
    env.vars = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", bad}, {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok"}};
    try {
      default_credentials_chain(options())->credentials();
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "aws_container_credentials_invalid") << bad;
      EXPECT_EQ(e.field(), "AWS_CONTAINER_CREDENTIALS_FULL_URI") << bad;
      EXPECT_EQ(std::string(e.what()).find("tok\""), std::string::npos);
    }
  }
  EXPECT_TRUE(container.requests.empty());
  EXPECT_TRUE(imds.requests.empty());
  for (const char* ok : {"https://creds.example.com/x", "http://localhost:8080/x", "http://127.0.0.2/x",
                         "http://[::1]:80/x", "http://[fd00:ec2::23]/v1/credentials", "http://169.254.170.2/x"}) {
    env.vars = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", ok}};
    EXPECT_EQ(default_credentials_chain(options())->credentials().access_key_id, "ASIATASK") << ok;
  }
}

TEST_F(ChainTest, ContainerEndpointFailuresAreErrorsNotImds) {
  container.status = 500;
  env.vars = {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds"},
              {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", (home.path() / "absent").string()}};
  auto chain = default_credentials_chain(options());
  EXPECT_EQ(error_code([&] { chain->credentials(); }), "aws_credentials_unavailable");  // the token file
  env.vars.erase("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  env.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "sekrit\r\nX-Injected: 1";
  chain = default_credentials_chain(options());
  std::string m = byoc::testing::error_message([&] { chain->credentials(); });
  EXPECT_EQ(m.find("sekrit"), std::string::npos) << m;
  EXPECT_TRUE(container.requests.empty());
  env.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "sekrit";
  chain = default_credentials_chain(options());
  EXPECT_EQ(error_code([&] { chain->credentials(); }), "aws_container_credentials_unavailable");
  EXPECT_EQ(container.requests.size(), 2u);  // retried once
  EXPECT_EQ(byoc::testing::error_message([&] { chain->credentials(); }).find("sekrit"), std::string::npos);
  EXPECT_TRUE(imds.requests.empty());
}

TEST_F(ChainTest, CredentialSourceEcsContainer) {
  write(aws("config"), "[default]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = EcsContainer\n");
  std::string m = byoc::testing::error_message([&] { default_credentials_chain(options())->credentials(); });
  EXPECT_NE(m.find("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"), std::string::npos) << m;
  env.vars = {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds"}};
  Credentials c = default_credentials_chain(options())->credentials();
  ASSERT_EQ(sts.calls.size(), 1u);
  EXPECT_EQ(sts.calls[0].caller.access_key_id, "ASIATASK");
  EXPECT_EQ(c.access_key_id, "ASIA1");
}

TEST_F(ChainTest, ImdsLastWithTokenOnEveryRequest) {
  write(aws("config"), "[default]\nregion = us-east-1\n");  // a profile without credentials is passed over
  env.vars = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/"}};
  Credentials c = default_credentials_chain(options())->credentials();
  EXPECT_EQ(c.access_key_id, "ASIAIMDS");
  EXPECT_EQ(c.secret_access_key, "imds-secret");
  EXPECT_EQ(c.session_token, "imds-token");
  ASSERT_TRUE(c.expiration);
  EXPECT_EQ(*c.expiration, TimePoint(seconds(*parse_rfc3339("2027-01-15T08:00:00Z"))));
  ASSERT_EQ(imds.requests.size(), 3u);
  EXPECT_EQ(imds.requests[0].method, "PUT");
  EXPECT_EQ(imds.requests[0].url, "http://127.0.0.1:9/latest/api/token");
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(imds.requests[i].method, "GET");
    EXPECT_EQ(header_value(imds.requests[i].headers, "X-aws-ec2-metadata-token"), "TOKEN");
  }
  for (const auto& r : imds.requests) EXPECT_EQ(r.timeout, std::chrono::milliseconds(1000));
}

TEST_F(ChainTest, ImdsDisabled) {
  env.vars = {{"AWS_EC2_METADATA_DISABLED", "TRUE"}};
  auto chain = default_credentials_chain(options());
  EXPECT_EQ(error_code([&] { chain->credentials(); }), "aws_credentials_unavailable");
  EXPECT_NE(byoc::testing::error_message([&] { chain->credentials(); }).find("AWS_EC2_METADATA_DISABLED"), std::string::npos);
  EXPECT_TRUE(imds.requests.empty());
}

TEST_F(ChainTest, ImdsFailureIsRetriedOnTheNextCall) {
  imds.down = true;
  auto chain = default_credentials_chain(options());
  EXPECT_EQ(error_code([&] { chain->credentials(); }), "aws_credentials_unavailable");
  std::string m = byoc::testing::error_message([&] { chain->credentials(); });
  EXPECT_NE(m.find("no AWS credentials found"), std::string::npos) << m;
  imds.down = false;
  EXPECT_EQ(chain->credentials().access_key_id, "ASIAIMDS");
}

TEST(Imds, EndpointSelection) {
  FakeEnv env;
  EXPECT_EQ(imds_endpoint(env.lookup()), "http://169.254.169.254");
  env.vars["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"] = "IPv6";
  EXPECT_EQ(imds_endpoint(env.lookup()), "http://[fd00:ec2::254]");
  env.vars["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://10.0.0.1:8080/";
  EXPECT_EQ(imds_endpoint(env.lookup()), "http://10.0.0.1:8080");
  EXPECT_FALSE(imds_disabled(env.lookup()));
  env.vars["AWS_EC2_METADATA_DISABLED"] = "false";
  EXPECT_FALSE(imds_disabled(env.lookup()));
}

TEST(Imds, MalformedAnswersAreUnavailable) {
  FakeImds imds;
  imds.expiration = "tomorrow";
  auto provider = make_imds_provider(imds, "http://imds");
  EXPECT_EQ(error_code([&] { provider->credentials(); }), "aws_imds_unavailable");
  imds.expiration = "2027-01-15T08:00:00.123Z";  // fractional seconds are tolerated
  EXPECT_TRUE(provider->credentials().expiration);
}

// A provider that answers from a script, counting calls.
class ScriptedProvider final : public CredentialsProvider {
 public:
  explicit ScriptedProvider(const Clock& clock, std::optional<std::chrono::seconds> lifetime)
      : clock_(clock), lifetime_(lifetime) {}
  Credentials credentials() override {
    int n = ++calls;
    if (fail) throw Error::Unavailable("source down");
    Credentials c{"AKID" + std::to_string(n), "secret", "", std::nullopt, "scripted"};
    if (lifetime_) c.expiration = clock_.system_time() + *lifetime_;
    return c;
  }
  std::atomic<int> calls{0};
  std::atomic<bool> fail{false};

 private:
  const Clock& clock_;
  std::optional<std::chrono::seconds> lifetime_;
};

TEST(RefreshingProvider, LongTermCredentialsAreAskedOnce) {
  ManualClock clock;
  auto inner = std::make_unique<ScriptedProvider>(clock, std::nullopt);
  auto* scripted = inner.get();
  RefreshingProvider p(std::move(inner), clock);
  p.credentials();
  clock.advance(hours(100));
  EXPECT_EQ(p.credentials().access_key_id, "AKID1");
  EXPECT_EQ(scripted->calls, 1);
}

TEST(RefreshingProvider, RefreshesFiveMinutesBeforeExpiry) {
  ManualClock clock;
  auto inner = std::make_unique<ScriptedProvider>(clock, hours(1));
  auto* scripted = inner.get();
  RefreshingProvider p(std::move(inner), clock);
  EXPECT_EQ(p.credentials().access_key_id, "AKID1");
  clock.advance(minutes(54) + seconds(59));
  EXPECT_EQ(p.credentials().access_key_id, "AKID1");
  clock.advance(seconds(1));
  EXPECT_EQ(p.credentials().access_key_id, "AKID2");
  EXPECT_EQ(scripted->calls, 2);
}

TEST(RefreshingProvider, KeepsValidCredentialsWhenARefreshFails) {
  ManualClock clock;
  auto inner = std::make_unique<ScriptedProvider>(clock, hours(1));
  auto* scripted = inner.get();
  RefreshingProvider p(std::move(inner), clock);
  p.credentials();
  scripted->fail = true;
  clock.advance(minutes(57));
  EXPECT_EQ(p.credentials().access_key_id, "AKID1");  // still valid for 3 min: kept, a warning logged
  clock.advance(minutes(3));
  EXPECT_EQ(error_code([&] { p.credentials(); }), "unavailable");  // expired: the failure shows
  scripted->fail = false;
  EXPECT_EQ(p.credentials().access_key_id, "AKID4");
}

TEST(RefreshingProvider, ConcurrentCallersShareOneFetch) {
  ManualClock clock;
  auto inner = std::make_unique<ScriptedProvider>(clock, hours(1));
  auto* scripted = inner.get();
  RefreshingProvider p(std::move(inner), clock);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 100; ++j) EXPECT_EQ(p.credentials().access_key_id, "AKID1");
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(scripted->calls, 1);
}

// After a failed refresh, with the cached credentials still valid, the
// source is not asked again at every call (each would be a full STS call
// with its retries) but after a backoff.
TEST(RefreshingProvider, BacksOffAfterAFailedRefresh) {
  ManualClock clock;
  auto inner = std::make_unique<ScriptedProvider>(clock, hours(1));
  auto* scripted = inner.get();
  RefreshingProvider p(std::move(inner), clock);
  p.credentials();
  scripted->fail = true;
  clock.advance(minutes(56));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(p.credentials().access_key_id, "AKID1");
  EXPECT_EQ(scripted->calls, 2);
  clock.advance(seconds(29));
  EXPECT_EQ(p.credentials().access_key_id, "AKID1");
  EXPECT_EQ(scripted->calls, 2);
  clock.advance(seconds(1));
  EXPECT_EQ(p.credentials().access_key_id, "AKID1");
  EXPECT_EQ(scripted->calls, 3);
  // Within the last minute too, as long as they are valid.
  clock.advance(minutes(3) + seconds(10));
  EXPECT_EQ(p.credentials().access_key_id, "AKID1");
  EXPECT_EQ(p.credentials().access_key_id, "AKID1");
  EXPECT_EQ(scripted->calls, 4);
  scripted->fail = false;
  clock.advance(seconds(30));
  EXPECT_EQ(p.credentials().access_key_id, "AKID5");
  EXPECT_EQ(p.credentials().access_key_id, "AKID5");
  EXPECT_EQ(scripted->calls, 5);
}

// A provider whose refreshes (calls after the first) block until released.
class GatedProvider final : public CredentialsProvider {
 public:
  explicit GatedProvider(const Clock& clock) : clock_(clock) {}
  Credentials credentials() override {
    int n = ++calls;
    if (n > 1) {
      std::unique_lock<std::mutex> lock(mutex_);
      entered = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return released; });
    }
    return {"AKID" + std::to_string(n), "secret", "token", clock_.system_time() + hours(1), "gated"};
  }
  void wait_entered() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return entered; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    released = true;
    cv_.notify_all();
  }
  std::atomic<int> calls{0};

 private:
  const Clock& clock_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool entered = false;
  bool released = false;
};

// In the advisory window one caller refreshes; the others are served the
// still valid credentials meanwhile, not held up behind it.
TEST(RefreshingProvider, AdvisoryRefreshDoesNotHoldUpOtherCallers) {
  ManualClock clock;
  auto inner = std::make_unique<GatedProvider>(clock);
  auto* gated = inner.get();
  RefreshingProvider p(std::move(inner), clock);
  p.credentials();
  clock.advance(minutes(56));  // 4 minutes left: advisory
  auto refresher = std::async(std::launch::async, [&] { return p.credentials().access_key_id; });
  gated->wait_entered();
  auto other = std::async(std::launch::async, [&] { return p.credentials().access_key_id; });
  bool served = other.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  gated->release();
  EXPECT_TRUE(served) << "a caller waited for another's advisory refresh";
  EXPECT_EQ(other.get(), "AKID1");
  EXPECT_EQ(refresher.get(), "AKID2");
  EXPECT_EQ(p.credentials().access_key_id, "AKID2");
  EXPECT_EQ(gated->calls, 2);
}

// In the mandatory window callers wait for the one refresh and share it.
TEST(RefreshingProvider, MandatoryRefreshIsWaitedForAndShared) {
  ManualClock clock;
  auto inner = std::make_unique<GatedProvider>(clock);
  auto* gated = inner.get();
  RefreshingProvider p(std::move(inner), clock);
  p.credentials();
  clock.advance(minutes(59) + seconds(30));  // 30 s left: mandatory
  auto refresher = std::async(std::launch::async, [&] { return p.credentials().access_key_id; });
  gated->wait_entered();
  auto other = std::async(std::launch::async, [&] { return p.credentials().access_key_id; });
  EXPECT_EQ(other.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  gated->release();
  EXPECT_EQ(refresher.get(), "AKID2");
  EXPECT_EQ(other.get(), "AKID2");
  EXPECT_EQ(gated->calls, 2);
}

TEST(AssumeRoleProvider, AssumesWithTheSourceOnEveryCall) {
  ManualClock clock;
  FakeSts sts(clock);
  auto source = std::make_shared<ScriptedProvider>(clock, std::nullopt);
  AssumeRoleProvider p(source, sts, {"arn:aws:iam::3:role/onboard", "byoc-control-plane", "ext-9", seconds(1200)});
  EXPECT_EQ(p.credentials().access_key_id, "ASIA1");
  EXPECT_EQ(p.credentials().access_key_id, "ASIA2");
  ASSERT_EQ(sts.calls.size(), 2u);
  EXPECT_EQ(sts.calls[1].caller.access_key_id, "AKID2");
  EXPECT_EQ(sts.calls[1].params.external_id, "ext-9");
  EXPECT_EQ(sts.calls[1].params.duration, seconds(1200));
  sts.fail = true;
  EXPECT_EQ(error_code([&] { p.credentials(); }), "unavailable");
}

}  // namespace
}  // namespace byoc::aws
