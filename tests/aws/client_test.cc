// The AWS client end to end over real HTTPS to a stand-in endpoint named by
// AWS_ENDPOINT_URL_<SERVICE> and trusted through a CA bundle: what it sends
// (signed, to the right URL, the protocol's form), what it makes of answers
// (results, errors with code, message and request id), and its retries —
// throttling and 5xx retried with backoff on the injected clock, the same
// idempotency token each time, client errors never retried.
#include "cloud/aws/client.h"

#include <gtest/gtest.h>

#include "cloud/aws/sts.h"
#include "fake_aws.h"
#include "testing/testing.h"

namespace byoc::aws {
namespace {
using namespace std::chrono_literals;
using byoc::testing::CannedResponse;
using byoc::testing::FakeAws;
using byoc::testing::RecordedRequest;

constexpr int64_t kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z

template <typename F>
std::optional<ErrorKind> kind_of_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  return std::nullopt;
}

class AwsClientTest : public ::testing::Test {
 protected:
  ClientOptions options(Service service) {
    ClientOptions o;
    o.service = service;
    o.region = "eu-west-1";
    o.env = [this](std::string_view name) -> std::optional<std::string> {
      if (name == "AWS_ENDPOINT_URL") return fake.url();
      return std::nullopt;
    };
    o.credentials = static_credentials({"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}, "test"});
    o.transport = transport.get();
    o.clock = &clock;
    o.jitter = [] { return 0.5; };
    o.sleep = [this](std::chrono::milliseconds d) {
      slept.push_back(d);
      clock.advance(d);
    };
    o.on_attempt = [this](const Attempt& a) { attempts.push_back(a); };
    return o;
  }

  FakeAws fake{nullptr};
  std::unique_ptr<Transport> transport = make_curl_transport(fake.ca_pem());
  ManualClock clock{kNow};
  std::vector<std::chrono::milliseconds> slept;
  std::vector<Attempt> attempts;
};

TEST_F(AwsClientTest, AQueryCallIsSignedFormEncodedAndItsResultParsed) {
  fake.set_handler([](const RecordedRequest&) {
    return byoc::testing::query_answer(
        "GetCallerIdentity",
        "<Arn>arn:aws:iam::123456789012:user/ops</Arn><UserId>AIDA1</UserId><Account>123456789012</Account>");
  });
  nlohmann::json r = Client(options(Service::kSts)).call("GetCallerIdentity");
  EXPECT_EQ(r["Account"], "123456789012");
  EXPECT_EQ(r["Arn"], "arn:aws:iam::123456789012:user/ops");
  auto sent = fake.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].target, "/");
  EXPECT_EQ(sent[0].body, "Action=GetCallerIdentity&Version=2011-06-15");
  EXPECT_EQ(sent[0].header("x-amz-date"), "20270115T080000Z");
  EXPECT_EQ(sent[0].header("host"), fake.url().substr(8));
  const std::string authz = sent[0].header("authorization");
  EXPECT_EQ(authz.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20270115/eu-west-1/sts/aws4_request, ", 0), 0u)
      << authz;
  EXPECT_NE(authz.find("SignedHeaders=content-type;host;"), std::string::npos) << authz;
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].operation, "GetCallerIdentity");
  EXPECT_EQ(attempts[0].status, 200);
}

// CreateStack's ClientRequestToken is left out here: the client fills it
// (the embedded model marks it an idempotency token), once for all attempts.
TEST_F(AwsClientTest, ThrottlingIsRetriedWithBackoffOnTheClockAndTheSameToken) {
  int calls = 0;
  fake.set_handler([&](const RecordedRequest&) {
    if (++calls < 3) return byoc::testing::query_error(400, "Throttling", "Rate exceeded");
    return byoc::testing::query_answer("CreateStack", "<StackId>arn:aws:cloudformation:eu-west-1:1:stack/s/1</StackId>",
                                       "http://cloudformation.amazonaws.com/doc/2010-05-15/");
  });
  nlohmann::json r = Client(options(Service::kCloudFormation))
                         .call("CreateStack", {{"StackName", "s"}, {"TemplateBody", "{}"}});
  EXPECT_EQ(r["StackId"], "arn:aws:cloudformation:eu-west-1:1:stack/s/1");
  EXPECT_EQ(slept, (std::vector<std::chrono::milliseconds>{500ms, 1000ms})) << "jitter 0.5 of 1 s, then of 2 s";
  auto sent = fake.requests();
  ASSERT_EQ(sent.size(), 3u);
  const std::string token = sent[0].form()["ClientRequestToken"];
  EXPECT_EQ(token.size(), 36u) << token;
  for (const auto& s : sent) EXPECT_EQ(s.form()["ClientRequestToken"], token);
  EXPECT_NE(sent[0].header("x-amz-date"), sent[2].header("x-amz-date")) << "each attempt is signed when it is sent";
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].error_code, "Throttling");
  EXPECT_EQ(attempts[2].number, 3);
}

TEST_F(AwsClientTest, AClientErrorIsNotRetriedAndCarriesCodeMessageAndRequestId) {
  fake.set_handler([](const RecordedRequest&) {
    return byoc::testing::query_error(400, "ValidationError", "Stack with id s does not exist");
  });
  try {
    Client(options(Service::kCloudFormation)).call("DescribeStacks", {{"StackName", "s"}});
    FAIL() << "no error";
  } catch (const AwsCallError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalid);
    EXPECT_EQ(e.aws().code, "ValidationError");
    EXPECT_EQ(e.aws().message, "Stack with id s does not exist");
    EXPECT_EQ(e.aws().request_id, "req-error");
    EXPECT_EQ(e.code(), "aws_ValidationError");
    EXPECT_NE(std::string(e.what()).find("CloudFormation DescribeStacks: ValidationError"), std::string::npos) << e.what();
  }
  EXPECT_EQ(fake.requests().size(), 1u);
  EXPECT_TRUE(slept.empty());
}

TEST_F(AwsClientTest, ALimitThatPersistsIsForTheOperatorNotForLater) {
  fake.set_handler([](const RecordedRequest&) {
    return byoc::testing::query_error(400, "LimitExceededException", "Limit for stacks reached");
  });
  try {
    Client(options(Service::kCloudFormation)).call("CreateStack", {{"StackName", "s"}});
    FAIL() << "no error";
  } catch (const AwsCallError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalid);
    EXPECT_EQ(e.code(), "aws_LimitExceededException");
  }
  EXPECT_EQ(fake.requests().size(), 3u) << "retried like throttling first";
}

TEST_F(AwsClientTest, AccessDeniedIsForbidden) {
  fake.set_handler([](const RecordedRequest&) {
    return byoc::testing::query_error(403, "AccessDenied", "User is not authorized to perform sts:AssumeRole");
  });
  EXPECT_EQ(byoc::testing::error_code([&] { Client(options(Service::kSts)).call("GetCallerIdentity"); }),
            "aws_AccessDenied");
}

TEST_F(AwsClientTest, ServerErrorsAreRetriedUpToTheLimitThenUnavailable) {
  fake.set_handler([](const RecordedRequest&) { return CannedResponse{503, {}, "busy"}; });
  try {
    Client(options(Service::kSts)).call("GetCallerIdentity");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnavailable);
  }
  EXPECT_EQ(fake.requests().size(), 3u);
  EXPECT_EQ(slept.size(), 2u);
}

TEST_F(AwsClientTest, NoAnswerIsRetriedThenUnavailable) {
  ClientOptions o = options(Service::kSts);
  o.env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "AWS_ENDPOINT_URL_STS") return "https://127.0.0.1:1";
    return std::nullopt;
  };
  EXPECT_EQ(kind_of_error([&] { Client(o).call("GetCallerIdentity"); }), ErrorKind::kUnavailable);
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].status, 0);
  EXPECT_EQ(attempts[0].url, "https://127.0.0.1:1/");
}

TEST_F(AwsClientTest, AssumeRoleSendsTheExternalIdAndGivesExpiringCredentials) {
  fake.set_handler([](const RecordedRequest&) {
    return byoc::testing::query_answer(
        "AssumeRole",
        "<Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>s3cr3t</SecretAccessKey>"
        "<SessionToken>tok</SessionToken><Expiration>2027-01-15T09:00:00Z</Expiration></Credentials>"
        "<AssumedRoleUser><Arn>arn:aws:sts::2:assumed-role/R/op-1</Arn><AssumedRoleId>AROA:op-1</AssumedRoleId>"
        "</AssumedRoleUser>");
  });
  Sts sts(options(Service::kSts));
  Credentials caller{"AKIDEXAMPLE", "secret", "", {}, "test"};
  Credentials c = sts.assume_role({"arn:aws:iam::2:role/R", "op-1", "ext-123", 900s}, caller);
  EXPECT_EQ(c.access_key_id, "ASIAX");
  EXPECT_EQ(c.session_token, "tok");
  ASSERT_TRUE(c.expiration.has_value());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(c.expiration->time_since_epoch()).count(), kNow + 3600);
  auto form = fake.requests().at(0).form();
  EXPECT_EQ(form["ExternalId"], "ext-123");
  EXPECT_EQ(form["RoleSessionName"], "op-1");
  EXPECT_EQ(form["DurationSeconds"], "900");
}

TEST_F(AwsClientTest, WebIdentityIsSentUnsigned) {
  fake.set_handler([](const RecordedRequest&) {
    return byoc::testing::query_answer(
        "AssumeRoleWithWebIdentity",
        "<Credentials><AccessKeyId>ASIAW</AccessKeyId><SecretAccessKey>w</SecretAccessKey>"
        "<SessionToken>t</SessionToken><Expiration>2027-01-15T09:00:00Z</Expiration></Credentials>");
  });
  Sts sts(options(Service::kSts));
  EXPECT_EQ(sts.assume_role_with_web_identity("arn:aws:iam::2:role/W", "byoc", "jwt.token").access_key_id, "ASIAW");
  auto sent = fake.requests().at(0);
  EXPECT_EQ(sent.header("authorization"), "");
  EXPECT_EQ(sent.form()["WebIdentityToken"], "jwt.token");
}

TEST_F(AwsClientTest, RestJsonAndJsonServicesGoTheirOwnWay) {
  fake.set_handler([](const RecordedRequest& r) -> CannedResponse {
    if (r.method == "GET")
      return {200, {{"Content-Type", "application/json"}},
              R"({"cluster":{"name":"byoc-x","endpoint":"https://ABC.gr7.eu-west-1.eks.amazonaws.com","status":"ACTIVE","createdAt":1.8E9,"certificateAuthority":{"data":"LS0t"}}})"};
    return {200, {{"Content-Type", "application/x-amz-json-1.1"}},
            R"({"Quota":{"QuotaCode":"L-1216C47A","Value":64.0,"ServiceCode":"ec2"}})"};
  });
  nlohmann::json cluster = Client(options(Service::kEks)).call("DescribeCluster", {{"name", "byoc-x"}});
  EXPECT_EQ(cluster["cluster"]["status"], "ACTIVE");
  EXPECT_EQ(cluster["cluster"]["createdAt"], 1800000000);
  nlohmann::json quota = Client(options(Service::kServiceQuotas))
                             .call("GetServiceQuota", {{"ServiceCode", "ec2"}, {"QuotaCode", "L-1216C47A"}});
  EXPECT_EQ(quota["Quota"]["Value"], 64.0);
  auto sent = fake.requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].target, "/clusters/byoc-x");
  EXPECT_NE(sent[0].header("authorization").find("/eu-west-1/eks/aws4_request"), std::string::npos);
  EXPECT_EQ(sent[1].header("x-amz-target"), "ServiceQuotasV20190624.GetServiceQuota");
  EXPECT_EQ(nlohmann::json::parse(sent[1].body), (nlohmann::json{{"ServiceCode", "ec2"}, {"QuotaCode", "L-1216C47A"}}));
  EXPECT_NE(sent[1].header("authorization").find("/eu-west-1/servicequotas/aws4_request"), std::string::npos);
}

TEST_F(AwsClientTest, ParametersThatDontFitTheModelAreRefusedBeforeAnythingIsSent) {
  EXPECT_EQ(kind_of_error([&] { Client(options(Service::kCloudFormation)).call("CreateStack", {{"Nope", 1}}); }),
            ErrorKind::kInvalid);
  EXPECT_EQ(kind_of_error([&] { Client(options(Service::kCloudFormation)).call("CreateStack", {{"StackName", 7}}); }),
            ErrorKind::kInvalid);
  EXPECT_EQ(kind_of_error([&] { Client(options(Service::kCloudFormation)).call("CreateStack", nlohmann::json::object()); }),
            ErrorKind::kInvalid)
      << "StackName is required";
  EXPECT_TRUE(fake.requests().empty());
}

}  // namespace
}  // namespace byoc::aws
