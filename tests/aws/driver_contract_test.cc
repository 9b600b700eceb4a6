// The aws driver's contract, end to end: a real `byoc server` process drives
// an aws environment through a stand-in AWS (FakeAws: a local HTTPS
// endpoint named by AWS_ENDPOINT_URL_<SERVICE> and trusted through AWS_CA_BUNDLE,
// answering in the services' official shapes) — the customer's access
// check, CreateStack, the stack's progress, the agent's install through
// the cluster's Kubernetes API (a stand-in EKS API server), a real
// `byoc agent` joining with the token that install carried, DeleteStack —
// and the test holds it to:
//   - the node groups made through the EKS API once the stack is complete
//     (not by the stack), the agent installed once they are there, a new
//     instance type's group made, the upgrader's replacements given their
//     range back, a dropped type's empty group deleted, every group deleted
//     before the stack;
//   - the exact sequence of calls, each carrying every member its
//     operation's model marks required;
//   - every signature verifying with AWS's own JavaScript signer (the EKS
//     bearer tokens, presigned, too);
//   - every call made as the customer's role allowed by the onboarding
//     policy byoc gives the customer (and nothing else needed);
//   - kill -9 right after CreateStack is taken, before the server records
//     anything of it: after restart there is still one stack;
//   - a stack that rolls back: the environment ends FAILED with the
//     failing resource and CloudFormation's reason.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "base/files.h"
#include "base/process.h"
#include "cloud/aws/models.h"
#include "cloud/aws/model.h"
#include "cloud/aws/templates/vendor_actions.h"
#include "fake_aws.h"
#include "stand_in_account.h"
#include "stand_in_cloudformation.h"
#include "stand_in_cluster.h"
#include "../server/server_process.h"
#include "testing/testing.h"

namespace byoc::aws {
namespace {
using namespace std::chrono_literals;
using byoc::testing::CannedResponse;
using byoc::testing::FakeAws;
using byoc::testing::RecordedRequest;
using nlohmann::json;

constexpr const char* kPlaneKey = "AKIAPLANE";
constexpr const char* kRoleKey = "ASIAROLE";  // what the stand-in's AssumeRole hands out

// A request's credential scope: date, region, service.
std::vector<std::string> scope(const RecordedRequest& r) {
  std::string authz = r.header("authorization");
  std::vector<std::string> parts;
  for (size_t start = authz.find('/') + 1, slash; (slash = authz.find('/', start)) != std::string::npos; start = slash + 1)
    parts.push_back(authz.substr(start, slash - start));
  parts.resize(3);
  return parts;
}
// "cloudformation", "sts"…: the signing service.
std::string signing_service(const RecordedRequest& r) { return scope(r)[2]; }

// The operation of a request: its Action or X-Amz-Target, or for EKS's
// REST API, its path.
std::string operation(const RecordedRequest& r) {
  if (!r.action().empty()) return r.action();
  if (r.target.find("/node-groups") != std::string::npos) {
    if (r.method == "DELETE") return "DeleteNodegroup";
    if (r.method == "POST") return r.target.find("/update-config") != std::string::npos ? "UpdateNodegroupConfig" : "CreateNodegroup";
    return r.target.find("/node-groups/") != std::string::npos ? "DescribeNodegroup" : "ListNodegroups";
  }
  if (r.method == "GET" && r.target.rfind("/clusters/", 0) == 0) return "DescribeCluster";
  if (r.method == "GET" && r.target.rfind("/clusters", 0) == 0) return "ListClusters";
  return "";
}

std::string call_name(const RecordedRequest& r) {
  if (byoc::testing::is_kubernetes_request(r)) return "kubernetes:" + r.method;
  return signing_service(r) + ":" + operation(r);
}

std::string access_key(const RecordedRequest& r) {
  std::string authz = r.header("authorization");
  auto at = authz.find("Credential=");
  return at == std::string::npos ? "" : authz.substr(at + 11, authz.find('/', at) - at - 11);
}

Service service_of(const std::string& signing) {
  static const std::map<std::string, Service> by_name = {
      {"sts", Service::kSts}, {"iam", Service::kIam}, {"cloudformation", Service::kCloudFormation},
      {"ec2", Service::kEc2}, {"eks", Service::kEks}, {"servicequotas", Service::kServiceQuotas}};
  return by_name.at(signing);
}

class AwsDriverContract : public ::testing::Test {
 protected:
  AwsDriverContract() {
    account.denied_action = "";
    account.vpcs_in_use = 0;
    account.offered_type = "m7gd.xlarge";
    cluster = std::make_unique<byoc::testing::StandInCluster>("byoc-prod", fake.url(), fake.ca_pem());
    files::write_atomic(scratch.path() / "aws-ca.pem", fake.ca_pem(), 0600);
    // Each service named on its own, as an operator points the AWS CLI at
    // private endpoints (the stand-in answers them all).
    server.set_extra_env({{"AWS_ENDPOINT_URL_STS", fake.url()},
                          {"AWS_ENDPOINT_URL_IAM", fake.url()},
                          {"AWS_ENDPOINT_URL_CLOUDFORMATION", fake.url()},
                          {"AWS_ENDPOINT_URL_EC2", fake.url()},
                          {"AWS_ENDPOINT_URL_EKS", fake.url()},
                          {"AWS_ENDPOINT_URL_SERVICE_QUOTAS", fake.url()},
                          {"AWS_CA_BUNDLE", (scratch.path() / "aws-ca.pem").string()},
                          {"AWS_ACCESS_KEY_ID", kPlaneKey},
                          {"AWS_SECRET_ACCESS_KEY", "plane-secret"},
                          {"AWS_EC2_METADATA_DISABLED", "true"},
                          {"AWS_CONFIG_FILE", (scratch.path() / "none").string()},
                          {"AWS_SHARED_CREDENTIALS_FILE", (scratch.path() / "none").string()},
                          {"BYOC_AWS_MANAGEMENT_ACCOUNT", "111122223333"},
                          {"BYOC_AWS_API_ALLOWED_CIDRS", "203.0.113.0/24"},
                          {"BYOC_AWS_STACK_POLL_SECONDS", "0.1"},
                          {"BYOC_AWS_CHECK_SECONDS", "0.2"},
                          {"BYOC_AGENT_IMAGE", "registry.example.com/byoc/agent:1.0"}});
    server.start();
  }

  json create_environment() {
    auto [status, op] = server.call("POST", "/v1/environments",
                                    {{"name", "prod"},
                                     {"cloud", "aws"},
                                     {"region", "eu-west-1"},
                                     {"cidr", "10.0.0.0/16"},
                                     {"zones", {"a", "b"}},
                                     {"instance_types", {"m7gd.xlarge"}},
                                     {"account", {{"account_id", "123456789012"}}}});
    EXPECT_EQ(status, 202) << op;
    return op;
  }
  json environment() { return server.call("GET", "/v1/environments/prod").second; }
  bool environment_is(const std::string& state) { return environment().value("state", "") == state; }
  std::vector<RecordedRequest> calls() { return fake.requests(); }

  byoc::testing::StandInAccount account;
  byoc::testing::StandInCloudFormation cloudformation;
  std::unique_ptr<byoc::testing::StandInCluster> cluster;  // made once the stand-in's URL is known
  FakeAws fake{[this](const RecordedRequest& r) -> CannedResponse {
    if (auto answer = cloudformation(r)) return *answer;
    if (cluster)
      if (auto answer = (*cluster)(r)) return *answer;
    return account(r);
  }};
  byoc::testing::TempDir scratch;
  test::ServerProcess server{scratch.path() / "server", proc::pick_free_port()};
};

TEST_F(AwsDriverContract, CreatesAndDeletesTheStackThroughTheCustomersRoleWithSignedWellFormedAllowedCalls) {
  json op = create_environment();
  ASSERT_TRUE(byoc::testing::eventually([&] { return cloudformation.created() == 1; }, 60s)) << environment();
  // The stack completes; the plane installs the agent through the
  // cluster's API; a real agent joins with the token the install carried.
  ASSERT_TRUE(byoc::testing::eventually(
      [&] { return cluster->objects().count("/apis/apps/v1/namespaces/byoc-system/deployments/byoc-agent") > 0; },
      60s))
      << environment();
  auto objects = cluster->objects();
  // With the kubernetes runtime's RBAC, the agent's Service and its NetworkPolicy.
  ASSERT_EQ(objects.size(), 13u);
  EXPECT_EQ(objects.count("/apis/networking.k8s.io/v1/namespaces/byoc-system/networkpolicies/byoc-agent"), 1u);
  for (std::string ns : {"byoc-system", "byoc-services"})
    EXPECT_EQ(objects["/api/v1/namespaces/" + ns]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
              "restricted")
        << ns;
  json deployment = objects["/apis/apps/v1/namespaces/byoc-system/deployments/byoc-agent"];
  json secret = objects["/api/v1/namespaces/byoc-system/secrets/byoc-agent-join"];
  EXPECT_EQ(deployment["spec"]["template"]["spec"]["containers"][0]["image"], "registry.example.com/byoc/agent:1.0");
  EXPECT_EQ(deployment.dump().find(secret["stringData"]["join-token"].get<std::string>()), std::string::npos)
      << "the token is in the Secret only";
  json args = deployment["spec"]["template"]["spec"]["containers"][0]["args"];
  std::string servers;
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--server") servers = args[i + 1];
  EXPECT_EQ(servers, server.url());
  // The kubernetes runtime is told the environment's network. (The agent
  // started below runs the default runtime: only its --server and token
  // come from the Deployment.)
  const json tail = json::array({"--runtime", "kubernetes", "--runtime-option", "environment-cidr=10.0.0.0/16"});
  ASSERT_GE(args.size(), tail.size());
  EXPECT_EQ(json(std::vector<json>(args.end() - tail.size(), args.end())), tail) << args;
  files::write_atomic(scratch.path() / "join.token", secret["stringData"]["join-token"].get<std::string>(), 0600);
  auto agent = std::make_unique<e2e::Child>(
      std::vector<std::string>{"agent", "--state-dir", (scratch.path() / "agent").string(), "--server", servers,
                               "--join-token-file", (scratch.path() / "join.token").string()},
      std::map<std::string, std::string>{{"HOME", scratch.path().string()}}, scratch.path() / "agent-out");
  ASSERT_TRUE(byoc::testing::eventually([&] { return environment_is("READY"); }, 60s)) << environment() << agent->err();
  json done = server.wait_operation(op["id"]);
  EXPECT_EQ(done["status"], "succeeded") << done;
  json env = environment();
  EXPECT_EQ(env["account"]["role_arn"], "arn:aws:iam::123456789012:role/ByocManagementRole");
  EXPECT_EQ(env["account"]["external_id"].get<std::string>().rfind("byoc-", 0), 0u);
  // The install was audited in the environment's own log.
  json audit = server.call("GET", "/v1/environments/prod/audit").second;
  int installs = 0, group_calls = 0;
  for (const auto& e : audit["items"])
    if (e["entry"].is_object() && e["entry"].value("type", "") == "cloud_access") {
      const std::string action = e["entry"]["detail"].value("action", "");
      installs += action == "install_agent";
      group_calls += action == "node_groups";
      EXPECT_TRUE(action == "install_agent" || action == "node_groups") << e;
      EXPECT_EQ(e["entry"]["detail"]["cluster"], "byoc-prod");
      EXPECT_EQ(e["entry"]["detail"]["role_arn"], "arn:aws:iam::123456789012:role/ByocManagementRole");
      EXPECT_EQ(e["entry"].dump().find(secret["stringData"]["join-token"].get<std::string>()), std::string::npos);
    }
  EXPECT_EQ(installs, 1) << audit;
  EXPECT_EQ(group_calls, 2) << "each creation recorded: " << audit;
  // The groups: made after the stack, through EKS, as the driver's.
  std::vector<json> made = cluster->creations();
  ASSERT_EQ(made.size(), 2u);
  EXPECT_EQ(made[0]["nodegroupName"], "system");
  EXPECT_EQ(made[0]["labels"]["byoc.io/role"], "system");
  EXPECT_EQ(made[0]["scalingConfig"], json::parse(R"({"minSize":3,"maxSize":6,"desiredSize":3})"));
  EXPECT_EQ(made[1]["nodegroupName"], "m7gd-xlarge");
  EXPECT_EQ(made[1]["labels"]["byoc.io/instance-type"], "m7gd.xlarge");
  EXPECT_EQ(made[1]["taints"][0]["key"], "byoc.io/clickhouse");
  for (const auto& body : made) {
    // In the stack's private subnets, with the onboarding stack's node role.
    EXPECT_EQ(body["subnets"], json::parse(R"(["subnet-0a000001","subnet-0a000002"])"));
    EXPECT_EQ(body["nodeRole"], "arn:aws:iam::123456789012:role/byoc/ByocManagementRole-EksNode");
    EXPECT_EQ(body["tags"]["byoc"], "true");
    EXPECT_EQ(body["tags"]["byoc-environment"], env["id"]);
    EXPECT_FALSE(body.contains("version")) << "the cluster's";
  }
  EXPECT_EQ(cloudformation.stacks()[0].template_body.find("AWS::EKS::Nodegroup"), std::string::npos);
  agent->stop(30s);
  agent.reset();

  // A new node type: its group is made under a new token (the stack is as
  // it was), and the environment is READY again.
  auto [patched, patched_env] =
      server.call("PATCH", "/v1/environments/prod", {{"instance_types", {"m7gd.xlarge", "r7gd.xlarge"}}});
  ASSERT_EQ(patched, 200) << patched_env;
  ASSERT_TRUE(byoc::testing::eventually([&] { return cluster->nodegroups().count("r7gd-xlarge") > 0; }, 60s))
      << environment();
  ASSERT_TRUE(byoc::testing::eventually([&] { return environment_is("READY"); }, 60s)) << environment();
  EXPECT_EQ(cloudformation.stacks()[0].status, "CREATE_COMPLETE") << "no stack update";

  // An upgrade replaced two groups (named otherwise, made min = max): the
  // next look gives them their range back, and makes nothing.
  for (const auto& [old_name, replacement] :
       std::vector<std::pair<std::string, std::string>>{{"system", "system-1-32"}, {"m7gd-xlarge", "m7gd-xlarge-1-32"}}) {
    json g = cluster->nodegroups().at(old_name);
    const int nodes = g["scalingConfig"]["desiredSize"];
    g["nodegroupName"] = replacement;
    g["version"] = "1.32";
    g["scalingConfig"] = {{"minSize", nodes}, {"maxSize", std::max(nodes, 1)}, {"desiredSize", nodes}};
    g["status"] = "ACTIVE";
    cluster->drop_nodegroup(old_name);
    cluster->put_nodegroup(g);
  }
  ASSERT_TRUE(byoc::testing::eventually([&] { return cluster->config_updates().size() == 2; }, 60s)) << environment();
  ASSERT_TRUE(byoc::testing::eventually([&] { return environment_is("READY"); }, 60s)) << environment();
  // r7gd.xlarge dropped: its group, which has no node, goes.
  auto [narrowed, narrowed_env] = server.call("PATCH", "/v1/environments/prod", {{"instance_types", {"m7gd.xlarge"}}});
  ASSERT_EQ(narrowed, 200) << narrowed_env;
  ASSERT_TRUE(byoc::testing::eventually([&] { return cluster->nodegroups().count("r7gd-xlarge") == 0; }, 60s))
      << environment();
  ASSERT_TRUE(byoc::testing::eventually([&] { return environment_is("READY"); }, 60s)) << environment();
  EXPECT_EQ(cluster->creations().size(), 3u) << "the replacements are the same groups";
  std::map<std::string, json> rescaled;
  for (const auto& u : cluster->config_updates()) rescaled[u["nodegroupName"]] = u["scalingConfig"];
  // The range only: the size is whatever scales the group's.
  EXPECT_EQ(rescaled["system-1-32"], json::parse(R"({"minSize":3,"maxSize":6})"));
  EXPECT_EQ(rescaled["m7gd-xlarge-1-32"], json::parse(R"({"minSize":0,"maxSize":6})"));
  EXPECT_EQ(rescaled.size(), 2u);

  // Every group goes before the stack (EKS deletes no cluster with one).
  auto [deleted, delete_op] = server.call("DELETE", "/v1/environments/prod");
  ASSERT_EQ(deleted, 202) << delete_op;
  ASSERT_TRUE(byoc::testing::eventually([&] { return server.call("GET", "/v1/environments/prod").first == 404; }, 60s));
  ASSERT_EQ(cloudformation.stacks().size(), 1u);
  EXPECT_EQ(cloudformation.stacks()[0].status, "DELETE_COMPLETE");

  // The sequence: the access check (AssumeRole with the ExternalId, then
  // read-only pre-flight calls as the role), then, as the role under a
  // session named after the create action: find no stack, create it, look
  // until complete; then, under the delete action's session: delete, look
  // until gone.
  std::vector<RecordedRequest> log = calls();
  // The check's calls end where the first session not named byoc-check-… begins.
  size_t provision_from = log.size();
  for (size_t i = 0; i < log.size() && provision_from == log.size(); ++i)
    if (log[i].action() == "AssumeRole" && log[i].form()["RoleSessionName"].rfind("byoc-check-", 0) != 0)
      provision_from = i;
  ASSERT_LT(provision_from, log.size());
  ASSERT_GT(provision_from, 0u);
  EXPECT_EQ(call_name(log[0]), "sts:AssumeRole");
  for (size_t i = 0; i < provision_from; ++i) {
    std::string name = call_name(log[i]);
    EXPECT_TRUE(name == "sts:AssumeRole" || name == "sts:GetCallerIdentity" || name.rfind("iam:Simulate", 0) == 0 ||
                name.rfind("ec2:Describe", 0) == 0 || name.rfind("servicequotas:Get", 0) == 0 ||
                name == "eks:ListClusters")
        << "the check changes nothing: " << name;
  }
  // Looks (at the stack, the cluster, the agent's Deployment) repeat as
  // long as the work takes: a run of them is one step of the contract.
  std::vector<std::string> provision;
  for (size_t i = provision_from; i < log.size(); ++i) {
    std::string name = call_name(log[i]);
    if (name == "cloudformation:DescribeStacks" || name == "cloudformation:DescribeStackEvents" ||
        name == "eks:DescribeCluster" || name == "kubernetes:GET" || name == "eks:ListNodegroups" ||
        name == "eks:DescribeNodegroup")
      name = "look";
    if ((name == "look" || name == "kubernetes:PATCH") && !provision.empty() && provision.back() == name) continue;
    provision.push_back(name);
  }
  const std::vector<std::string> expected = {
      "sts:AssumeRole", "look",  // under the environment's session: no stack yet
      "sts:AssumeRole", "cloudformation:CreateStack", "look",  // under the create action's session
      "sts:AssumeRole", "look", "eks:CreateNodegroup", "eks:CreateNodegroup", "look",  // the groups, under theirs
      "sts:AssumeRole", "look", "kubernetes:PATCH", "look",   // the agent's install, under its own action's
      "sts:AssumeRole", "look", "eks:CreateNodegroup", "look",  // a new node type, under the update's
      "sts:AssumeRole", "look", "eks:UpdateNodegroupConfig", "eks:UpdateNodegroupConfig", "look",  // an upgrade's
      "sts:AssumeRole", "look", "eks:DeleteNodegroup", "look",                                     // a type dropped
      "sts:AssumeRole", "look", "eks:DeleteNodegroup", "eks:DeleteNodegroup",  // under the delete action's:
      "look", "cloudformation:DeleteStack", "look"};  // the groups, gone, then the stack
  EXPECT_EQ(provision, expected) << ::testing::PrintToString(provision);
  std::vector<std::string> deleted_groups = cluster->deletions();
  EXPECT_EQ(deleted_groups, (std::vector<std::string>{"r7gd-xlarge", "m7gd-xlarge-1-32", "system-1-32"}));
  // The stack was deleted once the cluster held no group.
  ASSERT_FALSE(cluster->listed().empty());
  EXPECT_EQ(cluster->listed().back(), std::vector<std::string>{});

  std::set<std::string> create_tokens, update_tokens, delete_tokens, role_sessions;
  json signer_input = json::array();
  int kube_calls = 0;
  for (const auto& r : log) {
    if (byoc::testing::is_kubernetes_request(r)) {
      // An EKS bearer token: the role's presigned GetCallerIdentity, naming the cluster.
      ++kube_calls;
      std::string bearer = r.header("authorization");
      ASSERT_EQ(bearer.rfind("Bearer ", 0), 0u) << bearer;
      std::optional<std::string> url = byoc::testing::eks_token_url(bearer.substr(7));
      ASSERT_TRUE(url.has_value()) << bearer;
      const std::string origin = fake.url();
      ASSERT_EQ(url->rfind(origin + "/?", 0), 0u) << *url;
      EXPECT_NE(url->find("X-Amz-Credential=" + std::string(kRoleKey)), std::string::npos) << *url;
      signer_input.push_back({{"method", "GET"},
                              {"target", url->substr(origin.size())},
                              {"headers", {{"host", origin.substr(8)}, {"x-k8s-aws-id", "byoc-prod"}}},
                              {"body", ""},
                              {"region", "eu-west-1"},
                              {"service", "sts"},
                              {"presigned", true},
                              {"credentials", {{"accessKeyId", kRoleKey}, {"secretAccessKey", "rs"}, {"sessionToken", "rt"}}}});
      continue;
    }
    auto form = r.form();
    const std::string service = signing_service(r), action = operation(r);
    // Required members, as the operation's model marks them.
    const json& op_model = model_of(service_of(service)).operation(action);
    if (op_model.contains("input")) {
      const json& input = model_of(service_of(service)).shape(op_model["input"]["shape"].get<std::string>());
      for (const auto& member : input.value("required", json::array())) {
        std::string m = member.get<std::string>();
        if (service == "eks") continue;  // REST: its members are in the path and query
        bool present = r.header("x-amz-target").empty()
                           ? std::any_of(form.begin(), form.end(), [&](const auto& kv) {
                               return kv.first == m || kv.first.rfind(m + ".", 0) == 0;
                             })
                           : json::parse(r.body).contains(m);
        EXPECT_TRUE(present) << service << ":" << action << " lacks " << m;
      }
    }
    if (action == "CreateStack") create_tokens.insert(form["ClientRequestToken"]);
    if (action == "DeleteStack") delete_tokens.insert(form["ClientRequestToken"]);
    if (action == "CreateNodegroup") {
      const json body = json::parse(r.body);
      EXPECT_FALSE(body.value("clientRequestToken", "").empty()) << "a repeat is the same creation";
    }
    if (action == "UpdateStack") {
      update_tokens.insert(form["ClientRequestToken"]);
      // The cluster keeps the version it was made with: the upgrader moves it, never the stack.
      EXPECT_EQ(form["Parameters.member.1.ParameterKey"], "KubernetesVersion");
      EXPECT_EQ(form["Parameters.member.1.UsePreviousValue"], "true");
    }
    if (action == "AssumeRole") {
      EXPECT_EQ(access_key(r), kPlaneKey) << "the plane assumes the role with its own credentials";
      EXPECT_EQ(form["RoleArn"], "arn:aws:iam::123456789012:role/ByocManagementRole");
      EXPECT_EQ(form["ExternalId"], env["account"]["external_id"]);
      role_sessions.insert(form["RoleSessionName"]);
    } else {
      EXPECT_EQ(access_key(r), kRoleKey) << service << ":" << action << " is the customer's role's";
      // The onboarding policy the customer deployed allows it.
      std::string iam_action = service + ":" + action;
      std::string group = r.target.substr(0, r.target.find("/update-config"));
      group = group.substr(group.rfind('/') + 1);
      std::string resource = service == "cloudformation"
                                 ? "arn:aws:cloudformation:eu-west-1:123456789012:stack/byoc-prod/1e2b"
                             : service == "eks" && (action == "DescribeCluster" || action == "ListNodegroups" ||
                                                    action == "CreateNodegroup")
                                 ? "arn:aws:eks:eu-west-1:123456789012:cluster/byoc-prod"
                             : service == "eks" && action.find("Nodegroup") != std::string::npos
                                 ? "arn:aws:eks:eu-west-1:123456789012:nodegroup/byoc-prod/" + group + "/0ac1b2c3"
                                 : "*";
      std::map<std::string, std::vector<std::string>> context = {{"aws:ResourceTag/byoc", {"true"}}};
      if (action == "CreateStack") context = {{"aws:RequestTag/byoc", {"true"}}, {"aws:TagKeys", {"byoc"}}};
      if (action == "CreateNodegroup") {
        const json tags = json::parse(r.body)["tags"];
        std::vector<std::string> keys;
        for (const auto& [key, value] : tags.items()) keys.push_back(key);
        context = {{"aws:RequestTag/byoc", {tags.value("byoc", "")}}, {"aws:TagKeys", keys}};
      }
      if (action != "SimulatePrincipalPolicy" && action != "GetCallerIdentity") {
        EXPECT_TRUE(byoc::testing::policy_allows(iam_action, resource, context)) << iam_action;
      }
    }
    json headers = json::object();
    for (const auto& [name, value] : r.headers) headers[name] = value;
    bool role = access_key(r) == kRoleKey;
    signer_input.push_back({{"method", r.method},
                            {"target", r.target},
                            {"headers", headers},
                            {"body", r.body},
                            {"region", scope(r)[1]},  // IAM, being global, signs for us-east-1
                            {"service", service},
                            {"credentials",
                             {{"accessKeyId", role ? kRoleKey : kPlaneKey},
                              {"secretAccessKey", role ? "rs" : "plane-secret"},
                              {"sessionToken", role ? "rt" : ""}}}});
  }
  // Nothing granted it doesn't need: each action the onboarding policy
  // grants for byoc's own calls (the management plane's group and the
  // stack's) is one this run made, or one of these, each for its reason.
  const std::map<std::string, std::string> not_in_this_run = {
      {"servicequotas:GetAWSDefaultServiceQuota", "a quota never adjusted in the account (preflight_test)"},
      {"ec2:DescribeSubnets", "read by CloudFormation's EKS cluster and node group handlers"},
      {"iam:GetRole", "read by CloudFormation's EKS cluster handler (the cluster role)"},
      {"elasticloadbalancing:DescribeLoadBalancers", "read by CloudFormation's endpoint-service handler (the NLB)"},
      {"cloudformation:UpdateStack", "a stack whose template changed (AStackThatNamedItsNodeGroupsLetsThemGoAndKeepsThem)"},
      {"cloudformation:GetTemplate", "a stack that named its node groups (AStackThatNamedItsNodeGroupsLetsThemGoAndKeepsThem)"}};
  std::set<std::string> called;
  for (const auto& r : log)
    if (!byoc::testing::is_kubernetes_request(r)) called.insert(signing_service(r) + ":" + operation(r));
  std::set<std::string> unexplained;
  for (const auto& group : vendor_action_groups()) {
    if (group.resource_type != "byoc management plane" && group.resource_type != "AWS::CloudFormation::Stack") continue;
    for (const auto& grant : group.grants)
      for (const auto& action : grant.actions)
        if (!called.count(action) && !not_in_this_run.count(action)) unexplained.insert(action);
  }
  EXPECT_TRUE(unexplained.empty()) << "granted but never needed: " << ::testing::PrintToString(unexplained);

  EXPECT_EQ(create_tokens.size(), 1u);
  EXPECT_EQ(update_tokens.size(), 0u);
  EXPECT_EQ(delete_tokens.size(), 1u);
  // Named after the operation they serve (its id begins them).
  EXPECT_EQ(create_tokens.begin()->rfind(op["id"].get<std::string>() + "-", 0), 0u) << *create_tokens.begin();
  EXPECT_EQ(delete_tokens.begin()->rfind(delete_op["id"].get<std::string>() + "-", 0), 0u) << *delete_tokens.begin();
  EXPECT_TRUE(role_sessions.count("byoc-" + *create_tokens.begin())) << "the session names the action";
  EXPECT_TRUE(role_sessions.count("byoc-" + *delete_tokens.begin()));

  std::optional<int> status;
  std::string out = byoc::testing::verify_with_aws_signer(signer_input, status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_GT(kube_calls, 6);
  EXPECT_NE(out.find("verified " + std::to_string(log.size()) + " of " + std::to_string(log.size())),
            std::string::npos)
      << out;
  std::cout << "contract: " << log.size() << " calls, signatures: " << out;
}

// A stack an older byoc made names its node groups (AWS::EKS::Nodegroup):
// dropped from the template at once, CloudFormation would delete them with
// their nodes. The driver first marks them DeletionPolicy Retain under the
// stack's own template, then drops them; they run on, the driver's. Then: a
// group that fails is said, and a retry makes it again; a group that can't
// be deleted keeps the environment DELETING with EKS's reason on it.
TEST_F(AwsDriverContract, AStackThatNamedItsNodeGroupsLetsThemGoAndKeepsThem) {
  create_environment();
  ASSERT_TRUE(byoc::testing::eventually(
      [&] { return cluster->objects().count("/apis/apps/v1/namespaces/byoc-system/deployments/byoc-agent") > 0; },
      60s))
      << environment();
  ASSERT_EQ(cluster->creations().size(), 2u);
  // The stack as an older byoc left it: its groups in the template, no
  // NodeGroups output, another spec.
  json legacy = json::parse(cloudformation.stacks()[0].template_body);
  legacy["Outputs"].erase("NodeGroups");
  for (const auto& [logical_id, name] : std::map<std::string, std::string>{{"SystemNodegroup", "system"},
                                                                           {"NodegroupM7gdXlarge", "m7gd-xlarge"}})
    legacy["Resources"][logical_id] = {
        {"Type", "AWS::EKS::Nodegroup"},
        {"Properties", {{"ClusterName", {{"Ref", "Cluster"}}}, {"NodegroupName", name}, {"NodeRole", {{"Ref", "NodeRoleArn"}}}}}};
  cloudformation.rewrite("byoc-prod", legacy.dump(), "0ld5pec");
  ASSERT_TRUE(byoc::testing::eventually(
      [&] {
        auto stack = cloudformation.stacks()[0];
        return stack.status == "UPDATE_COMPLETE" && stack.template_body.find("AWS::EKS::Nodegroup") == std::string::npos;
      },
      60s))
      << environment();
  // Both left the stack retained; none was deleted; nothing made again.
  auto dropped = cloudformation.dropped_node_groups();
  std::sort(dropped.begin(), dropped.end());
  EXPECT_EQ(dropped, (std::vector<std::pair<std::string, bool>>{{"NodegroupM7gdXlarge", true}, {"SystemNodegroup", true}}));
  EXPECT_TRUE(cluster->deletions().empty());
  EXPECT_EQ(cluster->nodegroups().size(), 2u);
  EXPECT_EQ(cluster->creations().size(), 2u);
  // The first update was the stack's own template, only retained: GetTemplate, then UpdateStack.
  std::vector<std::map<std::string, std::string>> updates;
  bool got_template = false;
  for (const auto& r : calls()) {
    got_template |= r.action() == "GetTemplate" && updates.empty();
    if (r.action() == "UpdateStack") updates.push_back(r.form());
  }
  EXPECT_TRUE(got_template);
  ASSERT_EQ(updates.size(), 2u);
  json retained = legacy;
  for (const char* id : {"SystemNodegroup", "NodegroupM7gdXlarge"}) {
    retained["Resources"][id]["DeletionPolicy"] = "Retain";
  }
  EXPECT_EQ(json::parse(updates[0]["TemplateBody"]), retained);
  bool old_spec_kept = false;
  for (int i = 1; updates[0].count("Tags.member." + std::to_string(i) + ".Key"); ++i)
    old_spec_kept |= updates[0]["Tags.member." + std::to_string(i) + ".Value"] == "0ld5pec";
  EXPECT_TRUE(old_spec_kept) << "still out of date after it, so the next update follows";
  for (const auto& u : updates) EXPECT_EQ(u.at("Parameters.member.1.UsePreviousValue"), "true");
  EXPECT_NE(updates[1]["TemplateBody"].find("\"NodeGroups\""), std::string::npos);
  EXPECT_EQ(cloudformation.stacks()[0].parameters.at("KubernetesVersion"), "1.31");

  // A group EKS fails to make: said on the environment, once.
  cluster->fail_next_creation("AsgInstanceLaunchFailures", "Could not launch On-Demand Instances");
  auto [patched, body] = server.call("PATCH", "/v1/environments/prod", {{"instance_types", {"m7gd.xlarge", "r7gd.xlarge"}}});
  ASSERT_EQ(patched, 200) << body;
  ASSERT_TRUE(byoc::testing::eventually([&] { return environment_is("FAILED"); }, 60s)) << environment();
  json failed = environment();
  EXPECT_EQ(failed["reason"], "create_failed") << failed;
  EXPECT_NE(failed["message"].get<std::string>().find("r7gd-xlarge"), std::string::npos) << failed;
  EXPECT_NE(failed["message"].get<std::string>().find("AsgInstanceLaunchFailures"), std::string::npos) << failed;
  EXPECT_EQ(cluster->creations().size(), 3u) << "not tried again by itself";
  // A retry deletes it and makes it again.
  auto [retried, retry_op] = server.call("POST", "/v1/environments/prod/retry");
  ASSERT_EQ(retried, 202) << retry_op;
  ASSERT_TRUE(byoc::testing::eventually([&] { return cluster->creations().size() == 4; }, 60s)) << environment();
  ASSERT_TRUE(byoc::testing::eventually(
      [&] {
        auto groups = cluster->nodegroups();
        return groups.count("r7gd-xlarge") && groups["r7gd-xlarge"].value("status", "") == "ACTIVE";
      },
      60s))
      << environment();
  EXPECT_EQ(cluster->deletions(), std::vector<std::string>{"r7gd-xlarge"});

  // A group that can't be deleted: the environment says why, and its stack stays.
  cluster->fail_deletion_of("system");
  auto [deleted, delete_op] = server.call("DELETE", "/v1/environments/prod");
  ASSERT_EQ(deleted, 202) << delete_op;
  ASSERT_TRUE(byoc::testing::eventually(
      [&] { return environment().value("message", "").find("EKS node group system could not be deleted") != std::string::npos; },
      60s))
      << environment();
  EXPECT_NE(environment()["message"].get<std::string>().find("Ec2SecurityGroupDeletionFailure"), std::string::npos);
  EXPECT_EQ(environment()["state"], "DELETING");
  EXPECT_NE(cloudformation.stacks()[0].status, "DELETE_COMPLETE");
  cluster->fail_deletion_of("");
  ASSERT_TRUE(byoc::testing::eventually([&] { return server.call("GET", "/v1/environments/prod").first == 404; }, 60s))
      << environment();
  EXPECT_EQ(cloudformation.stacks()[0].status, "DELETE_COMPLETE");
}

TEST_F(AwsDriverContract, AKill9RightAfterCreateStackNeverMakesASecondStack) {
  // The server dies the moment CloudFormation has taken the create, before
  // it hears the answer (so before it records the stack's id).
  cloudformation.on_create([this] {
    if (cloudformation.created() == 1) ::kill(server.pid(), SIGKILL);
  });
  create_environment();
  ASSERT_TRUE(byoc::testing::eventually([&] { return cloudformation.created() == 1; }, 60s));
  server.kill9();
  cloudformation.on_create(nullptr);
  server.start();
  ASSERT_TRUE(byoc::testing::eventually(
      [&] { return cloudformation.stacks()[0].status == "CREATE_COMPLETE"; }, 60s));
  // Looked at a few more times: still one stack, and every CreateStack sent
  // carried the one token recorded before the first.
  auto looks = [&] {
    const std::vector<RecordedRequest> log = calls();
    return std::count_if(log.begin(), log.end(), [](const RecordedRequest& r) { return r.action() == "DescribeStacks"; });
  };
  const auto looked = looks();
  ASSERT_TRUE(byoc::testing::eventually([&] { return looks() >= looked + 3; }, 60s));
  EXPECT_EQ(cloudformation.created(), 1);
  std::set<std::string> tokens;
  for (const auto& r : calls())
    if (r.action() == "CreateStack") tokens.insert(r.form()["ClientRequestToken"]);
  EXPECT_EQ(tokens.size(), 1u);
  json env = environment();
  EXPECT_EQ(env["state"], "PROVISIONING") << env;
}

TEST_F(AwsDriverContract, AStackThatRollsBackEndsFailedWithTheResourceAndItsReason) {
  cloudformation.fail_creation_at(
      "EksCluster", "Resource handler returned message: \"Cannot create cluster 'byoc-prod' because eu-west-1b, "
                    "the targeted availability zone, does not currently have sufficient capacity\"");
  json op = create_environment();
  ASSERT_TRUE(byoc::testing::eventually([&] { return environment_is("FAILED"); }, 60s)) << environment();
  json env = environment();
  EXPECT_EQ(env["reason"], "rolled_back");
  EXPECT_NE(env["message"].get<std::string>().find("EksCluster"), std::string::npos) << env;
  EXPECT_NE(env["message"].get<std::string>().find("sufficient capacity"), std::string::npos) << env;
  json failed = server.wait_operation(op["id"]);
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_EQ(failed["error"]["code"], "rolled_back");
}

TEST_F(AwsDriverContract, WithoutTheRoleTheEnvironmentWaitsAndVerifyNamesWhatIsMissing) {
  {
    std::lock_guard lock(account.mutex);
    account.trust_refused = true;
  }
  create_environment();
  ASSERT_TRUE(byoc::testing::eventually([&] {
    json c = environment()["conditions"];
    return std::any_of(c.begin(), c.end(), [](const json& x) { return x["type"] == "customer_access"; });
  }, 60s));
  json env = environment();
  EXPECT_EQ(env["state"], "AWAITING_CUSTOMER_ROLE");
  EXPECT_NE(env["message"].get<std::string>().find("could not assume"), std::string::npos) << env;
  auto [status, check] = server.call("POST", "/v1/environments/prod/verify", json::object());
  ASSERT_EQ(status, 200) << check;
  EXPECT_FALSE(check["granted"].get<bool>());
  EXPECT_EQ(check["reason"], "assume_role_denied");

  // The customer deploys the role, but without one permission byoc needs.
  {
    std::lock_guard lock(account.mutex);  // both at once: the periodic check runs meanwhile
    account.trust_refused = false;
    account.denied_action = "cloudformation:CreateStack";
  }
  std::tie(status, check) = server.call("POST", "/v1/environments/prod/verify", json::object());
  ASSERT_EQ(status, 200) << check;
  EXPECT_EQ(check["reason"], "permissions_missing");
  EXPECT_NE(check["message"].get<std::string>().find("cloudformation:CreateStack"), std::string::npos) << check;
  EXPECT_EQ(cloudformation.created(), 0) << "nothing is created before the check passes";

  {
    std::lock_guard lock(account.mutex);
    account.denied_action = "";
  }
  std::tie(status, check) = server.call("POST", "/v1/environments/prod/verify", json::object());
  ASSERT_EQ(status, 200) << check;
  EXPECT_TRUE(check["granted"].get<bool>()) << check;
  ASSERT_TRUE(byoc::testing::eventually([&] { return cloudformation.created() == 1; }, 60s));
}

TEST_F(AwsDriverContract, AnEnvironmentNeverLetInIsDeletedWithoutAskingAws) {
  {
    std::lock_guard lock(account.mutex);
    account.trust_refused = true;
  }
  create_environment();
  ASSERT_TRUE(byoc::testing::eventually([&] { return !environment()["message"].get<std::string>().empty(); }, 60s));
  size_t asked = calls().size();
  auto [status, op] = server.call("DELETE", "/v1/environments/prod");
  ASSERT_EQ(status, 202) << op;
  ASSERT_TRUE(byoc::testing::eventually([&] { return server.call("GET", "/v1/environments/prod").first == 404; }, 30s));
  EXPECT_EQ(server.wait_operation(op["id"])["status"], "succeeded");
  for (size_t i = asked; i < calls().size(); ++i)
    EXPECT_NE(calls()[i].action(), "DeleteStack") << "nothing was made, nothing is deleted";
  EXPECT_EQ(cloudformation.created(), 0);
}

TEST_F(AwsDriverContract, AnotherEnvironmentsStackOfTheSameNameIsNeitherAdoptedNorDeleted) {
  // Same name, same account, another organisation's environment.
  cloudformation.put_stack("byoc-prod", "CREATE_COMPLETE", {{"byoc", "true"}, {"byoc-environment", "env-00000000000000aa"}});
  json op = create_environment();
  ASSERT_TRUE(byoc::testing::eventually([&] { return environment_is("FAILED"); }, 60s)) << environment();
  json env = environment();
  EXPECT_EQ(env["reason"], "invalid_request");
  EXPECT_NE(env["message"].get<std::string>().find("env-00000000000000aa"), std::string::npos) << env;
  for (const auto& r : calls()) {
    EXPECT_NE(r.action(), "CreateStack");
    EXPECT_NE(r.action(), "UpdateStack");
  }
  // Deleting this environment leaves the other's stack alone.
  ASSERT_EQ(server.call("DELETE", "/v1/environments/prod").first, 202);
  ASSERT_TRUE(byoc::testing::eventually([&] { return server.call("GET", "/v1/environments/prod").first == 404; }, 30s));
  for (const auto& r : calls()) EXPECT_NE(r.action(), "DeleteStack");
  EXPECT_EQ(cloudformation.stacks()[0].status, "CREATE_COMPLETE");
}

}  // namespace
}  // namespace byoc::aws
