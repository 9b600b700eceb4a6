// The onboarding and infra templates, structurally: references resolve, the
// onboarding policy grants exactly vendor_actions() and nothing with a
// wildcard, every taggable resource carries byoc=true, no security group
// admits traffic from outside the VPC, and each variant of the issue's list
// has the resources it promises. (Schema validity: cfn_validate.mjs.)
#include <gtest/gtest.h>

#include <algorithm>

#include "base/error.h"
#include "cloud/aws/network_plan.h"
#include "cloud/aws/templates/vendor_actions.h"
#include "template_checks.h"
#include "template_variants.h"

namespace byoc::aws {
namespace {

using nlohmann::json;
using testing::granted_actions;
using testing::infra_variants;
using testing::onboarding_variants;

std::vector<std::pair<std::string, json>> rendered_onboarding() {
  std::vector<std::pair<std::string, json>> out;
  for (auto& [name, o] : onboarding_variants()) out.emplace_back(name, render_onboarding_template(o));
  return out;
}

std::vector<std::pair<std::string, json>> rendered_infra() {
  std::vector<std::pair<std::string, json>> out;
  for (auto& [name, o] : infra_variants()) out.emplace_back(name, render_infra_template(o));
  return out;
}

std::vector<json> of_type(const json& tmpl, const std::string& type) {
  std::vector<json> out;
  for (auto& [_, r] : tmpl["Resources"].items())
    if (r["Type"] == type) out.push_back(r);
  return out;
}

std::vector<json> statements(const json& tmpl) {
  std::vector<json> out;
  for (const auto& r : of_type(tmpl, "AWS::IAM::ManagedPolicy"))
    for (const auto& st : r["Properties"]["PolicyDocument"]["Statement"]) out.push_back(st);
  return out;
}

bool is_read_only(const std::string& action) {
  std::string verb = action.substr(action.find(':') + 1);
  return verb.starts_with("Describe") || verb.starts_with("Get") || verb.starts_with("List") ||
         action == "iam:SimulatePrincipalPolicy";
}

template <typename F>
std::string error_field(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalid) << e.what();
    return e.field();
  }
  return "(accepted)";
}

TEST(Templates, EveryReferenceResolves) {
  for (auto& [name, t] : rendered_onboarding()) EXPECT_EQ(testing::unresolved_references(t), std::vector<std::string>{}) << name;
  for (auto& [name, t] : rendered_infra()) EXPECT_EQ(testing::unresolved_references(t), std::vector<std::string>{}) << name;
}

TEST(Templates, TheReferenceCheckCatchesDanglingNames) {
  json t = render_infra_template(testing::base_infra());
  t["Resources"]["Cluster"]["DependsOn"] = "Nowhere";
  t["Resources"]["Vpc"]["Properties"]["CidrBlock"] = {{"Fn::Sub", "${Missing}-${AWS::Region}-${Vpc.CidrBlock}"}};
  t["Resources"]["Cluster"]["Properties"]["RoleArn"] = {{"Fn::GetAtt", json::array({"Ghost", "Arn"})}};
  t["Outputs"]["X"] = {{"Value", {{"Ref", "Phantom"}}}};
  auto problems = testing::unresolved_references(t);
  EXPECT_EQ(problems.size(), 4u) << json(problems).dump();
}

TEST(Templates, NoWildcardActionAnywhere) {
  for (auto& [name, t] : rendered_onboarding()) EXPECT_EQ(testing::wildcard_actions(t), std::vector<std::string>{}) << name;
  for (auto& [name, t] : rendered_infra()) EXPECT_EQ(testing::wildcard_actions(t), std::vector<std::string>{}) << name;
  for (const auto& a : vendor_actions()) EXPECT_EQ(a.find('*'), std::string::npos) << a;
}

TEST(Templates, EveryTaggableResourceIsTaggedByoc) {
  for (auto& [name, t] : rendered_onboarding()) EXPECT_EQ(testing::untagged_resources(t), std::vector<std::string>{}) << name;
  for (auto& [name, t] : rendered_infra()) EXPECT_EQ(testing::untagged_resources(t), std::vector<std::string>{}) << name;
}

// ---- onboarding ----

TEST(OnboardingTemplate, RoleIsTrustedOnlyByTheManagementAccountWithTheExternalId) {
  for (auto& [name, t] : rendered_onboarding()) {
    auto roles = of_type(t, "AWS::IAM::Role");
    ASSERT_EQ(roles.size(), 1u);
    const json& trust = roles[0]["Properties"]["AssumeRolePolicyDocument"]["Statement"];
    ASSERT_EQ(trust.size(), 1u) << name;
    EXPECT_EQ(trust[0]["Effect"], "Allow");
    EXPECT_EQ(trust[0]["Action"], "sts:AssumeRole");
    EXPECT_EQ(trust[0]["Principal"], json({{"AWS", {{"Fn::Sub", "arn:${AWS::Partition}:iam::111122223333:root"}}}}));
    EXPECT_EQ(trust[0]["Condition"], json({{"StringEquals", {{"sts:ExternalId", {{"Ref", "ExternalId"}}}}}}));
    EXPECT_EQ(t["Parameters"]["ExternalId"]["Default"], "byoc-env-7f3a9c");
    EXPECT_EQ(t["Outputs"]["RoleArn"]["Value"], json({{"Fn::GetAtt", {"ManagementRole", "Arn"}}}));
  }
  EXPECT_EQ(rendered_onboarding()[0].second["Parameters"]["RoleName"]["Default"], "ByocManagementRole");
}

TEST(OnboardingTemplate, GrantsExactlyTheVendorActions) {
  auto wanted = vendor_actions();
  for (auto& [name, t] : rendered_onboarding())
    EXPECT_EQ(granted_actions(t), std::set<std::string>(wanted.begin(), wanted.end())) << name;
  // The management plane's own calls are among them.
  for (std::string a :
       {"sts:GetCallerIdentity", "cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DeleteStack",
        "cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents", "eks:DescribeCluster",
        "ec2:DescribeAvailabilityZones", "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeVpcs", "ec2:DescribeSubnets",
        "servicequotas:GetServiceQuota", "servicequotas:ListServiceQuotas", "iam:SimulatePrincipalPolicy",
        "iam:GetRole", "elasticloadbalancing:DescribeLoadBalancers"})
    EXPECT_TRUE(std::binary_search(wanted.begin(), wanted.end(), a)) << a;
  EXPECT_FALSE(std::binary_search(wanted.begin(), wanted.end(), "s3:DeleteBucket"));
  EXPECT_FALSE(std::binary_search(wanted.begin(), wanted.end(), "logs:DeleteLogGroup"));
}

TEST(OnboardingTemplate, EveryInfraResourceTypeHasItsActions) {
  std::set<std::string> covered;
  for (const auto& g : vendor_action_groups()) covered.insert(g.resource_type);
  for (auto& [name, t] : rendered_infra())
    for (auto& [logical, r] : t["Resources"].items())
      EXPECT_TRUE(covered.count(r["Type"])) << name << " " << logical << " " << r["Type"];
}

TEST(OnboardingTemplate, OnlyReadsGoUnfenced) {
  for (auto& [name, t] : rendered_onboarding()) {
    for (json st : statements(t)) {
      if (st["Resource"] != "*" || st.contains("Condition")) continue;
      for (const auto& a : st["Action"]) EXPECT_TRUE(is_read_only(a)) << name << " " << a << " is on * unconditioned";
    }
  }
}

TEST(OnboardingTemplate, CreatesRequireTheTagAndChangesATaggedResource) {
  for (auto& [name, t] : rendered_onboarding()) {
    int creates = 0, changes = 0;
    for (json st : statements(t)) {
      json c = st.value("Condition", json::object());
      const bool named = st["Resource"] != "*";
      for (const auto& a : st["Action"]) {
        std::string verb = a.get<std::string>().substr(a.get<std::string>().find(':') + 1);
        // A route is part of its route table: adding one changes a tagged
        // resource (below). Tagging and service-linked roles have their own fences.
        if ((verb.starts_with("Create") || verb == "AllocateAddress") && verb != "CreateTags" &&
            verb != "CreateServiceLinkedRole" && verb != "CreateRoute" && !named) {
          EXPECT_EQ(c["StringEquals"]["aws:RequestTag/byoc"], "true") << a;
          EXPECT_EQ(c["ForAnyValue:StringEquals"]["aws:TagKeys"], json::array({"byoc"})) << a;
          ++creates;
        }
        if ((verb.starts_with("Delete") || verb.starts_with("Modify") || verb.starts_with("Update") ||
             verb.starts_with("Replace") || verb.starts_with("Attach") || verb.starts_with("Associate") ||
             verb.starts_with("Authorize") || verb.starts_with("Revoke") || verb == "CreateRoute") &&
            verb != "DeleteTags" && !named) {
          EXPECT_EQ(c["StringEquals"]["aws:ResourceTag/byoc"], "true") << a;
          ++changes;
        }
      }
    }
    EXPECT_GT(creates, 5) << name;
    EXPECT_GT(changes, 10) << name;
  }
}

TEST(OnboardingTemplate, FencesByNameWhereAServiceKeysByName) {
  for (auto& [name, t] : rendered_onboarding()) {
    for (json st : statements(t)) {
      if (st["Resource"] == "*") continue;
      for (const auto& r : st["Resource"]) {
        std::string arn = r.is_string() ? r.get<std::string>() : r["Fn::Sub"].get<std::string>();
        bool fenced = arn.find("/byoc-") != std::string::npos || arn.find(":::byoc-") != std::string::npos ||
                      arn.ends_with("role/${RoleName}") || arn.ends_with("role/aws-service-role/*");
        EXPECT_TRUE(fenced) << name << " " << arn;
      }
    }
  }
}

TEST(OnboardingTemplate, PassRoleOnlyOfByocRolesToEksAndEc2) {
  auto t = rendered_onboarding()[0].second;
  int found = 0;
  for (json st : statements(t)) {
    if (std::find(st["Action"].begin(), st["Action"].end(), "iam:PassRole") == st["Action"].end()) continue;
    ++found;
    EXPECT_EQ(st["Action"].size(), 1u);
    EXPECT_EQ(st["Resource"], json::array({{{"Fn::Sub", "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/byoc-*"}}}));
    EXPECT_EQ(st["Condition"]["StringEquals"]["iam:PassedToService"], json({"eks.amazonaws.com", "ec2.amazonaws.com"}));
  }
  EXPECT_EQ(found, 1);
  // …and the infra template's roles are byoc- roles (so the fence fits),
  // attaching only the managed policies the onboarding admits.
  const auto& allowed = eks_managed_policy_arns();
  for (auto& [name, infra] : rendered_infra()) {
    for (const auto& role : of_type(infra, "AWS::IAM::Role")) {
      EXPECT_TRUE(role["Properties"]["RoleName"].get<std::string>().starts_with("byoc-")) << name;
      for (const auto& arn : role["Properties"].value("ManagedPolicyArns", json::array()))
        EXPECT_NE(std::find(allowed.begin(), allowed.end(), arn["Fn::Sub"].get<std::string>()), allowed.end()) << arn;
    }
  }
}

TEST(OnboardingTemplate, PermissionsBoundaryBindsRoleChangesWhenGiven) {
  auto variants = rendered_onboarding();
  auto creates_role = [](const json& st) {
    return std::find(st["Action"].begin(), st["Action"].end(), "iam:CreateRole") != st["Action"].end();
  };
  for (json st : statements(variants[0].second))
    if (creates_role(st)) {
      EXPECT_FALSE(st["Condition"]["StringEquals"].contains("iam:PermissionsBoundary"));
    }
  int bound = 0;
  for (json st : statements(variants[1].second)) {
    if (!st.contains("Condition") || !st["Condition"].contains("StringEquals")) continue;
    if (st["Condition"]["StringEquals"].contains("iam:PermissionsBoundary")) {
      EXPECT_EQ(st["Condition"]["StringEquals"]["iam:PermissionsBoundary"],
                "arn:aws:iam::444455556666:policy/byoc-boundary");
      ++bound;
    }
    if (creates_role(st)) {
      EXPECT_TRUE(st["Condition"]["StringEquals"].contains("iam:PermissionsBoundary"));
    }
  }
  EXPECT_EQ(bound, 3);  // CreateRole, Attach/DetachRolePolicy, Put/DeleteRolePolicy
  // The infra template sets that boundary on every role it makes.
  for (auto& [name, o] : infra_variants()) {
    if (o.permissions_boundary.empty()) continue;
    for (const auto& role : of_type(render_infra_template(o), "AWS::IAM::Role"))
      EXPECT_EQ(role["Properties"]["PermissionsBoundary"], o.permissions_boundary) << name;
  }
}

TEST(OnboardingTemplate, EachPolicyFitsIamsSizeLimit) {
  for (auto& [name, t] : rendered_onboarding()) {
    auto policies = of_type(t, "AWS::IAM::ManagedPolicy");
    EXPECT_EQ(policies.size(), 4u);  // stack, network, cluster, identity
    for (const auto& p : policies) EXPECT_LE(p["Properties"]["PolicyDocument"].dump().size(), 6144u) << name;
  }
}

TEST(OnboardingTemplate, QuickCreateUrl) {
  EXPECT_EQ(onboarding_quick_create_url("eu-west-1", "https://b.s3.amazonaws.com/onboarding.json", "byoc-onboarding",
                                        "id+/=1"),
            "https://console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/quickcreate?templateURL="
            "https%3A%2F%2Fb.s3.amazonaws.com%2Fonboarding.json&stackName=byoc-onboarding&param_ExternalId=id%2B%2F%3D1");
}

TEST(OnboardingTemplate, RefusesBadOptions) {
  OnboardingOptions good = onboarding_variants()[0].second;
  auto with = [&](auto change) {
    OnboardingOptions o = good;
    change(o);
    return error_field([&] { render_onboarding_template(o); });
  };
  EXPECT_EQ(with([](auto& o) { o.management_account = "12345"; }), "management_account");
  EXPECT_EQ(with([](auto& o) { o.external_id = "x"; }), "external_id");
  EXPECT_EQ(with([](auto& o) { o.external_id = "has space"; }), "external_id");
  EXPECT_EQ(with([](auto& o) { o.permissions_boundary = "boundary"; }), "permissions_boundary");
  EXPECT_EQ(with([](auto& o) { o.role_name = ""; }), "role_name");
}

// ---- infra ----

TEST(InfraTemplate, FitsCloudFormationsTemplateBodyLimit) {
  for (auto& [name, t] : rendered_infra()) EXPECT_LE(t.dump().size(), 51200u) << name;
}

TEST(InfraTemplate, EksApiAdmitsExactlyTheGivenCidrsOrIsPrivate) {
  for (auto& [name, o] : infra_variants()) {
    json t = render_infra_template(o);
    const json& vpc = t["Resources"]["Cluster"]["Properties"]["ResourcesVpcConfig"];
    EXPECT_EQ(vpc["EndpointPrivateAccess"], true);
    if (o.private_api) {
      EXPECT_EQ(vpc["EndpointPublicAccess"], false) << name;
      EXPECT_FALSE(vpc.contains("PublicAccessCidrs")) << name;
    } else {
      EXPECT_EQ(vpc["EndpointPublicAccess"], true) << name;
      EXPECT_EQ(vpc["PublicAccessCidrs"], json(o.api_allowed_cidrs)) << name;
    }
    EXPECT_EQ(t["Resources"]["Cluster"]["Properties"]["Logging"]["ClusterLogging"]["EnabledTypes"],
              json::parse(R"([{"Type":"api"},{"Type":"audit"},{"Type":"authenticator"}])"));
  }
}

TEST(InfraTemplate, NoSecurityGroupAdmitsAnythingFromOutsideTheVpc) {
  for (auto& [name, o] : infra_variants()) {
    json t = render_infra_template(o);
    Ipv4Cidr vpc = *parse_ipv4_cidr(o.cidr);
    EXPECT_TRUE(of_type(t, "AWS::EC2::SecurityGroupIngress").empty());
    auto groups = of_type(t, "AWS::EC2::SecurityGroup");
    EXPECT_EQ(groups.size(), 2u);
    for (const auto& g : groups) {
      for (const auto& rule : g["Properties"].value("SecurityGroupIngress", json::array())) {
        ASSERT_TRUE(rule.contains("CidrIp")) << rule;  // no prefix lists, groups or IPv6 from elsewhere
        EXPECT_FALSE(rule.contains("CidrIpv6"));
        auto cidr = parse_ipv4_cidr(rule["CidrIp"].get<std::string>());
        ASSERT_TRUE(cidr);
        EXPECT_TRUE(vpc.contains(*cidr)) << name << " " << rule;
      }
    }
  }
}

TEST(InfraTemplate, SubnetsAndNatFollowThePlan) {
  for (auto& [name, o] : infra_variants()) {
    if (!o.existing.vpc_id.empty()) continue;
    json t = render_infra_template(o);
    NetworkPlan plan = plan_network(o.cidr, o.zones);
    const json& r = t["Resources"];
    EXPECT_EQ(r["Vpc"]["Properties"]["CidrBlock"], o.cidr);
    EXPECT_EQ(of_type(t, "AWS::EC2::Subnet").size(), 2 * o.zones.size());
    for (size_t i = 0; i < plan.zones.size(); ++i) {
      std::string n = std::to_string(i + 1);
      EXPECT_EQ(r["PrivateSubnet" + n]["Properties"]["CidrBlock"], plan.zones[i].private_subnet.str());
      EXPECT_EQ(r["PublicSubnet" + n]["Properties"]["CidrBlock"], plan.zones[i].public_subnet.str());
      EXPECT_EQ(r["PrivateSubnet" + n]["Properties"]["AvailabilityZone"], o.zones[i]);
      std::string nat = r["PrivateDefaultRoute" + n]["Properties"]["NatGatewayId"]["Ref"];
      EXPECT_EQ(nat, o.nat == NatMode::kPerZone ? "NatGateway" + n : "NatGateway1") << name;
    }
    size_t nats = o.nat == NatMode::kPerZone ? o.zones.size() : 1;
    EXPECT_EQ(of_type(t, "AWS::EC2::NatGateway").size(), nats) << name;
    EXPECT_EQ(of_type(t, "AWS::EC2::EIP").size(), nats) << name;
    EXPECT_EQ(of_type(t, "AWS::EC2::InternetGateway").size(), 1u);
    EXPECT_EQ(of_type(t, "AWS::EC2::SubnetRouteTableAssociation").size(), 2 * o.zones.size());
    EXPECT_EQ(r["S3GatewayEndpoint"]["Properties"]["RouteTableIds"].size(), o.zones.size() + 1);
  }
}

TEST(InfraTemplate, ExistingVpcHasNoNetworkResources) {
  for (auto& [name, o] : infra_variants()) {
    if (o.existing.vpc_id.empty()) continue;
    json t = render_infra_template(o);
    for (std::string type : {"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::InternetGateway",
                             "AWS::EC2::VPCGatewayAttachment", "AWS::EC2::NatGateway", "AWS::EC2::EIP",
                             "AWS::EC2::RouteTable", "AWS::EC2::Route", "AWS::EC2::SubnetRouteTableAssociation",
                             "AWS::EC2::VPCEndpoint"})
      EXPECT_TRUE(of_type(t, type).empty()) << type;
    EXPECT_EQ(t["Resources"]["Cluster"]["Properties"]["ResourcesVpcConfig"]["SubnetIds"],
              json(o.existing.private_subnets));
    for (const auto& g : of_type(t, "AWS::EKS::Nodegroup"))
      EXPECT_EQ(g["Properties"]["Subnets"], json(o.existing.private_subnets));
    EXPECT_EQ(t["Outputs"]["VpcId"]["Value"], o.existing.vpc_id);
    EXPECT_EQ(t["Resources"]["EndpointSecurityGroup"]["Properties"]["VpcId"], o.existing.vpc_id);
  }
}

TEST(InfraTemplate, NodeGroupsPerInstanceTypeFromZero) {
  for (auto& [name, o] : infra_variants()) {
    json t = render_infra_template(o);
    auto groups = of_type(t, "AWS::EKS::Nodegroup");
    ASSERT_EQ(groups.size(), o.instance_types.size() + 1) << name;
    int clickhouse = 0;
    for (const auto& g : groups) {
      const json& p = g["Properties"];
      const std::string type = p["InstanceTypes"][0];
      EXPECT_EQ(p["Labels"]["byoc.io/instance-type"], type);
      if (o.existing.vpc_id.empty()) {
        for (size_t i = 1; i <= o.zones.size(); ++i)
          EXPECT_NE(std::find(g["DependsOn"].begin(), g["DependsOn"].end(), "PrivateDefaultRoute" + std::to_string(i)),
                    g["DependsOn"].end())
              << name << ": nodes must wait for their NAT route";
      }
      const bool graviton = type.substr(0, type.find('.')).find('g', 1) != std::string::npos;
      EXPECT_EQ(p["AmiType"], graviton ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD") << type;
      if (p["Labels"]["byoc.io/role"] == "system") continue;
      ++clickhouse;
      EXPECT_EQ(p["ScalingConfig"]["MinSize"], 0);
      EXPECT_EQ(p["Taints"][0]["Key"], "byoc.io/clickhouse");
      EXPECT_EQ(p["Taints"][0]["Effect"], "NO_SCHEDULE");
    }
    EXPECT_EQ(clickhouse, static_cast<int>(o.instance_types.size()));
  }
}

TEST(InfraTemplate, BackupBucketIsPrivateEncryptedAndKept) {
  json t = render_infra_template(testing::base_infra());
  const json& b = t["Resources"]["BackupBucket"];
  EXPECT_EQ(b["DeletionPolicy"], "Retain");
  EXPECT_EQ(b["Properties"]["BucketName"]["Fn::Sub"], "byoc-prod-${AWS::AccountId}-${AWS::Region}");
  EXPECT_EQ(b["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
             ["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
            "AES256");
  for (auto& [k, v] : b["Properties"]["PublicAccessBlockConfiguration"].items()) EXPECT_EQ(v, true) << k;
  EXPECT_EQ(b["Properties"]["PublicAccessBlockConfiguration"].size(), 4u);
  EXPECT_EQ(b["Properties"]["OwnershipControls"]["Rules"][0]["ObjectOwnership"], "BucketOwnerEnforced");
  EXPECT_EQ(t["Resources"]["ClusterLogGroup"]["DeletionPolicy"], "Retain");
}

TEST(InfraTemplate, OutputsWhatTheDriverReads) {
  for (auto& [name, t] : rendered_infra())
    for (std::string key : {"VpcId", "PrivateSubnetIds", "ClusterName", "ClusterEndpoint",
                            "ClusterCertificateAuthority", "NodeRoleArn", "BackupBucketName", "EndpointServiceId"})
      EXPECT_TRUE(t["Outputs"].contains(key)) << name << " " << key;
}

TEST(InfraTemplate, EndpointServiceAndPeering) {
  json t = render_infra_template(testing::base_infra());
  EXPECT_EQ(t["Parameters"]["EndpointPrincipals"]["Default"], "arn:aws:iam::111122223333:root");
  EXPECT_EQ(t["Resources"]["EndpointServicePermissions"]["Properties"]["AllowedPrincipals"],
            json({{"Ref", "EndpointPrincipals"}}));
  EXPECT_EQ(t["Resources"]["EndpointLoadBalancer"]["Properties"]["Scheme"], "internal");
  EXPECT_FALSE(t["Resources"].contains("PeeringAccepterRole"));
  auto variants = infra_variants();
  auto peering = std::find_if(variants.begin(), variants.end(), [](auto& v) { return v.first == "infra-6zones-largest"; });
  json p = render_infra_template(peering->second);
  EXPECT_EQ(p["Resources"]["PeeringAccepterRole"]["Condition"], "HasPeerAccount");
  EXPECT_EQ(of_type(p, "AWS::EC2::Route").size(), 1 + 6 + 6u);  // public default, private defaults, peer routes
  EXPECT_EQ(p["Resources"]["PeeringAccepterRole"]["Properties"]["RoleName"], "byoc-prod-peering-accepter");
}

TEST(InfraTemplate, RefusesBadOptions) {
  auto with = [](auto change) {
    InfraOptions o = testing::base_infra();
    change(o);
    return error_field([&] { render_infra_template(o); });
  };
  EXPECT_EQ(with([](auto& o) { o.name = "Prod"; }), "name");
  EXPECT_EQ(with([](auto& o) { o.name = "a-very-long-environment-name"; }), "name");
  EXPECT_EQ(with([](auto& o) { o.region = "mars"; }), "region");
  EXPECT_EQ(with([](auto& o) { o.zones = {"us-east-1a", "us-west-2b"}; }), "zones");
  EXPECT_EQ(with([](auto& o) { o.cidr = "10.0.0.0/24"; }), "cidr");
  EXPECT_EQ(with([](auto& o) { o.api_allowed_cidrs.clear(); }), "api_allowed_cidrs");
  EXPECT_EQ(with([](auto& o) { o.api_allowed_cidrs = {"0.0.0.0/0"}; }), "api_allowed_cidrs");
  EXPECT_EQ(with([](auto& o) { o.api_allowed_cidrs = {"203.0.113.1/24"}; }), "api_allowed_cidrs");
  EXPECT_EQ(with([](auto& o) { o.private_api = true; }), "api_allowed_cidrs");
  EXPECT_EQ(with([](auto& o) { o.instance_types = {"m6i.xlarge", "m6i.xlarge"}; }), "instance_types");
  EXPECT_EQ(with([](auto& o) { o.instance_types = {"huge"}; }), "instance_types");
  EXPECT_EQ(with([](auto& o) { o.endpoint_principals = {"*"}; }), "endpoint_principals");
  EXPECT_EQ(with([](auto& o) { o.eks_version = "latest"; }), "eks_version");
  EXPECT_EQ(with([](auto& o) { o.existing.private_subnets = {"subnet-0a000000000000001"}; }), "existing_vpc");
  EXPECT_EQ(with([](auto& o) {
              o.existing.vpc_id = "vpc-0abc12345678def90";
              o.existing.private_subnets = {"subnet-0a000000000000001"};
            }),
            "private_subnets");
}

}  // namespace
}  // namespace byoc::aws
