// EksUpgradeControl's contract with EKS: for each operation the exact
// request it sends (method, path and query, content type, JSON body) through
// the real aws::Client to an in-process transport, its reading of answers as
// the EKS API reference shapes them, and its error mapping (throttling that
// outlasted the client's retries → Throttled, ResourceNotFoundException,
// ResourceInUseException). No network, no sleeping.
#include "cloud/aws/upgrade/eks_upgrade_control.h"

#include <gtest/gtest.h>

#include <deque>

#include "base/clock.h"

namespace byoc::aws {
namespace {

using nlohmann::json;
namespace up = plan::upgrade;

constexpr const char* kEndpoint = "https://eks.eu-west-1.amazonaws.com";

HttpResponse ok(const json& body) { return {200, {{"Content-Type", "application/json"}}, body.dump()}; }

HttpResponse aws_error(int status, const std::string& code, const std::string& message) {
  return {status,
          {{"Content-Type", "application/json"}, {"x-amzn-ErrorType", code}, {"x-amzn-RequestId", "req-1"}},
          json{{"message", message}}.dump()};
}

// EKS behind the Transport interface: answers in turn, every request kept.
class ScriptedEks final : public Transport {
 public:
  HttpResponse send(const TransportRequest& r) override {
    sent.push_back(r);
    if (answers.empty()) return aws_error(500, "ServerException", "no answer scripted");
    HttpResponse next = answers.front();
    if (answers.size() > 1) answers.pop_front();
    return next;
  }
  std::deque<HttpResponse> answers;
  std::vector<TransportRequest> sent;
};

// A node group as DescribeNodegroup answers (API_Nodegroup), made by
// CloudFormation (infra_eks.cc): AL2023, tainted for ClickHouse, stack tags.
json clickhouse_group(const std::string& name, const std::string& status) {
  return {{"nodegroupName", name},
          {"nodegroupArn", "arn:aws:eks:eu-west-1:123456789012:nodegroup/prod/" + name + "/0ec8"},
          {"clusterName", "prod"},
          {"version", "1.30"},
          {"releaseVersion", "1.30.4-20240917"},
          {"createdAt", 1726000000.123},
          {"modifiedAt", 1726000300},
          {"status", status},
          {"capacityType", "ON_DEMAND"},
          {"scalingConfig", {{"minSize", 3}, {"maxSize", 3}, {"desiredSize", 3}}},
          {"instanceTypes", {"m7g.2xlarge"}},
          {"subnets", {"subnet-0a1", "subnet-0b2", "subnet-0c3"}},
          {"amiType", "AL2023_ARM_64_STANDARD"},
          {"nodeRole", "arn:aws:iam::123456789012:role/byoc-prod-node"},
          {"labels", {{"byoc.io/profile", "m7g-2xlarge"}, {"byoc.io/pool", "clickhouse"}}},
          {"taints", {{{"key", "byoc.io/clickhouse"}, {"value", "true"}, {"effect", "NO_SCHEDULE"}}}},
          {"resources", {{"autoScalingGroups", {{{"name", "eks-" + name + "-0ec8"}}}}}},
          {"diskSize", 50},
          {"health", {{"issues", json::array()}}},
          {"updateConfig", {{"maxUnavailable", 1}}},
          {"tags",
           {{"byoc.io/environment", "prod"},
            {"aws:cloudformation:stack-name", "byoc-prod"},
            {"aws:cloudformation:logical-id", "NodegroupM7g2xlarge"}}}};
}

class EksUpgradeControlTest : public ::testing::Test {
 protected:
  EksUpgradeControlTest() : client(options()), control(client, "prod") {}

  ClientOptions options() {
    ClientOptions o;
    o.service = Service::kEks;
    o.region = "eu-west-1";
    o.env = [](std::string_view) { return std::optional<std::string>(); };
    o.transport = &eks;
    o.clock = &clock;
    o.jitter = [] { return 0.5; };
    o.sleep = [this](std::chrono::milliseconds d) { slept.push_back(d); };
    return o;
  }

  const TransportRequest& only_request() {
    EXPECT_EQ(eks.sent.size(), 1u);
    return eks.sent.back();
  }

  ScriptedEks eks;
  ManualClock clock{1'800'000'000};
  std::vector<std::chrono::milliseconds> slept;
  Client client;
  EksUpgradeControl control;
};

json body_of(const TransportRequest& r) { return json::parse(r.body); }

// `r` is `method` of the endpoint's `path`, with `body` as JSON or, null, none.
void expect_sent(const TransportRequest& r, const std::string& method, const std::string& path,
                 const json& body = nullptr) {
  EXPECT_EQ(r.method, method);
  EXPECT_EQ(r.url, std::string(kEndpoint) + path);
  if (body.is_null()) {
    EXPECT_EQ(r.body, "");
    return;
  }
  EXPECT_EQ(header_value(r.headers, "Content-Type"), "application/json");
  EXPECT_EQ(body_of(r), body);
}

TEST_F(EksUpgradeControlTest, DescribeClusterIsAGetOfTheClusterAndReadsNameVersionStatus) {
  eks.answers = {ok({{"cluster",
                      {{"name", "prod"},
                       {"arn", "arn:aws:eks:eu-west-1:123456789012:cluster/prod"},
                       {"createdAt", 1700000000},
                       {"version", "1.30"},
                       {"endpoint", "https://ABC.gr7.eu-west-1.eks.amazonaws.com"},
                       {"platformVersion", "eks.8"},
                       {"status", "UPDATING"}}}})};
  up::Cluster c = control.describe_cluster();
  EXPECT_EQ(c.name, "prod");
  EXPECT_EQ(c.version, "1.30");
  EXPECT_EQ(c.status, "UPDATING");
  expect_sent(only_request(), "GET", "/clusters/prod");
}

TEST_F(EksUpgradeControlTest, UpdateClusterVersionPostsVersionAndTokenAndReturnsTheUpdateId) {
  eks.answers = {ok({{"update",
                      {{"id", "b5f0ba18-9a87-4450-b5a0-825e6e84496f"},
                       {"status", "InProgress"},
                       {"type", "VersionUpdate"},
                       {"params", {{{"type", "Version"}, {"value", "1.31"}}, {{"type", "PlatformVersion"}, {"value", "eks.1"}}}},
                       {"createdAt", 1800000000},
                       {"errors", json::array()}}}})};
  EXPECT_EQ(control.update_cluster_version("1.31", "upg-7-cp-1.31"), "b5f0ba18-9a87-4450-b5a0-825e6e84496f");
  expect_sent(only_request(), "POST", "/clusters/prod/updates",
              {{"version", "1.31"}, {"clientRequestToken", "upg-7-cp-1.31"}});
}

TEST_F(EksUpgradeControlTest, ListNodegroupsFollowsNextTokenAcrossPages) {
  eks.answers = {ok({{"nodegroups", {"system", "m7g-2xlarge"}}, {"nextToken", "page/2=="}}),
                 ok({{"nodegroups", {"r7g-4xlarge"}}})};
  EXPECT_EQ(control.list_nodegroups(), (std::vector<std::string>{"system", "m7g-2xlarge", "r7g-4xlarge"}));
  ASSERT_EQ(eks.sent.size(), 2u);
  expect_sent(eks.sent[0], "GET", "/clusters/prod/node-groups");
  expect_sent(eks.sent[1], "GET", "/clusters/prod/node-groups?nextToken=page%2F2%3D%3D");
}

TEST_F(EksUpgradeControlTest, DescribeNodegroupReadsTheFieldsTheUpgraderUses) {
  eks.answers = {ok({{"nodegroup", clickhouse_group("m7g-2xlarge", "ACTIVE")}})};
  std::optional<up::Nodegroup> g = control.describe_nodegroup("m7g-2xlarge");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->nodegroupName, "m7g-2xlarge");
  EXPECT_EQ(g->version, "1.30");
  EXPECT_EQ(g->status, "ACTIVE");
  EXPECT_EQ(g->instanceTypes, std::vector<std::string>{"m7g.2xlarge"});
  EXPECT_EQ(g->desiredSize, 3);
  EXPECT_EQ(g->labels, (std::map<std::string, std::string>{{"byoc.io/profile", "m7g-2xlarge"}, {"byoc.io/pool", "clickhouse"}}));
  expect_sent(only_request(), "GET", "/clusters/prod/node-groups/m7g-2xlarge");
}

TEST_F(EksUpgradeControlTest, DescribeOfAGroupOrAddonThatIsGoneIsNothing) {
  eks.answers = {aws_error(404, "ResourceNotFoundException", "No node group found for name: old.")};
  EXPECT_EQ(control.describe_nodegroup("old"), std::nullopt);
  eks.answers = {aws_error(404, "ResourceNotFoundException", "No addon: vpc-cni found in cluster: prod")};
  EXPECT_EQ(control.describe_addon("vpc-cni"), std::nullopt);
  EXPECT_EQ(eks.sent.size(), 2u);  // a client error: never retried
}

TEST_F(EksUpgradeControlTest, CreateNodegroupCopiesTheReplacedGroupAndSendsTheUpgradersFields) {
  eks.answers = {ok({{"nodegroup", clickhouse_group("m7g-2xlarge", "ACTIVE")}}),
                 ok({{"nodegroup", clickhouse_group("m7g-2xlarge-1-31", "CREATING")}})};
  up::CreateNodegroupRequest request{"m7g-2xlarge-1-31", "1.31", {"m7g.2xlarge"}, 3,
                                     {{"byoc.io/profile", "m7g-2xlarge"}, {"byoc.io/pool", "clickhouse"}},
                                     "upg-7-create-m7g-2xlarge-1-31-1"};
  control.create_nodegroup(request);
  ASSERT_EQ(eks.sent.size(), 2u);
  expect_sent(eks.sent[0], "GET", "/clusters/prod/node-groups/m7g-2xlarge");
  expect_sent(eks.sent[1], "POST", "/clusters/prod/node-groups",
              json({{"nodegroupName", "m7g-2xlarge-1-31"},
                  {"version", "1.31"},
                  {"scalingConfig", {{"minSize", 3}, {"maxSize", 3}, {"desiredSize", 3}}},
                  {"subnets", {"subnet-0a1", "subnet-0b2", "subnet-0c3"}},
                  {"nodeRole", "arn:aws:iam::123456789012:role/byoc-prod-node"},
                  {"instanceTypes", {"m7g.2xlarge"}},
                  {"amiType", "AL2023_ARM_64_STANDARD"},
                  {"capacityType", "ON_DEMAND"},
                  {"diskSize", 50},
                  {"labels", {{"byoc.io/profile", "m7g-2xlarge"}, {"byoc.io/pool", "clickhouse"}}},
                  {"taints", {{{"key", "byoc.io/clickhouse"}, {"value", "true"}, {"effect", "NO_SCHEDULE"}}}},
                  {"tags", {{"byoc.io/environment", "prod"}}},  // aws:* are AWS's own: refused on create
                  {"updateConfig", {{"maxUnavailable", 1}}},
                  {"clientRequestToken", "upg-7-create-m7g-2xlarge-1-31-1"}}));
}

TEST_F(EksUpgradeControlTest, ARetriedCreateReusesTheTemplateAndTakesResourceInUseAsCreated) {
  eks.answers = {ok({{"nodegroup", clickhouse_group("m7g-2xlarge", "ACTIVE")}}),
                 aws_error(409, "ResourceInUseException", "NodeGroup already exists with name m7g-2xlarge-1-31 and cluster name prod")};
  up::CreateNodegroupRequest request{"m7g-2xlarge-1-31", "1.31", {"m7g.2xlarge"}, 3, {}, "tok-1"};
  control.create_nodegroup(request);
  request.clientRequestToken = "tok-2";
  control.create_nodegroup(request);
  ASSERT_EQ(eks.sent.size(), 3u);  // one DescribeNodegroup of the old group, two creates
  EXPECT_EQ(eks.sent[1].method, "POST");
  EXPECT_EQ(eks.sent[2].method, "POST");
  EXPECT_EQ(body_of(eks.sent[2])["clientRequestToken"], "tok-2");
}

TEST_F(EksUpgradeControlTest, ACreateWhoseOldGroupIsGoneOrUnnamedIsRefusedBeforeAnyCreate) {
  up::CreateNodegroupRequest request{"m7g-2xlarge-1-31", "1.31", {"m7g.2xlarge"}, 3, {}, "tok"};
  eks.answers = {aws_error(404, "ResourceNotFoundException", "No node group found for name: m7g-2xlarge.")};
  EXPECT_THROW(control.create_nodegroup(request), Error);
  request.nodegroupName = "m7g-2xlarge-new";
  EXPECT_THROW(control.create_nodegroup(request), Error);
  ASSERT_EQ(eks.sent.size(), 1u);
  EXPECT_EQ(eks.sent[0].method, "GET");
}

TEST_F(EksUpgradeControlTest, DeleteNodegroupIsADeleteAndAGroupAlreadyGoneIsDone) {
  eks.answers = {ok({{"nodegroup", clickhouse_group("m7g-2xlarge", "DELETING")}})};
  control.delete_nodegroup("m7g-2xlarge");
  eks.answers = {aws_error(404, "ResourceNotFoundException", "No node group found for name: m7g-2xlarge.")};
  control.delete_nodegroup("m7g-2xlarge");
  ASSERT_EQ(eks.sent.size(), 2u);
  for (const auto& r : eks.sent) expect_sent(r, "DELETE", "/clusters/prod/node-groups/m7g-2xlarge");
}

TEST_F(EksUpgradeControlTest, AddonsAreDescribedAndUpdatedWithAToken) {
  eks.answers = {ok({{"addon",
                      {{"addonName", "vpc-cni"},
                       {"clusterName", "prod"},
                       {"status", "ACTIVE"},
                       {"addonVersion", "v1.18.3-eksbuild.2"},
                       {"health", {{"issues", json::array()}}},
                       {"addonArn", "arn:aws:eks:eu-west-1:123456789012:addon/prod/vpc-cni/1"},
                       {"createdAt", 1726000000},
                       {"modifiedAt", 1726000300},
                       {"tags", json::object()}}}}),
                 ok({{"update", {{"id", "u-2"}, {"status", "InProgress"}, {"type", "AddonUpdate"}}}})};
  std::optional<up::Addon> a = control.describe_addon("vpc-cni");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->addonName, "vpc-cni");
  EXPECT_EQ(a->addonVersion, "v1.18.3-eksbuild.2");
  EXPECT_EQ(a->status, "ACTIVE");
  control.update_addon("vpc-cni", "v1.19.0-eksbuild.1", "upg-7-addon-vpc-cni");
  ASSERT_EQ(eks.sent.size(), 2u);
  expect_sent(eks.sent[0], "GET", "/clusters/prod/addons/vpc-cni");
  expect_sent(eks.sent[1], "POST", "/clusters/prod/addons/vpc-cni/update",
              {{"addonVersion", "v1.19.0-eksbuild.1"}, {"clientRequestToken", "upg-7-addon-vpc-cni"}});
}

TEST_F(EksUpgradeControlTest, ThrottlingThatOutlastsTheClientsRetriesIsThrottled) {
  eks.answers = {aws_error(429, "ThrottlingException", "Rate exceeded")};
  EXPECT_THROW(control.describe_cluster(), up::Throttled);
  EXPECT_EQ(eks.sent.size(), 3u);  // the client's standard retries first
  EXPECT_EQ(slept.size(), 2u);
  // A 429 with a code the retry layer doesn't know is still a throttle.
  eks.sent.clear();
  eks.answers = {aws_error(429, "SlowDownPlease", "")};
  EXPECT_THROW(control.list_nodegroups(), up::Throttled);
  eks.sent.clear();
  eks.answers = {aws_error(400, "TooManyRequestsException", "Too many requests")};
  EXPECT_THROW(control.delete_nodegroup("x"), up::Throttled);
}

TEST_F(EksUpgradeControlTest, OtherErrorsStayAwsErrors) {
  eks.answers = {aws_error(400, "InvalidParameterException", "Unsupported Kubernetes minor version update from 1.30 to 1.32")};
  try {
    control.update_cluster_version("1.32", "t");
    FAIL() << "no error";
  } catch (const AwsCallError& e) {
    EXPECT_EQ(e.aws().code, "InvalidParameterException");
    EXPECT_EQ(e.kind(), ErrorKind::kInvalid);
  }
  // An account limit is not a throttle, though the client retries it like one.
  eks.answers = {aws_error(400, "LimitExceededException", "node groups per cluster")};
  EXPECT_THROW(control.delete_nodegroup("x"), AwsCallError);
}

TEST(NodegroupTemplateTest, ALaunchTemplateGroupSendsItsTemplateAndNoDiskAndACustomAmiIsRefused) {
  json g = clickhouse_group("lt", "ACTIVE");
  g.erase("diskSize");
  g["launchTemplate"] = {{"name", "byoc-nodes"}, {"version", "3"}, {"id", "lt-0abc"}};
  NodegroupTemplate t = nodegroup_template_of(g);
  EXPECT_EQ(t.launchTemplate, json({{"id", "lt-0abc"}, {"version", "3"}}));
  json params = create_nodegroup_params("prod", t, {"lt-1-31", "1.31", {}, 2, {}, "tok"});
  EXPECT_FALSE(params.contains("diskSize"));
  EXPECT_FALSE(params.contains("instanceTypes"));
  EXPECT_EQ(params["launchTemplate"], json({{"id", "lt-0abc"}, {"version", "3"}}));
  g["amiType"] = "CUSTOM";
  EXPECT_THROW(nodegroup_template_of(g), Error);
}

// A ClickHouse group scaled to zero is replaced at zero nodes, with the
// least maximum EKS takes (1); the aws driver gives it its range back.
TEST(NodegroupTemplateTest, AReplacementOfAGroupAtZeroNodesMayGrowToOne) {
  NodegroupTemplate t = nodegroup_template_of(clickhouse_group("m7gd-xlarge", "ACTIVE"));
  json params = create_nodegroup_params("prod", t, {"m7gd-xlarge-1-32", "1.32", {}, 0, {}, "tok"});
  EXPECT_EQ(params["scalingConfig"], json({{"minSize", 0}, {"maxSize", 1}, {"desiredSize", 0}}));
  params = create_nodegroup_params("prod", t, {"m7gd-xlarge-1-32", "1.32", {}, 2, {}, "tok"});
  EXPECT_EQ(params["scalingConfig"], json({{"minSize", 2}, {"maxSize", 2}, {"desiredSize", 2}}));
}

TEST(NodegroupTemplateTest, AReplacementNamesTheGroupItReplaces) {
  EXPECT_EQ(replaced_nodegroup("system-1-31", "1.31"), "system");
  EXPECT_EQ(replaced_nodegroup("m7g-2xlarge-1-30-1-31", "1.31"), "m7g-2xlarge-1-30");
  EXPECT_EQ(replaced_nodegroup("system-1-31", "1.32"), std::nullopt);
  EXPECT_EQ(replaced_nodegroup("-1-31", "1.31"), std::nullopt);
}

}  // namespace
}  // namespace byoc::aws
